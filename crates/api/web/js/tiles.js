// Optional raster base map: XYZ Web-Mercator tiles from the deployment's own tile server
// (view-config.tile_url). Tiles are plain <img> loads (no CORS needed: the canvas is never
// read back), cached in insertion order with the oldest evicted; while a tile loads, a loaded
// ancestor is scaled up in its place so zooming does not flash empty squares.
import { TILE_SIZE, worldSize } from './geo.js';

const MAX_TILE_ZOOM = 19;
const CACHE_LIMIT = 512;
const ANCESTOR_LEVELS = 4;

export class TileLayer {
  constructor(template, onTileLoaded) {
    this.template = template;
    this.onTileLoaded = onTileLoaded;
    this.cache = new Map();
  }

  url(z, x, y) {
    return this.template.replace('{z}', z).replace('{x}', x).replace('{y}', y);
  }

  /** The cache entry of a tile, requesting it when `load` is set and it is not cached. */
  tile(z, x, y, load) {
    const key = `${z}/${x}/${y}`;
    let entry = this.cache.get(key);
    if (entry) {
      // Re-insert: Map order doubles as least-recently-used order.
      this.cache.delete(key);
      this.cache.set(key, entry);
      return entry;
    }
    if (!load) return null;
    const img = new Image();
    entry = { img, ready: false };
    img.decoding = 'async';
    img.onload = () => {
      entry.ready = true;
      this.onTileLoaded();
    };
    img.onerror = () => {
      entry.failed = true;
    };
    img.src = this.url(z, x, y);
    this.cache.set(key, entry);
    this.evict();
    return entry;
  }

  evict() {
    for (const [key, entry] of this.cache) {
      if (this.cache.size <= CACHE_LIMIT) break;
      entry.img.src = ''; // cancels a load still in flight
      this.cache.delete(key);
    }
  }

  draw(ctx, view) {
    const z = Math.max(0, Math.min(MAX_TILE_ZOOM, Math.round(view.zoom)));
    const n = 2 ** z;
    const size = worldSize(view.zoom) / n; // one tile, in screen pixels
    const left = view.cx * worldSize(view.zoom) - view.width / 2;
    const top = view.cy * worldSize(view.zoom) - view.height / 2;
    const x0 = Math.floor(left / size);
    const x1 = Math.floor((left + view.width) / size);
    const y0 = Math.max(0, Math.floor(top / size));
    const y1 = Math.min(n - 1, Math.floor((top + view.height) / size));
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const wrapped = ((tx % n) + n) % n;
        // Half a pixel of overlap hides hairline seams between scaled tiles.
        const sx = tx * size - left;
        const sy = ty * size - top;
        const entry = this.tile(z, wrapped, ty, true);
        if (entry.ready) ctx.drawImage(entry.img, sx, sy, size + 0.5, size + 0.5);
        else this.drawAncestor(ctx, z, wrapped, ty, sx, sy, size);
      }
    }
  }

  drawAncestor(ctx, z, x, y, sx, sy, size) {
    for (let up = 1; up <= ANCESTOR_LEVELS && z - up >= 0; up++) {
      const f = 2 ** up;
      const entry = this.tile(z - up, Math.floor(x / f), Math.floor(y / f), false);
      if (!entry?.ready) continue;
      const part = TILE_SIZE / f;
      const srcX = (x % f) * part;
      const srcY = (y % f) * part;
      ctx.drawImage(entry.img, srcX, srcY, part, part, sx, sy, size + 0.5, size + 0.5);
      return;
    }
  }
}
