// Load measurement of the command view: signs in, waits for the cameras to be drawn, then for
// XL_SECONDS records long tasks, frame times, events received and the input-to-next-frame
// delay of clicks, with some interaction (zoom, pan, feed scrolling, opening a row) halfway.
//
//   XL_URL=... XL_TOKEN=... [XL_SECONDS=30] [XL_ARTIFACTS=out] node tests/browser/load.mjs
//
// Prints one JSON object on stdout. It judges nothing but loading: exit 0 whenever the page
// came up, and the numbers go into a report.
import path from 'node:path';
import { apiGet, byTestId, ensureDir, launchBrowser, openPage, requireEnv, signIn, sleep, waitFor } from './lib.mjs';

const BASE = requireEnv('XL_URL');
const TOKEN = requireEnv('XL_TOKEN');
const SECONDS = Number(process.env.XL_SECONDS || 30);
const ARTIFACTS = await ensureDir(process.env.XL_ARTIFACTS || 'test-artifacts/browser');

const browser = await launchBrowser();
let exitCode = 0;
try {
  const { page, problems } = await openPage(browser);
  const me = await apiGet(BASE, TOKEN, '/api/v1/me');
  const loadStarted = Date.now();
  await page.goto(BASE, { waitUntil: 'domcontentloaded' });
  await signIn(page, TOKEN, me.user_id);
  await waitFor(page, 'cameras to be drawn (__xlStats.camerasDrawn > 0)', () => window.__xlStats?.camerasDrawn > 0, null, 60000);
  const timeToCamerasMs = Date.now() - loadStarted;
  const atStart = await page.evaluate(() => ({ drawn: window.__xlStats.camerasDrawn, clusters: window.__xlStats.clusters }));

  await page.evaluate(installProbes);
  const samples = [];
  const started = Date.now();
  const half = (SECONDS * 1000) / 2;
  let interacted = false;
  while (Date.now() - started < SECONDS * 1000) {
    await sleep(1000);
    samples.push(await page.evaluate(() => window.__xlStats.eventsReceived));
    if (!interacted && Date.now() - started >= half) {
      interacted = true;
      await interact(page);
    }
  }
  const probe = await page.evaluate(() => {
    const p = window.__xlLoad;
    p.running = false;
    return { longTasks: p.longTasks, frames: p.frames, clicks: p.clicks, eventTimings: p.eventTimings };
  });
  const stats = await page.evaluate(() => ({ ...window.__xlStats }));
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
  const cameraCount = await page.evaluate(() => document.querySelectorAll('[data-testid="health-row"]').length);
  await page.screenshot({ path: path.join(ARTIFACTS, 'load.png') });

  const perSecond = samples.slice(1).map((n, i) => n - samples[i]);
  const report = {
    url: BASE,
    seconds: SECONDS,
    viewport: '1600x900',
    timeToCamerasMs,
    // Drawn at the start (whole network fitted) and at the end (after zooming in and panning).
    cameras: { drawnAtStart: atStart.drawn, clustersAtStart: atStart.clusters, drawnAtEnd: stats.camerasDrawn, clustersAtEnd: stats.clusters, healthRowsInDom: cameraCount },
    events: {
      received: samples.at(-1) - samples[0],
      perSecondMean: round(mean(perSecond)),
      perSecondMin: perSecond.length ? Math.min(...perSecond) : null,
      perSecondMax: perSecond.length ? Math.max(...perSecond) : null,
      totalSinceSignIn: stats.eventsReceived,
    },
    feedRowsRendered: stats.rowsRendered,
    longTasks: {
      count: probe.longTasks.length,
      totalMs: round(sum(probe.longTasks)),
      maxMs: round(Math.max(0, ...probe.longTasks)),
    },
    frames: {
      count: probe.frames.length,
      p50Ms: round(percentile(probe.frames, 50)),
      p95Ms: round(percentile(probe.frames, 95)),
      p99Ms: round(percentile(probe.frames, 99)),
      maxMs: round(Math.max(0, ...probe.frames)),
      over50Ms: probe.frames.filter((d) => d > 50).length,
    },
    interaction: {
      clickToNextFrameMs: probe.clicks.map(round),
      // Event Timing API durations (input to next paint) of clicks and pointer events >= 16 ms.
      eventTimingMs: probe.eventTimings.map(round),
    },
    heapUsedMB: heap === null ? null : round(heap / 2 ** 20),
    pageProblems: problems,
  };
  console.log(JSON.stringify(report, null, 2));
} catch (err) {
  console.error(`load test could not run: ${err.message}`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);

/** Runs in the page: long tasks, frame deltas, click-to-next-frame delays, event timings. */
function installProbes() {
  const probe = { running: true, longTasks: [], frames: [], clicks: [], eventTimings: [] };
  window.__xlLoad = probe;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push(entry.duration);
  }).observe({ type: 'longtask' });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.name === 'click' || entry.name === 'pointerup') probe.eventTimings.push(entry.duration);
      }
    }).observe({ type: 'event', durationThreshold: 16 });
  } catch {
    // Event Timing unsupported: the click probe below still measures.
  }
  let last = performance.now();
  const frame = (now) => {
    probe.frames.push(now - last);
    last = now;
    if (probe.running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  // From the click's timestamp to just after the next frame (a message posted from rAF runs
  // after that frame's rendering work).
  window.addEventListener('click', (e) => {
    const t0 = e.timeStamp;
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => probe.clicks.push(performance.now() - t0);
      channel.port2.postMessage(0);
    });
  }, { capture: true });
}

/** The interaction in the middle of the run: zoom in twice, pan, scroll the feed, open a row. */
async function interact(page) {
  const map = await page.locator(byTestId('map')).boundingBox();
  const cx = map.x + map.width / 2;
  const cy = map.y + map.height / 2;
  await page.click(byTestId('map-zoom-in'));
  await sleep(400);
  await page.click(byTestId('map-zoom-in'));
  await sleep(400);
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(cx - i * 20, cy - i * 8);
  await page.mouse.up();
  await sleep(400);
  const feed = await page.locator('.feed-list').boundingBox();
  await page.mouse.move(feed.x + feed.width / 2, feed.y + feed.height / 2);
  for (let i = 0; i < 5; i++) {
    await page.mouse.wheel(0, 400);
    await sleep(100);
  }
  await page.mouse.wheel(0, -4000);
  await sleep(400);
  // A click on whatever row is third from the top: opens the detail.
  await page.mouse.click(feed.x + feed.width / 2, feed.y + 2.5 * 32);
  await sleep(1000);
  await page.keyboard.press('Escape');
  await sleep(300);
  // And a click on the map (a camera, a cluster, or nothing).
  await page.mouse.click(cx, cy);
}

function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

function mean(values) {
  return values.length ? sum(values) / values.length : null;
}

function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function round(value) {
  return value === null || !Number.isFinite(value) ? value : Math.round(value * 10) / 10;
}
