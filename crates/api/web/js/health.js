// The camera health wall: summary counts, then every camera in a virtualised table, worst
// first (the order comes precomputed from the camera worker). Visible rows are refreshed on
// every camera poll and once a second for the "last frame … ago" column.
import { HEALTH, HEALTH_NAMES, STATES, STALE_AFTER_MS } from './camera-columns.js';
import { byTestId, el } from './dom.js';
import { formatAge, formatDuration, formatNumber, formatTime } from './format.js';
import { t } from './i18n.js';
import { serverNow } from './clock.js';
import { VirtualList } from './vlist.js';

const ROW_HEIGHT = 30;

export class HealthWall {
  /**
   * @param panel the health tab panel
   * @param options {table: CameraTable, onSelect(cameraId)}
   */
  constructor(panel, { table, onSelect }) {
    this.panel = panel;
    this.table = table;
    this.onSelect = onSelect;
    this.summary = byTestId(panel, 'health-summary');
    this.message = panel.querySelector('.health-message');
    this.list = new VirtualList(panel.querySelector('.health-list'), {
      rowHeight: ROW_HEIGHT,
      createRow: () => this.createRow(),
      renderRow: (row, i) => this.renderRow(row, i),
      keyOf: (i) => this.table.ids[i],
    });
    this.list.viewport.addEventListener('click', (e) => this.rowActivated(e));
    this.list.viewport.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.rowActivated(e);
    });
    this.unsubscribe = table.onChange(() => this.update());
    // Ages tick every second; cheap because only the visible rows are touched.
    this.timer = setInterval(() => {
      if (!this.panel.hidden) this.list.render(true);
    }, 1000);
    this.update();
  }

  destroy() {
    clearInterval(this.timer);
    this.unsubscribe();
    this.list.destroy();
  }

  update() {
    const table = this.table;
    const order = table.order;
    this.list.setSource(order.length, (k) => order[k]);
    this.list.render(true);
    this.renderSummary();
    if (table.error) this.message.textContent = table.error.detail;
    else if (!table.loaded) this.message.textContent = t('health.loading');
    else if (table.n === 0) this.message.textContent = t('health.empty');
    else this.message.textContent = '';
    this.message.hidden = !this.message.textContent;
  }

  renderSummary() {
    const c = this.table.counts;
    const count = (cls, testid, label, n) =>
      el('span', { class: `health-count ${cls}`, testid },
        el('span', { class: 'health-count-n', text: n }),
        el('span', { class: 'health-count-label', text: label }));
    const down = this.table.downCount();
    this.summary.replaceChildren(
      count('ok', 'health-count-streaming', t('health.streaming'), c.ok),
      count('degraded', 'health-count-degraded', t('health.degraded'), c.degraded),
      count('down', 'health-count-down', t('health.down'), down),
    );
    if (c.unknown) this.summary.append(el('span', { class: 'health-note', text: t('health.noReport', { n: c.unknown }) }));
  }

  /** Re-applies translated texts after a language change. */
  retranslate() {
    this.update();
  }

  /** Called when the tab becomes visible: the list could not measure itself while hidden. */
  shown() {
    this.list.render(true);
  }

  createRow() {
    return el('div', { class: 'health-row', testid: 'health-row', attrs: { role: 'row', tabindex: '0' } },
      el('span', { class: 'h-camera', attrs: { role: 'cell' } }),
      el('span', { class: 'h-state', attrs: { role: 'cell' } }),
      el('span', { class: 'h-fps num', attrs: { role: 'cell' } }),
      el('span', { class: 'h-last', attrs: { role: 'cell' } }),
      el('span', { class: 'h-reconnects num', attrs: { role: 'cell' } }),
      el('span', { class: 'h-error', attrs: { role: 'cell' } }));
  }

  renderRow(row, i) {
    const table = this.table;
    const [camera, state, fps, last, reconnects, error] = row.children;
    const cls = table.health[i];
    const now = serverNow();
    row.dataset.cameraId = table.ids[i];
    row.dataset.health = HEALTH_NAMES[cls];
    camera.textContent = table.names[i] === table.ids[i] ? table.ids[i] : `${table.names[i]} (${table.ids[i]})`;
    camera.title = table.ids[i];
    const stateName = STATES[table.state[i]];
    let stateText = t(`state.${stateName}`);
    const updated = table.updatedMs[i];
    if (cls !== HEALTH.UNKNOWN && now - updated > STALE_AFTER_MS) {
      stateText += t('health.stale', { d: formatDuration(now - updated) });
    }
    state.textContent = stateText;
    state.title = stateText;
    fps.textContent = formatNumber(table.fps[i], 1);
    last.textContent = formatAge(table.lastFrameMs[i], now);
    last.title = Number.isFinite(table.lastFrameMs[i]) ? formatTime(table.lastFrameMs[i]) : '';
    reconnects.textContent = String(table.reconnects[i]);
    const err = table.errors.get(i) ?? '';
    error.textContent = err;
    error.title = err;
  }

  rowActivated(e) {
    const row = e.target.closest('[data-camera-id]');
    if (row) this.onSelect(row.dataset.cameraId);
  }
}
