// The cameras in the caller's scope, as columns indexed 0..n-1 (see camera-columns.js), kept
// up to date by the polling worker. The map, the health wall and the feed's camera names all
// read from this one table and redraw when it notifies them.
import { ApiError } from './api.js';

const POLL_INTERVAL_MS = 5000;

export class CameraTable {
  constructor() {
    this.loaded = false;
    this.error = null;
    this.n = 0;
    this.ids = [];
    this.names = [];
    this.departments = [];
    this.index = new Map();
    this.errors = new Map();
    this.counts = { ok: 0, degraded: 0, down: 0, unknown: 0, unplaced: 0 };
    this.nowMs = 0;
    this.skewMs = 0;
    /** Bumped on every snapshot; consumers compare it to skip work. */
    this.version = 0;
    /** Bumped only when the set of cameras (ids/names) changes. */
    this.identityVersion = 0;
    this.listeners = new Set();
    this.empty();
  }

  empty() {
    for (const k of ['mx', 'my', 'lastFrameMs', 'updatedMs']) this[k] = new Float64Array(0);
    this.fps = new Float32Array(0);
    this.health = new Uint8Array(0);
    this.state = new Uint8Array(0);
    this.masks = new Uint8Array(0);
    this.reconnects = new Uint32Array(0);
    this.order = new Uint32Array(0);
  }

  apply(s) {
    if (s.ids) {
      this.ids = s.ids;
      this.names = s.names;
      this.departments = s.departments;
      this.index = new Map(s.ids.map((id, i) => [id, i]));
      this.identityVersion++;
    }
    this.n = s.n;
    for (const k of ['mx', 'my', 'health', 'state', 'fps', 'lastFrameMs', 'updatedMs', 'reconnects', 'masks', 'order']) {
      this[k] = s[k];
    }
    this.errors = new Map(s.errors);
    this.counts = s.counts;
    this.nowMs = s.nowMs;
    this.skewMs = s.skewMs ?? 0;
    this.loaded = true;
    this.error = null;
    this.version++;
    this.notify();
  }

  fail(error) {
    this.error = error;
    this.notify();
  }

  indexOf(id) {
    return this.index.get(id) ?? -1;
  }

  /** Display name of a camera id; the id itself for a camera not (yet) in the table. */
  nameOf(id) {
    const i = this.index.get(id);
    return i === undefined ? id : this.names[i];
  }

  isPlaced(i) {
    return Number.isFinite(this.mx[i]);
  }

  evidenceMasked(id) {
    const i = this.index.get(id);
    return i !== undefined && (this.masks[i] & 2) !== 0;
  }

  plateMasked(id) {
    const i = this.index.get(id);
    return i !== undefined && (this.masks[i] & 1) !== 0;
  }

  /** Cameras counted as down in the summary: stopped, stale, or never reported. */
  downCount() {
    return this.counts.down + this.counts.unknown;
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() {
    for (const fn of this.listeners) fn(this);
  }
}

/**
 * Starts the polling worker for this session's token; returns a stop function. A 401 is
 * reported through `api` (back to sign-in); other failures leave the last snapshot in place
 * and mark the table with the error.
 */
export function pollCameras(api, table) {
  const worker = new Worker(new URL('./cameras-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (e) => {
    const msg = e.data;
    if (msg.type === 'snapshot') {
      table.apply(msg.snapshot);
    } else if (msg.type === 'error') {
      const error = new ApiError(msg.status, msg.title, msg.detail);
      if (msg.status === 401) api.reportUnauthorized(error);
      else table.fail(error);
    }
  };
  worker.onerror = (e) => table.fail(new ApiError(0, null, e.message || 'camera worker failed'));
  worker.postMessage({ type: 'start', token: api.token, intervalMs: POLL_INTERVAL_MS });
  return () => worker.terminate();
}
