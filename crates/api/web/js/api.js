// The page's only door to the API: adds the bearer token, turns RFC 7807 problem responses
// into ApiError (whose `detail` is what the operator sees), and reports a 401 once so the page
// can return to the sign-in screen.
import { noteServerDate } from './clock.js';
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, title, detail, field) {
    super(detail || title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail || title || (status ? t('error.http', { status }) : t('error.network'));
    this.field = field;
  }
}

export function isAbort(err) {
  return err?.name === 'AbortError';
}

/** Builds `path?query`, leaving out empty values; values are URL-encoded (plates are Chinese). */
export function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Reads a failed response as problem JSON, or makes one up from the status line. */
export async function problemFrom(response) {
  let body = null;
  try {
    const type = response.headers.get('content-type') || '';
    if (type.includes('json')) body = await response.json();
  } catch {
    // A proxy's HTML error page or a cut-off body: the status code is all we have.
  }
  return new ApiError(response.status, body?.title, body?.detail, body?.field);
}

/** The public view configuration (no token): map tiles, if the deployment has any. */
export async function fetchViewConfig() {
  try {
    const res = await fetch('/api/v1/view-config', { headers: { Accept: 'application/json' } });
    if (res.ok) return await res.json();
  } catch {
    // Offline or an older server: fall through to the plain vector map.
  }
  return { tile_url: null, tile_attribution: null };
}

/**
 * A client bound to one token. `close()` aborts everything in flight: after a sign-out no late
 * answer may reach the next user's screen. `onUnauthorized(error)` runs at most once.
 */
export function createApi(token, { onUnauthorized } = {}) {
  const lifetime = new AbortController();
  let unauthorized = false;

  async function request(path, { method = 'GET', query, body, accept = 'application/json', signal } = {}) {
    const headers = { Authorization: `Bearer ${token}`, Accept: accept };
    const init = { method, headers, signal: signal ? AbortSignal.any([lifetime.signal, signal]) : lifetime.signal };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(withQuery(path, query), init);
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(0, null, t('error.network'));
    }
    noteServerDate(response);
    if (response.ok) return response;
    const problem = await problemFrom(response);
    if (response.status === 401 && !unauthorized && !lifetime.signal.aborted) {
      unauthorized = true;
      onUnauthorized?.(problem);
    }
    throw problem;
  }

  return {
    token,
    signal: lifetime.signal,
    getJson: async (path, query, opts) => (await request(path, { ...opts, query })).json(),
    postJson: async (path, body, opts) => (await request(path, { ...opts, method: 'POST', body })).json(),
    getBlob: async (path, opts) => (await request(path, { ...opts, accept: 'image/*' })).blob(),
    /** The raw response, for streaming bodies (the live feed). */
    open: (path, query, opts) => request(path, { ...opts, query, accept: 'text/event-stream' }),
    /** Reports a 401 seen outside `request` (the camera worker's own fetches). */
    reportUnauthorized(problem) {
      if (unauthorized || lifetime.signal.aborted) return;
      unauthorized = true;
      onUnauthorized?.(problem);
    },
    close: () => lifetime.abort(),
  };
}
