// End-to-end test of the command view against a live demo server.
//
//   XL_URL=http://127.0.0.1:18080 XL_TOKEN=... XL_OUTSIDER_TOKEN=... XL_ARTIFACTS=out \
//     node tests/browser/command_view.mjs
//
// XL_TOKEN: an analyst of the department that owns half the cameras (with a grant for the
// rest); XL_OUTSIDER_TOKEN: a user whose department has no cameras and no grant. Exits 0 when
// every step passes; otherwise non-zero, naming the step and what it waited for.
import assert from 'node:assert/strict';
import {
  apiGet, byTestId, ensureDir, launchBrowser, openPage, requireEnv, signIn, sleep, Steps,
  VIOLATION_KINDS, waitFor, waitForSelector,
} from './lib.mjs';

const BASE = requireEnv('XL_URL');
const TOKEN = requireEnv('XL_TOKEN');
const OUTSIDER_TOKEN = requireEnv('XL_OUTSIDER_TOKEN');
const ARTIFACTS = await ensureDir(process.env.XL_ARTIFACTS || 'test-artifacts/browser');

const ENGLISH_KIND_LABELS = ['plate read', 'watch-list hit', 'restricted zone', 'overload', 'obscured plate', 'cloned plate', 'traffic flow'];

const me = await apiGet(BASE, TOKEN, '/api/v1/me');
const outsider = await apiGet(BASE, OUTSIDER_TOKEN, '/api/v1/me');
const { cameras } = await apiGet(BASE, TOKEN, '/api/v1/cameras');
// Cameras whose events show plates and evidence unmasked to this analyst.
const clearCameras = cameras.filter((c) => !c.masks?.plate && !c.masks?.evidence).map((c) => c.id);
assert.ok(clearCameras.length > 0, 'XL_TOKEN should see at least one camera without masks');

