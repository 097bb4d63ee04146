// Server-relative "now". Camera health is judged by the age of server timestamps, and wall PCs
// in county centres are often not time-synchronised, so the local clock is corrected by the
// HTTP Date header of API responses when it is clearly off.

// The Date header has 1 s resolution: smaller differences are noise, not skew.
const IGNORE_BELOW_MS = 2000;

let skewMs = 0;

/** Updates the skew estimate from a response's Date header (if the server sent one). */
export function noteServerDate(response) {
  const header = response.headers.get('date');
  if (!header) return;
  const serverMs = Date.parse(header);
  if (!Number.isFinite(serverMs)) return;
  // The header truncates to the second: on average the true time is half a second later.
  const diff = serverMs + 500 - Date.now();
  skewMs = Math.abs(diff) < IGNORE_BELOW_MS ? 0 : diff;
}

export function serverNow() {
  return Date.now() + skewMs;
}

export function clockSkew() {
  return skewMs;
}
