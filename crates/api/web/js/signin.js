// The sign-in screen: the operator pastes a token; the caller checks it against /api/v1/me.
import { byTestId } from './dom.js';
import { onLangChange, t, toggleLang, translateTree } from './i18n.js';

/**
 * Shows the screen in `root`.
 * @param options {notice: {key, params}|null, onSubmit(token) -> Promise<{key, params}|null>}
 *   onSubmit resolves to an error to show, or null once the app has taken over the screen.
 * @returns teardown function
 */
export function mountSignIn(root, { notice, onSubmit }) {
  const screen = document.getElementById('tpl-sign-in').content.firstElementChild.cloneNode(true);
  root.replaceChildren(screen);
  translateTree(screen);
  const form = screen.querySelector('form');
  const input = byTestId(screen, 'token-input');
  const error = byTestId(screen, 'sign-in-error');
  const submit = byTestId(screen, 'sign-in');
  let message = notice;

  const showMessage = () => {
    error.hidden = !message;
    error.textContent = message ? t(message.key, message.params) : '';
  };
  const setBusy = (busy) => {
    submit.disabled = busy;
    input.disabled = busy;
    submit.textContent = busy ? t('signin.busy') : t('signin.submit');
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      message = { key: 'signin.empty' };
      showMessage();
      return;
    }
    setBusy(true);
    const failure = await onSubmit(token);
    if (!failure) return; // the app replaced this screen
    setBusy(false);
    message = failure;
    showMessage();
    input.select();
  });
  byTestId(screen, 'lang-toggle').addEventListener('click', toggleLang);
  const unsubscribe = onLangChange(() => {
    translateTree(screen);
    showMessage();
  });

  showMessage();
  input.focus();
  return unsubscribe;
}