const browser = await launchBrowser();
let exitCode = 0;
try {
  const { page, problems } = await openPage(browser);
  const steps = new Steps(page, ARTIFACTS);
  let plate = null;
  let violationId = null;

  await steps.run('sign-in', async () => {
    await page.goto(BASE, { waitUntil: 'domcontentloaded' });
    await signIn(page, TOKEN, me.user_id);
    await waitFor(page, 'cameras to be drawn on the map (__xlStats.camerasDrawn > 0)', () => window.__xlStats?.camerasDrawn > 0);
    await waitForSelector(page, byTestId('health-row'), 'a row in the camera health wall');
  });

  await steps.run('live-feed-row', async () => {
    const before = await feedRowIds(page);
    await waitFor(page, 'a feed row that arrived over the live stream after sign-in',
      (known) => [...document.querySelectorAll('[data-testid="feed-row"]')].some((row) => !known.includes(row.dataset.eventId)),
      before, 60000);
    const state = await page.getAttribute(byTestId('live-status'), 'data-state');
    assert.equal(state, 'connected', 'the live status should say connected once events flow');
  });

  await steps.run('event-detail-evidence', async () => {
    const row = await pausedFeedRow(page, 'a plate_read row with an unmasked plate from a camera without masks',
      ({ cams }) => [...document.querySelectorAll('[data-testid="feed-row"][data-kind="plate_read"]')]
        .find((r) => cams.includes(r.dataset.cameraId) && r.dataset.plate && !r.dataset.plate.includes('*'))?.dataset.eventId ?? null,
      { cams: clearCameras });
    plate = await page.getAttribute(`[data-testid="feed-row"][data-event-id="${row}"]`, 'data-plate');
    await page.click(`[data-testid="feed-row"][data-event-id="${row}"]`);
    await resumeFeed(page);
    await waitFor(page, `the detail of event ${row} to load`,
      (id) => {
        const panel = document.querySelector('[data-testid="event-detail"]');
        return panel && !panel.hidden && panel.dataset.eventId === id && panel.dataset.status === 'ready';
      }, row);
    await waitFor(page, 'an evidence image to load (naturalWidth > 0)',
      () => [...document.querySelectorAll('[data-testid="evidence-image"]')].some((img) => img.complete && img.naturalWidth > 0), null, 30000);
    await waitForSelector(page, byTestId('evidence-overlay'), 'the overlay canvas over the full frame', 10000, 'attached');
  });

  await steps.run('plate-search', async () => {
    await page.click(byTestId('detail-close'));
    await page.click(byTestId('tab-search'));
    await page.fill(byTestId('plate-search'), plate);
    // The read was on the live stream moments ago; the store writer batches, so search again
    // until it is there.
    const deadline = Date.now() + 45000;
    for (;;) {
      await page.click(byTestId('plate-search-go'));
      await waitFor(page, `the search for ${plate} to finish`,
        () => document.querySelector('[data-testid="search-status"]')?.dataset.state !== 'loading'
          && document.querySelector('[data-testid="trajectory"]')?.dataset.state !== 'loading');
      const found = await page.locator(byTestId('search-result')).count();
      const points = await page.locator(byTestId('trajectory-point')).count();
      if (found >= 1 && points >= 1) break;
      if (Date.now() > deadline) assert.fail(`searching ${plate}: ${found} search-result rows and ${points} trajectory-point items, expected at least 1 of each`);
      await sleep(3000);
    }
  });

  await steps.run('review-violation', async () => {
    violationId = await liveViolation(page);
    if (violationId) {
      await page.click(`[data-testid="feed-row"][data-event-id="${violationId}"]`);
      await resumeFeed(page);
    } else {
      await resumeFeed(page);
      violationId = await storedViolation();
      assert.ok(violationId, 'no violation event found, neither on the live feed within 60 s nor through /api/v1/events');
      console.log(`  (no violation on the live feed within 60 s; opening stored event ${violationId})`);
      await page.evaluate((id) => { location.hash = `#/event/${id}`; }, violationId);
    }
    await waitFor(page, `the detail of violation ${violationId} to load`,
      (id) => {
        const panel = document.querySelector('[data-testid="event-detail"]');
        return panel && !panel.hidden && panel.dataset.eventId === id && panel.dataset.status === 'ready';
      }, violationId);
    await page.click(byTestId('review-confirm'));
    await waitFor(page, 'review-status to show 已确认 (confirmed)',
      () => {
        const status = document.querySelector('[data-testid="review-status"]');
        return status?.dataset.decision === 'confirm' && status.textContent.includes('已确认');
      });
    const status = await page.textContent(byTestId('review-status'));
    assert.ok(status.includes(me.user_id), `review-status should name the reviewer ${me.user_id}: ${status}`);
  });

  await steps.run('english', async () => {
    await page.click(byTestId('lang-toggle'));
    await waitFor(page, 'review-status to read "confirmed" in English',
      () => /confirmed by/.test(document.querySelector('[data-testid="review-status"]')?.textContent ?? ''));
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    const labels = await page.$$eval('[data-testid="feed-row"] .kind', (chips) => chips.map((c) => c.textContent));
    assert.ok(labels.length > 0, 'the feed should show rows');
    for (const label of labels) assert.ok(ENGLISH_KIND_LABELS.includes(label), `feed kind label "${label}" is not English`);
    assert.ok((await page.textContent(byTestId('sign-out'))).includes('Sign out'), 'the header should be in English');
  });

  await steps.run('outsider', async () => {
    await page.click(byTestId('sign-out'));
    await signIn(page, OUTSIDER_TOKEN, outsider.user_id);
    await sleep(8000);
    assert.equal(await page.locator(byTestId('feed-row')).count(), 0, 'the outsider should see no feed rows');
    assert.equal(await page.evaluate(() => window.__xlStats.camerasDrawn), 0, 'the outsider should have no cameras drawn');
    await page.click(byTestId('tab-health'));
    assert.equal(await page.locator(byTestId('health-row')).count(), 0, 'the outsider should see no health rows');
    await page.click(byTestId('tab-search'));
    await page.fill(byTestId('plate-search'), plate);
    await page.click(byTestId('plate-search-go'));
    await waitFor(page, 'the outsider\'s search to finish',
      () => ['done', 'error'].includes(document.querySelector('[data-testid="search-status"]')?.dataset.state));
    assert.equal(await page.getAttribute(byTestId('search-status'), 'data-state'), 'done', 'the outsider\'s search should succeed (with nothing)');
    assert.equal(await page.locator(byTestId('search-result')).count(), 0, `the outsider should find no events for ${plate}`);
    await page.evaluate((id) => { location.hash = `#/event/${id}`; }, violationId);
    await waitFor(page, `event ${violationId} to show not-found for the outsider`,
      () => document.querySelector('[data-testid="detail-error"]')?.dataset.status === '404');
  });

  assert.deepEqual(problems, [], 'the page should raise no uncaught exceptions or CSP violations');
  console.log('command view: all steps passed');
} catch (err) {
  console.error(`FAILED: ${err.message}`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);

async function feedRowIds(page) {
  return page.$$eval('[data-testid="feed-row"]', (rows) => rows.map((r) => r.dataset.eventId));
}

/**
 * Pauses the feed (rows stop moving, so a click lands) once `pick` finds a row; resumes and
 * pauses again while waiting up to 60 s for one to arrive. Returns the row's event id.
 */
async function pausedFeedRow(page, what, pick, arg) {
  await page.click(byTestId('feed-pause'));
  let id = await page.evaluate(pick, arg);
  if (id) return id;
  await resumeFeed(page);
  await waitFor(page, what, pick, arg, 60000);
  await page.click(byTestId('feed-pause'));
  id = await page.evaluate(pick, arg);
  assert.ok(id, `${what} disappeared from the feed`);
  return id;
}

async function resumeFeed(page) {
  if ((await page.getAttribute(byTestId('feed-pause'), 'aria-pressed')) === 'true') await page.click(byTestId('feed-pause'));
}

/** A violation row on the live feed (waiting up to 60 s), with the feed paused; or null. */
async function liveViolation(page) {
  try {
    return await pausedFeedRow(page, 'a violation on the live feed',
      (kinds) => [...document.querySelectorAll('[data-testid="feed-row"]')].find((r) => kinds.includes(r.dataset.kind))?.dataset.eventId ?? null,
      VIOLATION_KINDS);
  } catch (err) {
    if (/timed out/.test(err.message)) return null;
    throw err;
  }
}

/** A recent stored violation (the newest of the first page since an hour ago), or null. */
async function storedViolation() {
  const from = new Date(Date.now() - 3600e3).toISOString();
  let newest = null;
  for (const kind of VIOLATION_KINDS) {
    const { events } = await apiGet(BASE, TOKEN, `/api/v1/events?kind=${kind}&from=${encodeURIComponent(from)}&limit=1000`);
    const last = events.at(-1);
    if (last && (!newest || Date.parse(last.ts) > Date.parse(newest.ts))) newest = last;
  }
  return newest?.id ?? null;
}
