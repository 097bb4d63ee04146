// A virtualised list with fixed-height rows: only the rows in (or just around) the viewport
// exist in the DOM, absolutely positioned inside a spacer as tall as the whole list. Rows are
// keyed (event id, camera id): a row that stays visible keeps its element and only moves, so
// new items arriving at the top cost a transform per row, not a re-render.

const OVERSCAN_ROWS = 6;
const POOL_LIMIT = 64;

export class VirtualList {
  /**
   * @param viewport scrollable element that will hold the list
   * @param options {rowHeight, createRow() -> Element, renderRow(el, item, isNew), keyOf(item)}
   */
  constructor(viewport, { rowHeight, createRow, renderRow, keyOf }) {
    this.viewport = viewport;
    this.rowHeight = rowHeight;
    this.createRow = createRow;
    this.renderRow = renderRow;
    this.keyOf = keyOf;
    this.count = 0;
    this.itemAt = () => undefined;
    this.live = new Map();
    this.pool = [];
    this.frame = 0;
    this.height = -1;
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    viewport.append(this.spacer);
    viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(viewport);
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
  }

  /** Points the list at its items: `count` of them, `itemAt(i)` for i in 0..count-1, top first. */
  setSource(count, itemAt) {
    this.count = count;
    this.itemAt = itemAt;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(false);
    });
  }

  /**
   * Syncs the DOM with the visible slice; with `refresh` every visible row is re-rendered
   * (the items changed in place, or the language did). Returns how many rows were rendered.
   */
  render(refresh = false) {
    const { rowHeight, viewport } = this;
    const total = this.count * rowHeight;
    if (total !== this.height) {
      this.height = total;
      this.spacer.style.height = `${total}px`;
    }
    const top = viewport.scrollTop;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN_ROWS);
    const last = Math.min(this.count - 1, Math.ceil((top + viewport.clientHeight) / rowHeight) + OVERSCAN_ROWS);

    let rendered = 0;
    const next = new Map();
    for (let i = first; i <= last; i++) {
      const item = this.itemAt(i);
      const key = this.keyOf(item);
      let el = this.live.get(key);
      if (el) {
        this.live.delete(key);
        if (refresh) {
          this.renderRow(el, item, false);
          rendered++;
        }
      } else {
        el = this.pool.pop() ?? this.createRow();
        this.renderRow(el, item, true);
        rendered++;
        this.spacer.append(el);
      }
      const y = i * rowHeight;
      if (el.vlistY !== y) {
        el.vlistY = y;
        el.style.transform = `translateY(${y}px)`;
      }
      next.set(key, el);
    }
    // Rows that scrolled away leave the DOM (so tests and screen readers see only real rows)
    // and wait in a small pool for reuse.
    for (const el of this.live.values()) {
      el.remove();
      if (this.pool.length < POOL_LIMIT) this.pool.push(el);
    }
    this.live = next;
    return rendered;
  }

  scrollToTop() {
    this.viewport.scrollTop = 0;
  }
}
