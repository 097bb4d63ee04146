// A small element builder. Text always goes in through textContent, never innerHTML: event
// fields (plates, reasons, error texts) come from cameras and users and must not become markup.

/**
 * el('div', {class: 'row', testid: 'feed-row', data: {kind: 'x'}, attrs: {title: '…'},
 *            text: '…', on: {click: fn}}, ...children)
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { class: className, testid, data, attrs, text, on } = props;
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  if (data) for (const [k, v] of Object.entries(data)) if (v !== undefined && v !== null) node.dataset[k] = String(v);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (on) for (const [type, fn] of Object.entries(on)) node.addEventListener(type, fn);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** The element with this data-testid under `root`; throws if the template lacks it. */
export function byTestId(root, testid) {
  const node = root.querySelector(`[data-testid="${testid}"]`);
  if (!node) throw new Error(`missing element data-testid=${testid}`);
  return node;
}

