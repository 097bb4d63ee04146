// The camera map: a <canvas> in Web-Mercator with drag to pan, wheel / buttons / keys to zoom,
// hover tooltips and clicks (a camera filters the feed, a cluster zooms in). Nothing is drawn
// on a timer: every change asks for one frame through requestAnimationFrame.
import { HEALTH, STATES } from './camera-columns.js';
import { drawCameras } from './camera-layer.js';
import { ClusterGrid } from './cluster.js';
import { drawGraticule } from './graticule.js';
import { isPlaced, latToY, lonToX, worldSize } from './geo.js';
import { t } from './i18n.js';
import { stats } from './stats.js';
import { TileLayer } from './tiles.js';
import { drawTrajectory } from './trajectory-layer.js';

const MIN_ZOOM = 2;
const MAX_ZOOM = 19;
const FIT_MAX_ZOOM = 16;
const FIT_PADDING_PX = 48;
const DRAG_THRESHOLD_PX = 4;
// Wheel deltas are ~100 per notch on a mouse and small on touchpads: one notch ≈ ¼ zoom level.
const WHEEL_ZOOM_PER_UNIT = 1 / 400;
// Until the cameras arrive (or when none has a position): central China.
const DEFAULT_VIEW = { lon: 110, lat: 33, zoom: 4 };

const HEALTH_LABEL = {
  [HEALTH.OK]: 'map.legend.ok',
  [HEALTH.DEGRADED]: 'map.legend.degraded',
  [HEALTH.DOWN]: 'map.legend.down',
  [HEALTH.UNKNOWN]: 'map.legend.unknown',
};

