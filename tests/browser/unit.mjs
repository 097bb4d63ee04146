// Unit tests of the command view's pure modules (no browser): the SSE parser, plate queries,
// camera health classification, Web-Mercator maths, clustering and hit tests, the evidence
// overlay scale, time formatting and the i18n dictionaries.
//
//   node tests/browser/unit.mjs
//
// The page's modules are plain ES modules without a package.json of their own, which Node
// would load as CommonJS; they are copied to a temporary folder marked as ESM and imported
// from there, unchanged.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.resolve(here, '../../crates/api/web/js');
const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'xl-web-unit-'));
await fs.cp(source, copy, { recursive: true });
await fs.writeFile(path.join(copy, 'package.json'), '{"type":"module"}');
const load = (name) => import(pathToFileURL(path.join(copy, name)).href);

const { SseParser } = await load('sse.js');
const { plateQuery, bboxOf, isViolation } = await load('events.js');
const { classify, buildColumns, HEALTH, STALE_AFTER_MS } = await load('camera-columns.js');
const geo = await load('geo.js');
const { ClusterGrid, INDIVIDUAL_ZOOM } = await load('cluster.js');
const { overlayScale } = await load('evidence.js');
const { formatTime, formatAge } = await load('format.js');
const i18n = await load('i18n.js');
const { withQuery } = await load('api.js');

let passed = 0;
let failed = 0;
async function test(name, fn) {
  try {
    await fn();
    passed++;
  } catch (err) {
    failed++;
    console.error(`FAIL ${name}\n  ${err.message.split('\n').join('\n  ')}`);
  }
}

function parseAll(chunks) {
  const out = [];
  const comments = [];
  const parser = new SseParser((m) => out.push(m), (c) => comments.push(c));
  for (const chunk of chunks) parser.push(chunk);
  return { out, comments };
}

await test('sse: messages split at every possible point parse the same', () => {
  const stream = 'event: plate_read\r\nid: 1\r\ndata: {"plate":"皖S12345"}\r\n\r\n:keep-alive\n\nevent: overload\nid: 2\ndata: a\ndata: b\n\n';
  const whole = parseAll([stream]).out;
  assert.deepEqual(whole, [
    { type: 'plate_read', data: '{"plate":"皖S12345"}', id: '1' },
    { type: 'overload', data: 'a\nb', id: '2' },
  ]);
  for (let i = 1; i < stream.length; i++) {
    assert.deepEqual(parseAll([stream.slice(0, i), stream.slice(i)]).out, whole, `split at ${i}`);
  }
  assert.deepEqual(parseAll(stream.split('')).out, whole, 'one character per chunk');
});

await test('sse: comments, bare CR line ends, BOM, no space after colon, unknown fields', () => {
  const { out, comments } = parseAll(['\uFEFF: hello\r', '\rdata:x\rretry: 5\rfoo: bar\r\r']);
  assert.deepEqual(out, [{ type: 'message', data: 'x', id: '' }]);
  assert.deepEqual(comments, [' hello']);
});

await test('sse: an event with no data is not dispatched, its type does not leak', () => {
  const { out } = parseAll(['event: lagged\n\ndata: y\n\n']);
  assert.deepEqual(out, [{ type: 'message', data: 'y', id: '' }]);
});

await test('plate query: exact for whole plates, prefix for * or short input', () => {
  assert.deepEqual(plateQuery(' 皖s12345 '), { param: 'plate', value: '皖S12345' });
  assert.deepEqual(plateQuery('皖S1*'), { param: 'plate_prefix', value: '皖S1' });
  assert.deepEqual(plateQuery('皖S12345*'), { param: 'plate_prefix', value: '皖S12345' });
  assert.deepEqual(plateQuery('皖S123'), { param: 'plate_prefix', value: '皖S123' });
  assert.deepEqual(plateQuery('皖AD12345'), { param: 'plate', value: '皖AD12345' });
  assert.equal(plateQuery('  '), null);
  assert.equal(plateQuery('*'), null);
});

await test('events: violations and vehicle boxes in both shapes', () => {
  assert.ok(isViolation('cloned_plate'));
  assert.ok(!isViolation('plate_read'));
  assert.ok(!isViolation('flow_count'));
  assert.deepEqual(bboxOf({ bbox: [1, 2, 3, 4] }), [1, 2, 3, 4]);
  assert.deepEqual(bboxOf({ bbox: { x1: 1, y1: 2, x2: 3, y2: 4 } }), [1, 2, 3, 4]);
  assert.equal(bboxOf({}), null);
});

await test('api: query strings drop empty values and encode Chinese plates', () => {
  assert.equal(withQuery('/api/v1/events', { plate: '皖S12345', camera: '', after: null, limit: 10 }),
    '/api/v1/events?plate=%E7%9A%96S12345&limit=10');
  assert.equal(withQuery('/x', {}), '/x');
});

await test('health: streaming, degraded, down, stale, unknown', () => {
  const now = 1_000_000;
  const h = (state, age = 0) => ({ updated_ms: now - age, state: { state } });
  assert.equal(classify(h('streaming'), now), HEALTH.OK);
  assert.equal(classify(h('connecting'), now), HEALTH.DEGRADED);
  assert.equal(classify(h('backoff'), now), HEALTH.DEGRADED);
  assert.equal(classify(h('stopped'), now), HEALTH.DOWN);
  assert.equal(classify(h('streaming', STALE_AFTER_MS + 1), now), HEALTH.DOWN);
  assert.equal(classify(h('streaming', STALE_AFTER_MS), now), HEALTH.OK);
  assert.equal(classify(null, now), HEALTH.UNKNOWN);
});

