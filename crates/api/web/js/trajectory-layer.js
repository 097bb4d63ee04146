// Draws a plate's trajectory: a polyline through the cameras that read it, in time order, with
// an arrow on each leg showing the direction of travel and each read numbered as in the list.

const ARROW_MIN_LEG_PX = 36;

/**
 * @param points [{x, y, n}] world units, time order; n is the read's number in the list
 * @param project (x, y) world units -> [sx, sy] screen pixels
 */
export function drawTrajectory(ctx, points, palette, project) {
  if (!points.length) return;
  const screen = points.map((p) => [...project(p.x, p.y), p.n]);

  ctx.save();
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  ctx.beginPath();
  screen.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.lineWidth = 6;
  ctx.strokeStyle = palette.trajectoryHalo;
  ctx.stroke();
  ctx.lineWidth = 3;
  ctx.strokeStyle = palette.trajectory;
  ctx.stroke();

  ctx.fillStyle = palette.trajectory;
  for (let i = 1; i < screen.length; i++) {
    const [x0, y0] = screen[i - 1];
    const [x1, y1] = screen[i];
    if (Math.hypot(x1 - x0, y1 - y0) >= ARROW_MIN_LEG_PX) arrow(ctx, (x0 + x1) / 2, (y0 + y1) / 2, Math.atan2(y1 - y0, x1 - x0));
  }

  ctx.font = '600 11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (const [x, y, n] of screen) {
    ctx.beginPath();
    ctx.arc(x, y, 10, 0, 2 * Math.PI);
    ctx.fillStyle = palette.trajectory;
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = palette.trajectoryHalo;
    ctx.stroke();
    ctx.fillStyle = palette.trajectoryText;
    ctx.fillText(String(n), x, y + 0.5);
  }
  ctx.restore();
}

function arrow(ctx, x, y, angle) {
  const size = 8;
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate(angle);
  ctx.beginPath();
  ctx.moveTo(size, 0);
  ctx.lineTo(-size, -size * 0.7);
  ctx.lineTo(-size * 0.5, 0);
  ctx.lineTo(-size, size * 0.7);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}
