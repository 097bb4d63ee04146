// The map's background when no tile server is configured (the default: the command centre
// network is offline): a graticule of longitude/latitude lines at a spacing that suits the zoom,
// labelled at the edges, so operators still read positions and distances.
import { latToY, worldSize, xToLon, yToLat } from './geo.js';

const STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
const TARGET_SPACING_PX = 140;

export function drawGraticule(ctx, view, colors) {
  const ws = worldSize(view.zoom);
  const left = view.cx - view.width / 2 / ws;
  const right = view.cx + view.width / 2 / ws;
  const top = Math.max(0, view.cy - view.height / 2 / ws);
  const bottom = Math.min(1, view.cy + view.height / 2 / ws);
  const degPerPx = 360 / ws;
  const step = STEPS.find((s) => s / degPerPx >= TARGET_SPACING_PX) ?? 30;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const sx = (x) => (x - view.cx) * ws + view.width / 2;
  const sy = (y) => (y - view.cy) * ws + view.height / 2;

  ctx.save();
  ctx.strokeStyle = colors.line;
  ctx.lineWidth = 1;
  ctx.fillStyle = colors.label;
  ctx.font = '11px system-ui, sans-serif';
  ctx.beginPath();
  // Integer multiples of the step: adding the step repeatedly would accumulate float error.
  for (let k = Math.ceil(xToLon(left) / step); k <= Math.floor(xToLon(right) / step); k++) {
    const lon = k * step;
    const x = Math.round(sx((lon + 180) / 360)) + 0.5;
    ctx.moveTo(x, 0);
    ctx.lineTo(x, view.height);
    ctx.fillText(degrees(lon, decimals, 'E', 'W'), x + 3, view.height - 6);
  }
  for (let k = Math.ceil(yToLat(bottom) / step); k <= Math.floor(yToLat(top) / step); k++) {
    const lat = k * step;
    const y = Math.round(sy(latToY(lat))) + 0.5;
    ctx.moveTo(0, y);
    ctx.lineTo(view.width, y);
    ctx.fillText(degrees(lat, decimals, 'N', 'S'), 4, y - 3);
  }
  ctx.stroke();
  ctx.restore();
}

function degrees(value, decimals, positive, negative) {
  return `${Math.abs(value).toFixed(decimals)}°${value >= 0 ? positive : negative}`;
}
