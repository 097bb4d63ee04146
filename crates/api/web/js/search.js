// Plate search: the plate's events (exact, or by prefix for a trailing * or a partial plate)
// and, for an exact plate, its trajectory across cameras, listed in time order and drawn on
// the map. Trajectories need the analyst role; a viewer is told so, in place.
import { isAbort } from './api.js';
import { byTestId, el } from './dom.js';
import { plateQuery } from './events.js';
import { formatTime } from './format.js';
import { t } from './i18n.js';
import { kindChip, plateChip } from './widgets.js';

const PAGE_SIZE = 200;
const TRAJECTORY_LIMIT = 1000;

export class PlateSearch {
  /**
   * @param panel the search tab panel
   * @param options {api, table: CameraTable, map: MapView, onOpen(eventId)}
   */
  constructor(panel, { api, table, map, onOpen }) {
    this.api = api;
    this.table = table;
    this.map = map;
    this.onOpen = onOpen;
    this.input = byTestId(panel, 'plate-search');
    this.status = byTestId(panel, 'search-status');
    this.results = panel.querySelector('.search-results');
    this.moreButton = byTestId(panel, 'search-more');
    this.trajectory = byTestId(panel, 'trajectory');
    this.trajectoryStatus = panel.querySelector('.trajectory-status');
    this.trajectoryList = panel.querySelector('.trajectory-list');
    this.clearButton = byTestId(panel, 'trajectory-clear');
    this.state = null;
    this.aborter = null;

    panel.querySelector('form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.search(this.input.value);
    });
    this.moreButton.addEventListener('click', () => this.loadMore());
    this.clearButton.addEventListener('click', () => this.clearTrajectory());
    const activate = (e) => {
      const item = e.target.closest('[data-event-id]');
      if (item) this.onOpen(item.dataset.eventId);
    };
    for (const list of [this.results, this.trajectoryList]) {
      list.addEventListener('click', activate);
      list.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') activate(e);
      });
    }
    this.render();
  }

  destroy() {
    this.aborter?.abort();
  }

  /** Runs a search for what the operator typed (also used by "search this plate" links). */
  async search(text) {
    this.input.value = text;
    this.aborter?.abort();
    const query = plateQuery(text);
    this.map.setTrajectory(null);
    if (!query) {
      this.state = null;
      this.render();
      return;
    }
    const aborter = new AbortController();
    this.aborter = aborter;
    const exact = query.param === 'plate';
    this.state = {
      query,
      status: 'loading',
      events: [],
      next: null,
      error: null,
      trajectory: { status: exact ? 'loading' : 'prefix', reads: [], error: null },
    };
    this.render();
    await Promise.all([this.fetchPage(this.state, aborter.signal), exact ? this.fetchTrajectory(this.state, aborter.signal) : null]);
  }

  async loadMore() {
    const state = this.state;
    if (!state?.next || state.status === 'loading') return;
    state.status = 'loading';
    this.render();
    await this.fetchPage(state, this.aborter.signal);
  }

  async fetchPage(state, signal) {
    const { param, value } = state.query;
    try {
      const page = await this.api.getJson('/api/v1/events', { [param]: value, limit: PAGE_SIZE, after: state.next }, { signal });
      state.events.push(...(page.events ?? []));
      state.next = page.next_after ?? null;
      state.status = 'done';
    } catch (err) {
      if (isAbort(err)) return;
      state.status = 'error';
      state.error = err;
    }
    if (this.state === state) this.render();
  }

  async fetchTrajectory(state, signal) {
    const traj = state.trajectory;
    try {
      const body = await this.api.getJson(`/api/v1/plates/${encodeURIComponent(state.query.value)}/trajectory`, { limit: TRAJECTORY_LIMIT }, { signal });
      traj.reads = body.reads ?? [];
      traj.status = 'done';
      if (this.state === state) this.map.setTrajectory(traj.reads);
    } catch (err) {
      if (isAbort(err)) return;
      // 403 is the role gate (viewers): an expected answer, shown as information.
      traj.status = err.status === 403 ? 'denied' : 'error';
      traj.error = err;
    }
    if (this.state === state) this.render();
  }

  clearTrajectory() {
    this.map.setTrajectory(null);
    if (this.state) {
      this.state.trajectory = { status: 'cleared', reads: [], error: null };
      this.render();
    }
  }

  retranslate() {
    this.render();
  }

  render() {
    const state = this.state;
    this.status.dataset.state = state ? state.status : 'idle';
    this.results.replaceChildren();
    this.trajectoryList.replaceChildren();
    this.moreButton.hidden = !(state?.next && state.status !== 'loading');
    if (!state) {
      this.status.textContent = t('search.idle');
      this.trajectory.dataset.state = 'idle';
      this.trajectoryStatus.textContent = '';
      this.clearButton.hidden = true;
      return;
    }
    const { param, value } = state.query;
    const label = param === 'plate' ? t('search.exact', { q: value }) : t('search.prefix', { q: value });
    const counts = {
      loading: t('search.loading'),
      error: t('detail.error', { detail: state.error?.detail }),
      done: state.events.length === 0 ? t('search.none') : state.next ? t('search.countMore', { n: state.events.length }) : t('search.count', { n: state.events.length }),
    };
    this.status.textContent = `${label} · ${counts[state.status]}`;
    this.results.append(...state.events.map((ev) => this.resultRow(ev)));
    this.renderTrajectory(state.trajectory);
  }

  resultRow(ev) {
    return el('li', { class: 'search-result', testid: 'search-result', data: { eventId: ev.id, kind: ev.kind }, attrs: { tabindex: '0', role: 'button' } },
      el('span', { class: 'time', text: formatTime(ev.ts) }),
      kindChip(ev.kind),
      el('span', { class: 'camera', text: this.table.nameOf(ev.camera_id), attrs: { title: ev.camera_id } }),
      plateChip(ev.plate?.text, ev.plate?.color));
  }

  renderTrajectory(traj) {
    this.trajectory.dataset.state = traj.status;
    this.clearButton.hidden = traj.status !== 'done' || traj.reads.length === 0;
    const messages = {
      loading: t('search.loading'),
      prefix: t('search.trajectoryPrefix'),
      denied: t('search.trajectoryDenied', { detail: traj.error?.detail }),
      error: t('detail.error', { detail: traj.error?.detail }),
      done: traj.reads.length ? t('search.trajectoryCount', { n: traj.reads.length }) : t('search.trajectoryNone'),
      cleared: '',
    };
    this.trajectoryStatus.textContent = messages[traj.status] ?? '';
    this.trajectoryStatus.classList.toggle('notice', traj.status === 'denied');
    if (traj.status !== 'done') return;
    this.trajectoryList.append(...traj.reads.map((read, i) =>
      el('li', { class: 'trajectory-point', testid: 'trajectory-point', data: { eventId: read.event_id, n: i + 1 }, attrs: { tabindex: '0', role: 'button' } },
        el('span', { class: 'badge', text: i + 1 }),
        el('span', { class: 'time', text: formatTime(read.ts) }),
        el('span', { class: 'camera', text: this.table.nameOf(read.camera_id), attrs: { title: read.camera_id } }),
        read.lat == null || read.lon == null ? el('span', { class: 'muted', text: t('search.unplaced') }) : null)));
  }
}
