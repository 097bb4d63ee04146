// Grid clustering of the cameras for the map. Cameras are binned into square cells of
// CELL_PX screen pixels, anchored to the world (not the screen) so clusters stay put while the
// map pans; the grid is rebuilt only when the camera table or the (quantised) zoom changes.
// The same cells answer hover and click hit tests: a pointer position maps to one cell, and
// only that cell and its eight neighbours are examined.
import { HEALTH } from './camera-columns.js';
import { worldSize } from './geo.js';

export const CELL_PX = 64;
// From this zoom on (street level) every camera is drawn on its own, however close.
export const INDIVIDUAL_ZOOM = 16;
export const DOT_RADIUS = 5;

/** Cluster radius grows with the log of the count and stays under half a cell. */
export function clusterRadius(count) {
  return Math.min(CELL_PX / 2 - 4, 10 + 5 * Math.log10(count));
}

// Half-level steps: continuous wheel zooming would otherwise rebuild the grid on every frame.
function quantise(zoom) {
  return Math.floor(zoom * 2) / 2;
}

export class ClusterGrid {
  constructor() {
    this.cells = new Map();
    this.built = '';
    this.zoom = 0;
    this.cellsAcross = 1;
  }

  /** Rebuilds the cells if needed for this table version and zoom; true when it did. */
  update(table, zoom) {
    const zq = quantise(zoom);
    const built = `${table.version}@${zq}`;
    if (built === this.built) return false;
    this.built = built;
    this.zoom = zq;
    this.cellsAcross = Math.ceil(worldSize(zq) / CELL_PX);
    const across = this.cellsAcross;
    const cells = new Map();
    const { mx, my, health } = table;
    for (let i = 0; i < table.n; i++) {
      const x = mx[i];
      if (Number.isNaN(x)) continue; // not placed
      const y = my[i];
      const col = Math.floor(x * across);
      const row = Math.floor(y * across);
      const key = row * across + col;
      let cell = cells.get(key);
      if (!cell) {
        cell = { sumX: 0, sumY: 0, x: 0, y: 0, count: 0, worst: HEALTH.OK, byHealth: [0, 0, 0, 0], members: [] };
        cells.set(key, cell);
      }
      cell.sumX += x;
      cell.sumY += y;
      cell.count++;
      const h = health[i];
      cell.byHealth[h]++;
      if (h < cell.worst) cell.worst = h;
      cell.members.push(i);
    }
    for (const cell of cells.values()) {
      cell.x = cell.sumX / cell.count;
      cell.y = cell.sumY / cell.count;
    }
    this.cells = cells;
    return true;
  }

  /** Whether a cell's cameras are drawn one by one rather than as a cluster. */
  individual(cell) {
    return cell.count === 1 || this.zoom >= INDIVIDUAL_ZOOM;
  }

  /**
   * What is under the pointer at world position (wx, wy), given the view's projection
   * `toScreen(x, y) -> [sx, sy]` and the pointer's screen position: the nearest camera or
   * cluster within its drawn radius, or null.
   */
  hitTest(table, wx, wy, sx, sy, toScreen) {
    const across = this.cellsAcross;
    const col = Math.floor(wx * across);
    const row = Math.floor(wy * across);
    let best = null;
    let bestDist = Infinity;
    for (let dr = -1; dr <= 1; dr++) {
      for (let dc = -1; dc <= 1; dc++) {
        const cell = this.cells.get((row + dr) * across + (col + dc));
        if (!cell) continue;
        if (this.individual(cell)) {
          for (const i of cell.members) {
            const [px, py] = toScreen(table.mx[i], table.my[i]);
            const d = Math.hypot(px - sx, py - sy);
            if (d <= DOT_RADIUS + 4 && d < bestDist) {
              best = { type: 'camera', index: i };
              bestDist = d;
            }
          }
        } else {
          const [px, py] = toScreen(cell.x, cell.y);
          const d = Math.hypot(px - sx, py - sy);
          if (d <= clusterRadius(cell.count) && d < bestDist) {
            best = { type: 'cluster', cell };
            bestDist = d;
          }
        }
      }
    }
    return best;
  }
}
