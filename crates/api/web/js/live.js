// The live event stream: GET /api/v1/live read with fetch() (for the bearer token) and
// SseParser, reopened with capped exponential backoff whenever it drops, and reopened at once
// with new server-side filters when the operator changes them.
import { SseParser } from './sse.js';

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 15000;
// The server sends a keep-alive comment every 15 s; silence for much longer means a proxy or
// NAT dropped the connection without closing it, and only a new request will notice.
const SILENCE_LIMIT_MS = 45000;

export class LiveStream {
  /**
   * @param api client from createApi
   * @param handlers {onEvent(event), onState(state, info), onLagged(n)}
   *   states: 'connecting' | 'connected' | 'reconnecting' (info.delayMs) | 'error' (info.detail)
   */
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers;
    this.filters = {};
    this.run = null;
  }

  /** (Re)opens the stream with these filters: {kind, camera, plate}, empty values ignored. */
  open(filters) {
    this.filters = { ...filters };
    this.close();
    const run = new AbortController();
    this.run = run;
    this.loop(run.signal);
  }

  close() {
    this.run?.abort();
    this.run = null;
  }

  async loop(signal) {
    let attempt = 0;
    while (!signal.aborted) {
      this.handlers.onState(attempt === 0 ? 'connecting' : 'reconnecting', { delayMs: 0 });
      try {
        // A connection that delivered anything proves the link works: the next drop starts
        // the backoff from the beginning again, however this one ends.
        await this.connectOnce(signal, () => {
          attempt = 0;
        });
      } catch (err) {
        if (signal.aborted) return;
        // 401 already sent the page to sign-in; a 400 or 403 will not cure itself by retrying
        // (a bad filter, a role without access): report it and wait for new filters.
        if (err.status === 401) return;
        if (err.status === 400 || err.status === 403) {
          this.handlers.onState('error', { detail: err.detail });
          return;
        }
      }
      if (signal.aborted) return;
      const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
      attempt++;
      this.handlers.onState('reconnecting', { delayMs });
      await sleep(delayMs, signal);
    }
  }

  /** One connection, until it ends; `onFlowing` runs when its first bytes arrive. */
  async connectOnce(outer, onFlowing) {
    const connection = new AbortController();
    const signal = AbortSignal.any([outer, connection.signal]);
    let watchdog = 0;
    const armWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => connection.abort(), SILENCE_LIMIT_MS);
    };
    armWatchdog();
    let response;
    try {
      response = await this.api.open('/api/v1/live', this.filters, { signal });
    } catch (err) {
      clearTimeout(watchdog);
      throw err;
    }
    this.handlers.onState('connected', {});

    let flowing = false;
    const parser = new SseParser((msg) => this.message(msg));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!flowing) {
          flowing = true;
          onFlowing();
        }
        armWatchdog();
        parser.push(value);
      }
    } catch (err) {
      // A silent link was cut by the watchdog: treat it like any other drop.
      if (outer.aborted || !connection.signal.aborted) throw err;
    } finally {
      clearTimeout(watchdog);
      reader.cancel().catch(() => {});
    }
  }

  message({ type, data }) {
    if (type === 'lagged') {
      // The server's broadcast overran this subscriber; `data` is how many events were lost.
      this.handlers.onLagged?.(Number(data) || 0);
      return;
    }
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return; // A malformed message is dropped rather than breaking the stream.
    }
    this.handlers.onEvent(event);
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