await test('camera columns: worst first then by id; identity sent only when it changes', () => {
  const now = 5_000_000;
  const cam = (id, state, lat = 33.6) => ({
    id, name: `name ${id}`, department_id: 'traffic', lat, lon: 117, masks: { plate: id === 'b', evidence: true },
    health: state ? { updated_ms: now, state: { camera_id: id, state, fps_in: 25, reconnects: 2, last_error: state === 'stopped' ? 'gone' : null } } : null,
  });
  const cams = [cam('d', 'streaming'), cam('b', 'stopped'), cam('c', 'backoff', null), cam('a', null)];
  const first = buildColumns(cams, now, null);
  assert.deepEqual([...first.order].map((i) => first.ids[i]), ['b', 'a', 'c', 'd']);
  assert.deepEqual(first.counts, { ok: 1, degraded: 1, down: 1, unknown: 1, unplaced: 1 });
  assert.ok(Number.isNaN(first.mx[2]), 'an unplaced camera has no position');
  assert.deepEqual(first.errors, [[1, 'gone']]);
  assert.equal(first.masks[1], 3);
  const second = buildColumns(cams, now, first.identity);
  assert.equal(second.ids, null, 'unchanged ids are not sent again');
  const third = buildColumns([...cams, cam('e', 'streaming')], now, first.identity);
  assert.equal(third.ids.length, 5);
});

await test('geo: projection round trip and known points', () => {
  assert.equal(geo.lonToX(-180), 0);
  assert.equal(geo.lonToX(180), 1);
  assert.ok(Math.abs(geo.latToY(0) - 0.5) < 1e-12);
  for (const lat of [-60, -1, 0, 33.64, 85]) assert.ok(Math.abs(geo.yToLat(geo.latToY(lat)) - lat) < 1e-9, `lat ${lat}`);
  for (const lon of [-179, 0, 116.97]) assert.ok(Math.abs(geo.xToLon(geo.lonToX(lon)) - lon) < 1e-9, `lon ${lon}`);
  assert.ok(!geo.isPlaced(null, 117));
  assert.ok(geo.isPlaced(33.6, 116.9));
});

await test('clusters: counts, worst health, and hit tests through the grid', () => {
  const n = 1000;
  const table = { version: 1, n, mx: new Float64Array(n), my: new Float64Array(n), health: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    table.mx[i] = geo.lonToX(117 + (i % 40) * 0.01);
    table.my[i] = geo.latToY(33.5 + Math.floor(i / 40) * 0.01);
    table.health[i] = i === 7 ? HEALTH.DOWN : HEALTH.OK;
  }
  table.mx[999] = NaN; // unplaced
  const grid = new ClusterGrid();
  assert.ok(grid.update(table, 8));
  assert.ok(!grid.update(table, 8.2), 'same half zoom level: no rebuild');
  const cells = [...grid.cells.values()];
  assert.equal(cells.reduce((s, c) => s + c.count, 0), 999);
  assert.ok(cells.some((c) => c.worst === HEALTH.DOWN && c.byHealth[HEALTH.DOWN] === 1));

  // A pointer exactly on camera 123 at street level hits that camera.
  grid.update(table, INDIVIDUAL_ZOOM);
  const view = { cx: table.mx[123], cy: table.my[123], zoom: INDIVIDUAL_ZOOM, width: 800, height: 600 };
  const scale = geo.worldSize(view.zoom);
  const project = (x, y) => [(x - view.cx) * scale + 400, (y - view.cy) * scale + 300];
  assert.deepEqual(grid.hitTest(table, view.cx, view.cy, 400, 300, project), { type: 'camera', index: 123 });
  assert.equal(grid.hitTest(table, view.cx + 40 / scale, view.cy, 440, 300, project), null, '40 px away: nothing');
});

await test('evidence overlay: scale from source size, or image pixels when they fit', () => {
  assert.deepEqual(overlayScale([1280, 720], 640, 360, [[900, 600]]), [0.5, 0.5]);
  assert.deepEqual(overlayScale(undefined, 640, 360, [[600, 300]]), [1, 1]);
  assert.equal(overlayScale(undefined, 640, 360, [[900, 600]]), null);
});

await test('format: Beijing time whatever the host zone, relative ages', () => {
  assert.equal(formatTime('2026-11-29T10:03:12Z'), '2026-11-29 18:03:12');
  assert.equal(formatTime('2026-11-29T18:03:12.120+08:00'), '2026-11-29 18:03:12');
  assert.equal(formatTime(null), '—');
  i18n.setLang('en');
  assert.equal(formatAge(0, 12_000), '12 s ago');
  assert.equal(formatAge(0, 600_000), '10 min ago');
  assert.equal(formatAge(NaN, 1), 'never');
  i18n.setLang('zh');
  assert.equal(formatAge(0, 12_000), '12 秒前');
});

await test('i18n: both languages have the same keys, placeholders fill', () => {
  assert.deepEqual(i18n.missingKeys(), []);
  i18n.setLang('zh');
  assert.equal(i18n.kindLabel('cloned_plate'), '套牌嫌疑');
  assert.equal(i18n.kindLabel('new_kind'), 'new_kind');
  i18n.setLang('en');
  assert.equal(i18n.t('review.by', { status: 'confirmed', user: 'li.wei', dept: 'traffic', time: 'T' }), 'confirmed by li.wei (traffic) at T');
  i18n.setLang('zh');
});

await fs.rm(copy, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
