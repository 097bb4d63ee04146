// Entry point: decides between the sign-in screen and the command view, and owns the
// transitions between them (sign-in, sign-out, a 401 from anywhere).
import { createApi, fetchViewConfig } from './api.js';
import { mountApp } from './app.js';
import { initLang } from './i18n.js';
import { clearRoute } from './router.js';
import { clearToken, loadToken, saveToken } from './session.js';
import { mountSignIn } from './signin.js';

initLang();
const root = document.getElementById('root');
// Public and the same for everyone: fetched once, while the operator is still signing in.
const viewConfig = fetchViewConfig();
let teardown = null;

const saved = loadToken();
if (saved) {
  // A reload of a signed-in tab: go straight back in, or to sign-in if the token died.
  signIn(saved).then((failure) => {
    if (failure) showSignIn(failure);
  });
} else {
  showSignIn(null);
}

function replaceScreen(mount) {
  teardown?.();
  teardown = null;
  teardown = mount();
}

function showSignIn(notice) {
  replaceScreen(() => mountSignIn(root, { notice, onSubmit: signIn }));
}

/** Checks a token with /api/v1/me and opens the command view; resolves to an error or null. */
async function signIn(token) {
  // A 401 before the view is up is this function's answer, not an expired session.
  let signedIn = false;
  const api = createApi(token, {
    onUnauthorized: () => {
      if (signedIn) signOut({ key: 'signin.expired' });
    },
  });
  let me;
  try {
    me = await api.getJson('/api/v1/me');
  } catch (err) {
    api.close();
    clearToken();
    return err.status === 401
      ? { key: 'signin.rejected', params: { detail: err.detail } }
      : { key: 'signin.failed', params: { detail: err.detail } };
  }
  saveToken(token);
  signedIn = true;
  const config = await viewConfig;
  replaceScreen(() => mountApp(root, { api, me, viewConfig: config, onSignOut: () => signOut({ key: 'signin.signedOut' }) }));
  return null;
}

function signOut(notice) {
  clearToken();
  // The next user must not land on the previous user's event.
  clearRoute();
  showSignIn(notice);
}
