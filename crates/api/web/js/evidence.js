// Evidence images. <img> cannot send the Authorization header, so each image is fetched as a
// blob and shown through an object URL (the owner revokes it when the detail closes). On the
// full frame the plate and the vehicle box are outlined on a canvas laid over the image.
import { bboxOf } from './events.js';

/** Fetches evidence `index` of an event; resolves to an object URL the caller must revoke. */
export async function loadEvidence(api, eventId, index, signal) {
  const blob = await api.getBlob(`/api/v1/events/${encodeURIComponent(eventId)}/evidence/${index}`, { signal });
  return URL.createObjectURL(blob);
}

/**
 * Scale from source pixels (where the event's corners and boxes are) to the image's pixels.
 * The analysed frame is often smaller than the source: provenance.source.size says how big the
 * source was. Old events lack it; then the points are taken as image pixels if they fit inside
 * the image, and otherwise no outline is drawn rather than a misplaced one.
 */
export function overlayScale(size, imageWidth, imageHeight, points) {
  if (Array.isArray(size) && size[0] > 0 && size[1] > 0) return [imageWidth / size[0], imageHeight / size[1]];
  const fits = points.every(([x, y]) => x >= 0 && y >= 0 && x <= imageWidth && y <= imageHeight);
  return fits ? [1, 1] : null;
}

/** Draws the outlines for `event` over a loaded frame image; returns whether it drew any. */
export function drawOverlay(canvas, img, event, colors) {
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, w, h);

  const corners = validCorners(event.plate?.corners);
  const box = bboxOf(event.vehicle);
  const points = [...(corners ?? []), ...(box ? [[box[0], box[1]], [box[2], box[3]]] : [])];
  if (!points.length) return false;
  const scale = overlayScale(event.provenance?.source?.size, w, h, points);
  if (!scale) return false;
  const [sx, sy] = scale;
  // Lines scale with the image so they stay visible once the image is shrunk to the panel.
  const line = Math.max(2, Math.round(w / 320));

  if (box) {
    ctx.setLineDash([line * 3, line * 2]);
    ctx.lineWidth = line;
    ctx.strokeStyle = colors.vehicle;
    ctx.strokeRect(box[0] * sx, box[1] * sy, (box[2] - box[0]) * sx, (box[3] - box[1]) * sy);
    ctx.setLineDash([]);
  }
  if (corners) {
    ctx.beginPath();
    corners.forEach(([x, y], i) => (i ? ctx.lineTo(x * sx, y * sy) : ctx.moveTo(x * sx, y * sy)));
    ctx.closePath();
    ctx.lineWidth = line + 1;
    ctx.strokeStyle = colors.plate;
    ctx.stroke();
  }
  return true;
}

function validCorners(corners) {
  if (!Array.isArray(corners) || corners.length !== 4) return null;
  const ok = corners.every((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]));
  return ok ? corners : null;
}
