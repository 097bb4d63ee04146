// Hash routes. Only one today: #/event/<id> opens that event's detail, so a detail can be
// linked, reloaded and reached with the browser's back button. Nothing secret goes in a URL.

const EVENT_ROUTE = /^#\/event\/([^/?#]+)$/;

/** The current route: {name: 'event', id} or {name: 'home'}. */
export function currentRoute() {
  const match = EVENT_ROUTE.exec(location.hash);
  if (!match) return { name: 'home' };
  try {
    return { name: 'event', id: decodeURIComponent(match[1]) };
  } catch {
    return { name: 'home' }; // malformed percent-encoding
  }
}

export function eventHref(id) {
  return `#/event/${encodeURIComponent(id)}`;
}

export function goToEvent(id) {
  location.hash = eventHref(id);
}

/** Leaves the detail route without adding a history entry. */
export function clearRoute() {
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

export function onRouteChange(fn) {
  const handler = () => fn(currentRoute());
  window.addEventListener('hashchange', handler);
  return () => window.removeEventListener('hashchange', handler);
}
