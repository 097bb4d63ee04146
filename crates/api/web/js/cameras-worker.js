// Dedicated worker that polls GET /api/v1/cameras every few seconds and posts column
// snapshots (see camera-columns.js) to the page. With 20,000 cameras the answer is megabytes
// of JSON; parsing it here keeps the map and the feed smooth.
//
// Messages in:  {type: 'start', token, intervalMs}
// Messages out: {type: 'snapshot', snapshot} | {type: 'error', status, detail}
import { buildColumns, transferables } from './camera-columns.js';
import { clockSkew, noteServerDate, serverNow } from './clock.js';

let token = null;
let intervalMs = 5000;
let previous = null;
let started = false;

self.onmessage = (e) => {
  const msg = e.data;
  if (msg?.type === 'start' && !started) {
    started = true;
    token = msg.token;
    intervalMs = msg.intervalMs || intervalMs;
    poll();
  }
};

async function poll() {
  // Poll on a fixed cadence measured from the start of each request, without overlapping.
  for (;;) {
    const began = Date.now();
    const stop = await pollOnce();
    if (stop) return;
    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - began))));
  }
}

/** One poll; true when polling must stop (the token was refused). */
async function pollOnce() {
  let response;
  try {
    response = await fetch('/api/v1/cameras', {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    });
  } catch {
    self.postMessage({ type: 'error', status: 0, detail: null });
    return false;
  }
  noteServerDate(response);
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      // Not problem JSON; the status says enough.
    }
    self.postMessage({ type: 'error', status: response.status, title: problem?.title ?? null, detail: problem?.detail ?? null });
    return response.status === 401;
  }
  let body;
  try {
    body = await response.json();
  } catch {
    self.postMessage({ type: 'error', status: response.status, detail: 'invalid JSON from /api/v1/cameras' });
    return false;
  }
  const { identity, ...snapshot } = buildColumns(Array.isArray(body?.cameras) ? body.cameras : [], serverNow(), previous);
  previous = identity;
  snapshot.skewMs = clockSkew();
  self.postMessage({ type: 'snapshot', snapshot }, transferables(snapshot));
  return false;
}
