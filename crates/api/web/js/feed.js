// The live feed: events from the live stream, newest on top. Arrivals are queued and applied
// in batches, in an animation frame and at most ten times a second, so 100 events/s cost ten
// list updates a second; the list is virtualised and capped at MAX_EVENTS. While paused,
// arrivals are held (also capped) and applied on resume.
import { byTestId, el } from './dom.js';
import { formatTime } from './format.js';
import { KINDS, isViolation } from './events.js';
import { kindLabel, t } from './i18n.js';
import { stats } from './stats.js';
import { VirtualList } from './vlist.js';
import { plateChip, setKindChip, setPlateChip, kindChip } from './widgets.js';

export const MAX_EVENTS = 5000;
// Trimming in batches keeps the cost of dropping old events off the per-frame path.
const TRIM_SLACK = 500;
const ROW_HEIGHT = 32;
// A violation that arrived this recently flashes when its row first appears.
const FLASH_WINDOW_MS = 2000;
// Arrivals are applied in an animation frame, and at most this often: at 100 events/s a list
// redrawn 60 times a second is no more readable than one redrawn 10 times, and costs 6x more.
const MIN_FLUSH_INTERVAL_MS = 100;

/** What a row needs from an event; the full event is fetched again when a row is opened. */
function toItem(ev, arrivedAt) {
  return {
    id: String(ev.id),
    kind: String(ev.kind),
    cameraId: String(ev.camera_id ?? ''),
    ts: ev.ts,
    plate: ev.plate?.text ?? '',
    color: ev.plate?.color ?? '',
    violation: isViolation(ev.kind),
    arrivedAt,
    time: null, // formatted when first shown
  };
}