export class MapView {
  /**
   * @param pane the .map-pane element of the app template
   * @param options {table, tileUrl, attribution, onCameraClick(id)}
   */
  constructor(pane, { table, tileUrl, attribution, onCameraClick }) {
    this.pane = pane;
    this.canvas = pane.querySelector('[data-testid="map"]');
    this.ctx = this.canvas.getContext('2d');
    this.tooltip = pane.querySelector('.map-tooltip');
    this.notice = pane.querySelector('.map-notice');
    this.table = table;
    this.onCameraClick = onCameraClick;
    this.grid = new ClusterGrid();
    this.tiles = tileUrl ? new TileLayer(tileUrl, () => this.requestRender()) : null;
    this.palette = readPalette(pane);
    this.view = { cx: lonToX(DEFAULT_VIEW.lon), cy: latToY(DEFAULT_VIEW.lat), zoom: DEFAULT_VIEW.zoom, width: 0, height: 0 };
    this.dpr = 1;
    this.fitted = false;
    this.selectedId = null;
    this.trajectory = [];
    this.frame = 0;
    this.pointer = null;

    const attributionEl = pane.querySelector('.map-attribution');
    attributionEl.textContent = tileUrl && attribution ? attribution : '';
    attributionEl.hidden = !(tileUrl && attribution);

    this.project = (x, y) => [
      (x - this.view.cx) * this.scale + this.view.width / 2,
      (y - this.view.cy) * this.scale + this.view.height / 2,
    ];

    this.bindInput();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvas.parentElement);
    this.unsubscribe = table.onChange(() => this.tableChanged());
    this.resize();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
    this.unsubscribe();
  }

  get scale() {
    return worldSize(this.view.zoom);
  }

  requestRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Highlights a camera (or none); the map does not move. */
  setSelected(id) {
    this.selectedId = id || null;
    this.requestRender();
  }

  /** Centres on a camera, zooming in if the map is far out. */
  focusCamera(id) {
    const i = this.table.indexOf(id);
    if (i < 0 || !this.table.isPlaced(i)) return;
    this.view.cx = this.table.mx[i];
    this.view.cy = this.table.my[i];
    this.view.zoom = Math.max(this.view.zoom, 15);
    this.requestRender();
  }

  /**
   * Shows a trajectory: reads [{lat, lon}] in time order (unplaced ones are skipped but keep
   * their number) and fits the map to it; null or [] removes it.
   */
  setTrajectory(reads) {
    this.trajectory = (reads || [])
      .map((r, i) => (isPlaced(r.lat, r.lon) ? { x: lonToX(r.lon), y: latToY(r.lat), n: i + 1 } : null))
      .filter(Boolean);
    if (this.trajectory.length) this.fitPoints(this.trajectory.map((p) => [p.x, p.y]));
    this.requestRender();
  }

  zoomBy(delta, sx = this.view.width / 2, sy = this.view.height / 2) {
    const v = this.view;
    const zoom = clamp(v.zoom + delta, MIN_ZOOM, MAX_ZOOM);
    if (zoom === v.zoom) return;
    // Keep the world point under (sx, sy) where it is.
    const wx = v.cx + (sx - v.width / 2) / this.scale;
    const wy = v.cy + (sy - v.height / 2) / this.scale;
    v.zoom = zoom;
    v.cx = wx - (sx - v.width / 2) / this.scale;
    v.cy = clamp(wy - (sy - v.height / 2) / this.scale, 0, 1);
    this.hideTooltip();
    this.requestRender();
  }

  panBy(dx, dy) {
    this.view.cx -= dx / this.scale;
    this.view.cy = clamp(this.view.cy - dy / this.scale, 0, 1);
    this.requestRender();
  }

  /** Fits the view to every placed camera. */
  fitToCameras() {
    const { mx, my, n } = this.table;
    const points = [];
    for (let i = 0; i < n; i++) if (Number.isFinite(mx[i])) points.push([mx[i], my[i]]);
    if (points.length) this.fitPoints(points);
  }

  fitPoints(points) {
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of points) {
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
    const v = this.view;
    const w = Math.max(1, v.width - 2 * FIT_PADDING_PX);
    const h = Math.max(1, v.height - 2 * FIT_PADDING_PX);
    const spanX = (maxX - minX) * 256;
    const spanY = (maxY - minY) * 256;
    const zoom = spanX || spanY ? Math.log2(Math.min(spanX ? w / spanX : Infinity, spanY ? h / spanY : Infinity)) : FIT_MAX_ZOOM;
    v.zoom = clamp(zoom, MIN_ZOOM, FIT_MAX_ZOOM);
    v.cx = (minX + maxX) / 2;
    v.cy = (minY + maxY) / 2;
    this.requestRender();
  }

  tableChanged() {
    // Fit once, when the first cameras arrive; after that the operator owns the view.
    if (!this.fitted && this.table.loaded && this.view.width > 0) {
      this.fitted = true;
      this.fitToCameras();
    }
    const unplaced = this.table.counts.unplaced;
    const placed = this.table.n - unplaced;
    this.notice.hidden = !this.table.loaded || (placed > 0 && unplaced === 0);
    this.notice.textContent = placed === 0 ? t('map.noCameras') : t('map.unplaced', { n: unplaced });
    this.requestRender();
  }

  /** Re-applies translated texts (legend, notice); called on a language change. */
  retranslate() {
    this.tableChanged();
    this.hideTooltip();
  }

  resize() {
    const box = this.canvas.parentElement.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.view.width = Math.max(1, Math.round(box.width));
    this.view.height = Math.max(1, Math.round(box.height));
    this.canvas.width = Math.round(this.view.width * this.dpr);
    this.canvas.height = Math.round(this.view.height * this.dpr);
    this.canvas.style.width = `${this.view.width}px`;
    this.canvas.style.height = `${this.view.height}px`;
    if (!this.fitted && this.table.loaded) this.tableChanged();
    this.requestRender();
  }

  render() {
    const { ctx, view, palette } = this;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = palette.background;
    ctx.fillRect(0, 0, view.width, view.height);
    if (this.tiles) this.tiles.draw(ctx, view);
    else drawGraticule(ctx, view, palette.graticule);

    this.grid.update(this.table, view.zoom);
    const selected = this.selectedId ? this.table.indexOf(this.selectedId) : -1;
    // Under a trajectory the cameras step back so the route and its numbers stay readable.
    ctx.globalAlpha = this.trajectory.length ? 0.4 : 1;
    const drawn = drawCameras(ctx, view, this.grid, this.table, palette, selected, this.project);
    ctx.globalAlpha = 1;
    stats.camerasDrawn = drawn.cameras;
    stats.clusters = drawn.clusters;
    drawTrajectory(ctx, this.trajectory, palette, this.project);
    this.canvas.dataset.cameras = String(drawn.cameras);
    this.canvas.dataset.clusters = String(drawn.clusters);
  }

  hitTest(sx, sy) {
    const v = this.view;
    const wx = v.cx + (sx - v.width / 2) / this.scale;
    const wy = v.cy + (sy - v.height / 2) / this.scale;
    this.grid.update(this.table, v.zoom);
    return this.grid.hitTest(this.table, wx, wy, sx, sy, this.project);
  }

  bindInput() {
    const c = this.canvas;
    c.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      c.setPointerCapture(e.pointerId);
      this.pointer = { id: e.pointerId, x: e.offsetX, y: e.offsetY, startX: e.offsetX, startY: e.offsetY, dragging: false };
    });
    c.addEventListener('pointermove', (e) => {
      const p = this.pointer;
      if (p && p.id === e.pointerId) {
        if (!p.dragging && Math.hypot(e.offsetX - p.startX, e.offsetY - p.startY) > DRAG_THRESHOLD_PX) {
          p.dragging = true;
          c.classList.add('dragging');
          this.hideTooltip();
        }
        if (p.dragging) this.panBy(e.offsetX - p.x, e.offsetY - p.y);
        p.x = e.offsetX;
        p.y = e.offsetY;
        return;
      }
      this.hover(e.offsetX, e.offsetY);
    });
    const release = (e) => {
      const p = this.pointer;
      if (!p || p.id !== e.pointerId) return;
      this.pointer = null;
      c.classList.remove('dragging');
      if (!p.dragging && e.type === 'pointerup') this.click(e.offsetX, e.offsetY);
    };
    c.addEventListener('pointerup', release);
    c.addEventListener('pointercancel', release);
    c.addEventListener('pointerleave', () => this.hideTooltip());
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const units = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? e.deltaY * 33 : e.deltaY;
      this.zoomBy(clamp(-units * WHEEL_ZOOM_PER_UNIT, -1, 1), e.offsetX, e.offsetY);
    }, { passive: false });
    c.addEventListener('dblclick', (e) => this.zoomBy(1, e.offsetX, e.offsetY));
    c.addEventListener('keydown', (e) => this.key(e));

    const button = (testid, fn) => this.pane.querySelector(`[data-testid="${testid}"]`).addEventListener('click', fn);
    button('map-zoom-in', () => this.zoomBy(1));
    button('map-zoom-out', () => this.zoomBy(-1));
    button('map-fit', () => this.fitToCameras());
  }

  key(e) {
    const step = 80;
    const actions = {
      '+': () => this.zoomBy(1),
      '=': () => this.zoomBy(1),
      '-': () => this.zoomBy(-1),
      ArrowLeft: () => this.panBy(step, 0),
      ArrowRight: () => this.panBy(-step, 0),
      ArrowUp: () => this.panBy(0, step),
      ArrowDown: () => this.panBy(0, -step),
    };
    const action = actions[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  }

  click(sx, sy) {
    const hit = this.hitTest(sx, sy);
    if (!hit) return;
    if (hit.type === 'cluster') {
      const [x, y] = this.project(hit.cell.x, hit.cell.y);
      this.zoomBy(2, x, y);
    } else {
      this.onCameraClick(this.table.ids[hit.index]);
    }
  }

  hover(sx, sy) {
    const hit = this.hitTest(sx, sy);
    this.canvas.classList.toggle('pointing', Boolean(hit));
    if (!hit) {
      this.hideTooltip();
      return;
    }
    const lines = hit.type === 'cluster' ? clusterLines(hit.cell) : this.cameraLines(hit.index);
    this.tooltip.replaceChildren(...lines.map((text, i) => {
      const line = document.createElement('div');
      line.className = i === 0 ? 'tip-title' : 'tip-line';
      line.textContent = text;
      return line;
    }));
    this.tooltip.hidden = false;
    // Keep the tooltip inside the map: flip it left/up near the right/bottom edges.
    const { width, height } = this.view;
    const tipW = this.tooltip.offsetWidth;
    const tipH = this.tooltip.offsetHeight;
    const x = sx + 14 + tipW > width ? sx - 14 - tipW : sx + 14;
    const y = sy + 14 + tipH > height ? sy - 14 - tipH : sy + 14;
    this.tooltip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  cameraLines(i) {
    const table = this.table;
    const state = STATES[table.state[i]];
    return [
      table.names[i],
      `${table.ids[i]} · ${table.departments[i]}`,
      `${t(HEALTH_LABEL[table.health[i]])} · ${t(`state.${state}`)}`,
      t('map.clickToFilter'),
    ];
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }
}

function clusterLines(cell) {
  const b = cell.byHealth;
  return [
    t('map.cluster', { n: cell.count }),
    t('map.clusterBreakdown', { ok: b[HEALTH.OK], degraded: b[HEALTH.DEGRADED], down: b[HEALTH.DOWN], unknown: b[HEALTH.UNKNOWN] }),
    t('map.clickToZoom'),
  ];
}

/** Canvas colours come from the stylesheet's custom properties: one place defines the theme. */
function readPalette(el) {
  const css = getComputedStyle(el);
  const v = (name) => css.getPropertyValue(name).trim();
  const health = [];
  const clusterFill = [];
  health[HEALTH.OK] = v('--ok');
  health[HEALTH.DEGRADED] = v('--degraded');
  health[HEALTH.DOWN] = v('--down');
  health[HEALTH.UNKNOWN] = v('--unknown');
  clusterFill[HEALTH.OK] = v('--cluster-ok');
  clusterFill[HEALTH.DEGRADED] = v('--cluster-degraded');
  clusterFill[HEALTH.DOWN] = v('--cluster-down');
  clusterFill[HEALTH.UNKNOWN] = v('--cluster-unknown');
  return {
    background: v('--map-bg'),
    graticule: { line: v('--map-grid'), label: v('--map-label') },
    health,
    clusterFill,
    clusterText: v('--text'),
    dotStroke: v('--map-bg'),
    selected: v('--selected'),
    trajectory: v('--trajectory'),
    trajectoryHalo: v('--map-bg'),
    trajectoryText: v('--trajectory-text'),
  };
}

function clamp(x, lo, hi) {
  return Math.max(lo, Math.min(hi, x));
}
