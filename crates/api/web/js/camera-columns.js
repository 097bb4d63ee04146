// Turns the /api/v1/cameras answer into columns (typed arrays plus a few string arrays) that
// the map, the health wall and the feed read by index. Runs in the camera worker, so the
// 20,000-camera JSON is parsed and classified off the page's main thread; typed arrays move
// back to the page without copying.
import { isPlaced, latToY, lonToX } from './geo.js';

/** Health classes, in the order the health wall lists them (worst first). */
export const HEALTH = Object.freeze({ DOWN: 0, UNKNOWN: 1, DEGRADED: 2, OK: 3 });
export const HEALTH_NAMES = ['down', 'unknown', 'degraded', 'ok'];

/** Camera-reported states, as codes for the `state` column. */
export const STATES = ['unknown', 'connecting', 'streaming', 'backoff', 'stopped'];

// A health report older than this means the ingest side stopped reporting for the camera.
export const STALE_AFTER_MS = 30000;

/**
 * Classifies one camera: OK streaming, DEGRADED connecting/backoff, DOWN stopped or stale,
 * UNKNOWN never reported. (For the summary counts DOWN and UNKNOWN are both "down".)
 */
export function classify(health, nowMs) {
  if (!health || !health.state) return HEALTH.UNKNOWN;
  if (!(nowMs - health.updated_ms <= STALE_AFTER_MS)) return HEALTH.DOWN;
  switch (health.state.state) {
    case 'streaming':
      return HEALTH.OK;
    case 'connecting':
    case 'backoff':
      return HEALTH.DEGRADED;
    default:
      return HEALTH.DOWN;
  }
}

/**
 * Builds the column snapshot. `previous` holds the last snapshot's string columns: when ids,
 * names and departments are unchanged they are left out (null), which saves cloning 60,000
 * strings every poll; `identity` always carries them for the caller to keep.
 */
export function buildColumns(cameras, nowMs, previous = null) {
  const n = cameras.length;
  const ids = new Array(n);
  const names = new Array(n);
  const departments = new Array(n);
  const mx = new Float64Array(n);
  const my = new Float64Array(n);
  const health = new Uint8Array(n);
  const state = new Uint8Array(n);
  const fps = new Float32Array(n);
  const lastFrameMs = new Float64Array(n);
  const updatedMs = new Float64Array(n);
  const reconnects = new Uint32Array(n);
  const masks = new Uint8Array(n); // bit 0: plate masked, bit 1: evidence masked
  const errors = []; // [index, text] pairs: most cameras have none
  const counts = { ok: 0, degraded: 0, down: 0, unknown: 0, unplaced: 0 };

  for (let i = 0; i < n; i++) {
    const c = cameras[i];
    ids[i] = String(c.id);
    names[i] = c.name ? String(c.name) : ids[i];
    departments[i] = c.department_id ?? '';
    if (isPlaced(c.lat, c.lon)) {
      mx[i] = lonToX(c.lon);
      my[i] = latToY(c.lat);
    } else {
      mx[i] = NaN;
      my[i] = NaN;
      counts.unplaced++;
    }
    const h = c.health;
    const cls = classify(h, nowMs);
    health[i] = cls;
    counts[HEALTH_NAMES[cls]]++;
    const s = h?.state;
    state[i] = Math.max(0, STATES.indexOf(s?.state));
    fps[i] = Number.isFinite(s?.fps_in) ? s.fps_in : NaN;
    lastFrameMs[i] = s?.last_frame_at ? Date.parse(s.last_frame_at) : NaN;
    updatedMs[i] = Number.isFinite(h?.updated_ms) ? h.updated_ms : NaN;
    reconnects[i] = s?.reconnects > 0 ? s.reconnects : 0;
    masks[i] = (c.masks?.plate ? 1 : 0) | (c.masks?.evidence ? 2 : 0);
    if (s?.last_error) errors.push([i, String(s.last_error)]);
  }

  // Health wall order: worst class first, then by id, as the operators triage.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => health[a] - health[b] || (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));

  const same =
    sameStrings(previous?.ids, ids) &&
    sameStrings(previous?.names, names) &&
    sameStrings(previous?.departments, departments);
  return {
    identity: { ids, names, departments },
    n,
    ids: same ? null : ids,
    names: same ? null : names,
    departments: same ? null : departments,
    mx,
    my,
    health,
    state,
    fps,
    lastFrameMs,
    updatedMs,
    reconnects,
    masks,
    errors,
    order,
    counts,
    nowMs,
  };
}

/** The typed arrays of a snapshot, for postMessage's transfer list. */
export function transferables(columns) {
  return ['mx', 'my', 'health', 'state', 'fps', 'lastFrameMs', 'updatedMs', 'reconnects', 'masks', 'order']
    .map((k) => columns[k].buffer);
}

function sameStrings(a, b) {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
