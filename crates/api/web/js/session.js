// The bearer token lives in sessionStorage: it survives a reload of this tab (a wall screen
// that refreshes stays signed in) but not the tab itself, and never reaches a URL or a cookie.

const TOKEN_KEY = 'xl.token';

export function loadToken() {
  return read(TOKEN_KEY);
}

export function saveToken(token) {
  write(TOKEN_KEY, token);
}

export function clearToken() {
  remove(TOKEN_KEY);
}

function read(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, value);
  } catch {
    // Without storage the token is only lost on reload; signing in still works.
  }
}

function remove(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // Nothing was stored.
  }
}