export class Feed {
  /**
   * @param pane the .feed-pane element
   * @param options {table: CameraTable, onOpen(id), onFiltersChange(filters)}
   */
  constructor(pane, { table, onOpen, onFiltersChange }) {
    this.pane = pane;
    this.table = table;
    this.onOpen = onOpen;
    this.onFiltersChange = onFiltersChange;
    this.items = []; // oldest first; the list shows it reversed
    this.shown = this.items; // `items` filtered by the current filters (the same array when none)
    this.ids = new Set();
    this.incoming = [];
    this.held = [];
    this.droppedWhilePaused = 0;
    this.paused = false;
    this.filters = { kind: '', camera: '', plate: '' };
    this.frame = 0;
    this.timer = 0;
    this.lastFlush = -Infinity;
    this.lastReceived = 0;
    this.received = 0;
    this.rate = 0;
    this.flashed = new WeakSet();

    this.kindSelect = byTestId(pane, 'filter-kind');
    this.cameraInput = byTestId(pane, 'filter-camera');
    this.plateInput = byTestId(pane, 'filter-plate');
    this.pauseButton = byTestId(pane, 'feed-pause');
    this.rateEl = byTestId(pane, 'feed-rate');
    this.countEl = pane.querySelector('.feed-count');
    this.emptyEl = pane.querySelector('.feed-empty');
    this.list = new VirtualList(pane.querySelector('.feed-list'), {
      rowHeight: ROW_HEIGHT,
      createRow: () => this.createRow(),
      renderRow: (row, item, isNew) => this.renderRow(row, item, isNew),
      keyOf: (item) => item.id,
    });
    this.list.setSource(0, () => undefined);

    this.fillKindOptions();
    this.kindSelect.addEventListener('change', () => this.setFilters({ kind: this.kindSelect.value }));
    this.cameraInput.addEventListener('change', () => this.setFilters({ camera: this.cameraInput.value.trim() }));
    this.plateInput.addEventListener('change', () => this.setFilters({ plate: this.plateInput.value.trim().toUpperCase() }));
    byTestId(pane, 'filter-clear').addEventListener('click', () => this.setFilters({ kind: '', camera: '', plate: '' }));
    this.pauseButton.addEventListener('click', () => this.setPaused(!this.paused));
    this.updatePauseButton();
    this.list.viewport.addEventListener('click', (e) => this.rowActivated(e));
    this.list.viewport.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') this.rowActivated(e);
    });
    this.rateTimer = setInterval(() => this.tick(), 1000);
    this.unsubscribe = table.onChange((tbl) => {
      // Camera names arrive after the first events: refresh the visible rows once they do.
      if (tbl.identityVersion !== this.namesVersion) {
        this.namesVersion = tbl.identityVersion;
        this.render(true);
      }
    });
    this.namesVersion = table.identityVersion;
    this.tick();
    this.updateStatus();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    clearInterval(this.rateTimer);
    this.unsubscribe();
    this.list.destroy();
  }

  /** Whether this event arrived on the stream within the last `withinMs`. */
  arrivedRecently(id, withinMs) {
    if (!this.ids.has(id)) return false;
    // Recent arrivals are at the end of `items`: scan back only as far as the time window.
    const now = performance.now();
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i];
      if (now - item.arrivedAt > withinMs) return false;
      if (item.id === id) return true;
    }
    return false;
  }

  /** Called by the live stream for every event; cheap, the work happens in the next frame. */
  push(event) {
    stats.eventsReceived++;
    this.received++;
    this.incoming.push(event);
    this.scheduleFlush();
  }

  scheduleFlush() {
    if (this.frame || this.timer) return;
    const wait = this.lastFlush + MIN_FLUSH_INTERVAL_MS - performance.now();
    const inFrame = () => {
      this.timer = 0;
      this.frame = requestAnimationFrame(() => this.flush());
    };
    if (wait > 0) this.timer = setTimeout(inFrame, wait);
    else inFrame();
  }

  flush() {
    this.frame = 0;
    this.lastFlush = performance.now();
    if (!this.incoming.length) return;
    const now = performance.now();
    const batch = this.incoming;
    this.incoming = [];
    if (this.paused) {
      for (const ev of batch) this.held.push(toItem(ev, now));
      if (this.held.length > MAX_EVENTS) {
        this.droppedWhilePaused += this.held.length - MAX_EVENTS;
        this.held.splice(0, this.held.length - MAX_EVENTS);
      }
      this.updateStatus();
      return;
    }
    this.append(batch.map((ev) => toItem(ev, now)));
  }

  append(newItems) {
    const filtered = this.shown !== this.items;
    let added = 0;
    for (const item of newItems) {
      if (this.ids.has(item.id)) continue; // a reconnect can replay an event
      this.ids.add(item.id);
      this.items.push(item);
      if (!filtered) {
        added++;
      } else if (this.matches(item)) {
        this.shown.push(item);
        added++;
      }
    }
    if (this.items.length > MAX_EVENTS + TRIM_SLACK) this.trim();
    // An operator who scrolled down is reading: keep those rows in place as rows are added
    // above them. Near the top, stay at the top so new rows show.
    const viewport = this.list.viewport;
    if (added) viewport.scrollTop = viewport.scrollTop < ROW_HEIGHT / 2 ? 0 : viewport.scrollTop + added * ROW_HEIGHT;
    this.render(false);
  }

  trim() {
    const drop = this.items.length - MAX_EVENTS;
    for (let i = 0; i < drop; i++) this.ids.delete(this.items[i].id);
    this.items.splice(0, drop);
    this.reselect();
  }

  /** Recomputes `shown` from `items` (after a filter change or a trim). */
  reselect() {
    const { kind, camera, plate } = this.filters;
    this.shown = kind || camera || plate ? this.items.filter((item) => this.matches(item)) : this.items;
  }

  matches(item) {
    const { kind, camera, plate } = this.filters;
    return (!kind || item.kind === kind) && (!camera || item.cameraId === camera) && (!plate || item.plate === plate);
  }

  render(refresh) {
    const shown = this.shown;
    const n = shown.length;
    this.list.setSource(n, (i) => shown[n - 1 - i]);
    stats.rowsRendered += this.list.render(refresh);
    this.updateStatus();
  }

  /** Changes some filters; the list is re-filtered and the live stream reopened with them. */
  setFilters(changes) {
    const next = { ...this.filters, ...changes };
    if (next.kind === this.filters.kind && next.camera === this.filters.camera && next.plate === this.filters.plate) {
      this.syncFilterInputs();
      return;
    }
    this.filters = next;
    this.syncFilterInputs();
    this.reselect();
    this.list.scrollToTop();
    this.render(false);
    this.onFiltersChange({ ...next });
  }

  setCameraFilter(id) {
    this.setFilters({ camera: id || '' });
  }

  syncFilterInputs() {
    this.kindSelect.value = this.filters.kind;
    this.cameraInput.value = this.filters.camera;
    this.plateInput.value = this.filters.plate;
    this.pane.classList.toggle('filtered', Boolean(this.filters.kind || this.filters.camera || this.filters.plate));
  }

  setPaused(paused) {
    this.paused = paused;
    this.pane.classList.toggle('paused', paused);
    this.updatePauseButton();
    if (!paused) {
      this.droppedWhilePaused = 0;
      const held = this.held;
      this.held = [];
      if (held.length) this.append(held);
    }
    this.updateStatus();
  }

  updatePauseButton() {
    this.pauseButton.setAttribute('aria-pressed', String(this.paused));
    this.pauseButton.textContent = this.paused ? t('feed.resume') : t('feed.pause');
  }

  tick() {
    this.rate = this.received - this.lastReceived;
    this.lastReceived = this.received;
    this.rateEl.textContent = t('feed.rate', { n: this.rate });
  }

  updateStatus() {
    const parts = [t('feed.count', { n: this.shown.length })];
    if (this.paused) parts.push(t('feed.paused', { n: this.held.length }));
    if (this.droppedWhilePaused) parts.push(t('feed.dropped', { n: this.droppedWhilePaused }));
    this.countEl.textContent = parts.join(' · ');
    this.emptyEl.hidden = this.shown.length > 0;
  }

  /** Re-applies translated texts after a language change. */
  retranslate() {
    this.fillKindOptions();
    this.updatePauseButton();
    this.rateEl.textContent = t('feed.rate', { n: this.rate });
    this.render(true);
  }

  fillKindOptions() {
    const options = [el('option', { attrs: { value: '' }, text: t('kind.all') })];
    for (const kind of KINDS) options.push(el('option', { attrs: { value: kind }, text: kindLabel(kind) }));
    this.kindSelect.replaceChildren(...options);
    this.kindSelect.value = this.filters.kind;
  }

  createRow() {
    return el('div', { class: 'feed-row', testid: 'feed-row', attrs: { role: 'button', tabindex: '0' }, on: { animationend: (e) => e.currentTarget.classList.remove('flash') } },
      el('span', { class: 'feed-time' }),
      kindChip('plate_read'),
      el('span', { class: 'feed-camera' }),
      plateChip('', ''));
  }

  renderRow(row, item, isNew) {
    const [time, kind, camera, plate] = row.children;
    row.dataset.eventId = item.id;
    row.dataset.kind = item.kind;
    row.dataset.cameraId = item.cameraId;
    row.dataset.plate = item.plate;
    row.classList.toggle('violation', item.violation);
    // Live rows show the clock only (the date is today's); the full time is in the tooltip.
    item.time ??= formatTime(item.ts);
    time.textContent = item.time.slice(11);
    time.title = item.time;
    setKindChip(kind, item.kind);
    camera.textContent = this.table.nameOf(item.cameraId);
    camera.title = item.cameraId;
    setPlateChip(plate, item.plate, item.color);
    // Flash once per event, when its row first appears soon after arrival (not when an old
    // row scrolls back into view); the CSS animation's end removes the class.
    const flash = isNew && item.violation && !this.flashed.has(item) && performance.now() - item.arrivedAt < FLASH_WINDOW_MS;
    if (flash) this.flashed.add(item);
    row.classList.toggle('flash', flash);
  }

  rowActivated(e) {
    const row = e.target.closest('[data-event-id]');
    if (!row) return;
    e.preventDefault();
    this.onOpen(row.dataset.eventId);
  }
}
