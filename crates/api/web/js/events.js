// What the page knows about events beyond their JSON: which kinds exist, which are violations
// (reviewable, highlighted), and how plate searches map onto the API's query parameters.

export const KINDS = [
  'plate_read',
  'watchlist_hit',
  'restricted_zone',
  'overload',
  'obscured_plate',
  'cloned_plate',
  'flow_count',
];

// The server only accepts reviews for these; plate_read and flow_count are observations.
export const VIOLATION_KINDS = new Set([
  'watchlist_hit',
  'restricted_zone',
  'overload',
  'obscured_plate',
  'cloned_plate',
]);

export function isViolation(kind) {
  return VIOLATION_KINDS.has(kind);
}

export const PLATE_COLORS = ['blue', 'yellow', 'green', 'white', 'black'];

/** Masked plates replace characters with `*`, e.g. 皖S****5. */
export function isMaskedPlate(text) {
  return typeof text === 'string' && text.includes('*');
}

// Ordinary plates have 7 characters (8 for new-energy plates): anything shorter cannot be a
// whole plate, so it is searched as a prefix rather than returning nothing.
const FULL_PLATE_LENGTH = 7;

/**
 * Turns what the operator typed into the search: `{param: 'plate'|'plate_prefix', value}`,
 * or null when there is nothing to search. Plates are upper-case on the server.
 */
export function plateQuery(input) {
  let text = String(input ?? '').trim().replace(/\s+/g, '').toUpperCase();
  const prefix = text.endsWith('*');
  text = text.replace(/\*+$/, '');
  if (!text) return null;
  // Count code points, not UTF-16 units: the province character is one character.
  const length = [...text].length;
  if (prefix || length < FULL_PLATE_LENGTH) return { param: 'plate_prefix', value: text };
  return { param: 'plate', value: text };
}

/** A vehicle box is `[x1,y1,x2,y2]` in the schema; accept the object form too. */
export function bboxOf(vehicle) {
  const b = vehicle?.bbox;
  if (Array.isArray(b) && b.length === 4) return b.map(Number);
  if (b && typeof b === 'object') return [b.x1, b.y1, b.x2, b.y2].map(Number);
  return null;
}

/** The latest review decides the status; reviews come oldest first. */
export function latestReview(reviews) {
  return Array.isArray(reviews) && reviews.length ? reviews[reviews.length - 1] : null;
}
