// The live stream indicator in the header: connected / connecting / reconnecting (with the
// backoff delay) / error, plus a note when the server reports it skipped events for us.
import { t } from './i18n.js';

export class LiveStatus {
  constructor(node) {
    this.node = node;
    this.label = node.querySelector('.live-label');
    this.state = 'connecting';
    this.info = {};
    this.lagged = 0;
  }

  set(state, info = {}) {
    this.state = state;
    this.info = info;
    this.render();
  }

  addLagged(n) {
    this.lagged += n;
    this.render();
  }

  render() {
    const { state, info } = this;
    this.node.dataset.state = state;
    const text = {
      connecting: t('live.connecting'),
      connected: t('live.connected'),
      reconnecting: info.delayMs ? t('live.reconnecting', { s: Math.round(info.delayMs / 1000) }) : t('live.connecting'),
      error: t('live.error', { detail: info.detail ?? '' }),
    }[state];
    this.label.textContent = text;
    this.node.title = this.lagged ? t('live.lagged', { n: this.lagged }) : text;
    this.node.classList.toggle('lagged', this.lagged > 0);
  }
}
