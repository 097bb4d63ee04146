// Draws the cameras (or their clusters) of a ClusterGrid onto the map canvas. Dots of one
// health class are collected into one Path2D and filled at once, so thousands of visible
// cameras cost four fills, not thousands.
import { HEALTH } from './camera-columns.js';
import { clusterRadius, DOT_RADIUS } from './cluster.js';

// Ring order around a cluster: healthy first, clockwise from twelve o'clock.
const RING_ORDER = [HEALTH.OK, HEALTH.DEGRADED, HEALTH.DOWN, HEALTH.UNKNOWN];

/**
 * @param project (x, y) world units -> [sx, sy] screen pixels
 * @returns {{cameras: number, clusters: number}} what ended up on screen
 */
export function drawCameras(ctx, view, grid, table, palette, selectedIndex, project) {
  const dots = [new Path2D(), new Path2D(), new Path2D(), new Path2D()];
  const clusters = [];
  let cameras = 0;
  const { width, height } = view;
  for (const cell of grid.cells.values()) {
    if (grid.individual(cell)) {
      for (const i of cell.members) {
        const [x, y] = project(table.mx[i], table.my[i]);
        if (x < -DOT_RADIUS || y < -DOT_RADIUS || x > width + DOT_RADIUS || y > height + DOT_RADIUS) continue;
        const path = dots[table.health[i]];
        path.moveTo(x + DOT_RADIUS, y);
        path.arc(x, y, DOT_RADIUS, 0, 2 * Math.PI);
        cameras++;
      }
    } else {
      const [x, y] = project(cell.x, cell.y);
      const r = clusterRadius(cell.count);
      if (x < -r || y < -r || x > width + r || y > height + r) continue;
      clusters.push([cell, x, y, r]);
      cameras += cell.count;
    }
  }

  ctx.lineWidth = 1.5;
  ctx.strokeStyle = palette.dotStroke;
  for (let h = 0; h < dots.length; h++) {
    ctx.fillStyle = palette.health[h];
    ctx.fill(dots[h]);
    ctx.stroke(dots[h]);
  }

  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = '600 12px system-ui, sans-serif';
  for (const [cell, x, y, r] of clusters) drawCluster(ctx, cell, x, y, r, palette);

  if (selectedIndex >= 0 && Number.isFinite(table.mx[selectedIndex])) {
    const [x, y] = project(table.mx[selectedIndex], table.my[selectedIndex]);
    ctx.beginPath();
    ctx.arc(x, y, DOT_RADIUS + 5, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = palette.selected;
    ctx.stroke();
  }
  return { cameras, clusters: clusters.length };
}

function drawCluster(ctx, cell, x, y, r, palette) {
  // Body tinted with the worst health inside, so a red cluster is visible at a glance.
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = palette.clusterFill[cell.worst];
  ctx.fill();
  // Ring: the share of each health class.
  ctx.lineWidth = 4;
  let angle = -Math.PI / 2;
  for (const h of RING_ORDER) {
    const n = cell.byHealth[h];
    if (!n) continue;
    const sweep = (n / cell.count) * 2 * Math.PI;
    ctx.beginPath();
    ctx.arc(x, y, r - 2, angle, angle + sweep);
    ctx.strokeStyle = palette.health[h];
    ctx.stroke();
    angle += sweep;
  }
  ctx.fillStyle = palette.clusterText;
  ctx.fillText(String(cell.count), x, y + 0.5);
}
