// Counters for the load test and for anyone poking at a wall screen from the console:
// window.__xlStats. Plain numbers, updated in place, never anything costly.
export const stats = {
  /** Live events received since sign-in (including those held while the feed is paused). */
  eventsReceived: 0,
  /** Feed rows written to the DOM since sign-in (new rows and refreshes; moves not counted). */
  rowsRendered: 0,
  /** Cameras on screen in the last map frame, as dots or inside drawn clusters. */
  camerasDrawn: 0,
  /** Cluster circles in the last map frame. */
  clusters: 0,
};

if (typeof window !== 'undefined') window.__xlStats = stats;

/** A new session starts from zero so one user's numbers never show under another's. */
export function resetStats() {
  for (const key of Object.keys(stats)) stats[key] = 0;
}
