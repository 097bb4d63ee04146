// Web-Mercator (EPSG:3857) in normalised world units: x and y run 0..1 across the whole map,
// y growing southwards, as XYZ tiles do. Screen pixels at zoom z are these times 256·2^z.

export const TILE_SIZE = 256;
// Mercator diverges at the poles; tiles stop at this latitude.
export const MAX_LAT = 85.05112878;

export function lonToX(lon) {
  return (lon + 180) / 360;
}

export function latToY(lat) {
  const clamped = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const s = Math.sin((clamped * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

export function xToLon(x) {
  return x * 360 - 180;
}

export function yToLat(y) {
  const n = Math.PI - 2 * Math.PI * y;
  return (180 / Math.PI) * Math.atan(Math.sinh(n));
}

export function worldSize(zoom) {
  return TILE_SIZE * 2 ** zoom;
}

/** True for a usable coordinate pair (cameras not yet placed have null lat/lon). */
export function isPlaced(lat, lon) {
  return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
}
