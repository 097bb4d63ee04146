// The event detail panel: every field of one event in readable form, its evidence images with
// the plate outlined, and, for violations, the review history and the confirm / dismiss
// actions. Opened through the hash route #/event/<id> (see router.js).
import { isAbort } from './api.js';
import { byTestId, el } from './dom.js';
import { drawOverlay, loadEvidence } from './evidence.js';
import { bboxOf, isMaskedPlate, isViolation, latestReview } from './events.js';
import { formatPercent, formatTime } from './format.js';
import { enumLabel, t } from './i18n.js';
import { ruleRows } from './rule-details.js';
import { kindChip, plateChip } from './widgets.js';

const MAX_REASON_CHARS = 500;
// An event that just arrived on the live stream may not be in the store yet (the writer
// batches): a 404 for such an event is retried a few times before it is believed.
const FRESH_RETRIES = 4;
const FRESH_RETRY_MS = 1000;

export class EventDetail {
  /**
   * @param panel the aside[data-testid=event-detail] element
   * @param options {api, table: CameraTable, me, onClose(), onShowCamera(id), onSearchPlate(text),
   *   isFresh(id) -> whether the event arrived on the live stream moments ago}
   */
  constructor(panel, { api, table, me, onClose, onShowCamera, onSearchPlate, isFresh }) {
    this.panel = panel;
    this.body = panel.querySelector('.detail-body');
    this.kindSlot = panel.querySelector('.detail-kind');
    this.api = api;
    this.table = table;
    this.canReview = me.role !== 'viewer';
    this.onShowCamera = onShowCamera;
    this.onSearchPlate = onSearchPlate;
    this.isFresh = isFresh;
    this.state = null;
    this.colors = readOverlayColors(panel);
    byTestId(panel, 'detail-close').addEventListener('click', () => onClose());
    this.onKey = (e) => {
      if (e.key === 'Escape' && !this.panel.hidden) onClose();
    };
    document.addEventListener('keydown', this.onKey);
  }

  destroy() {
    this.close();
    document.removeEventListener('keydown', this.onKey);
  }

  async open(id) {
    // Reopening the event on show is a no-op; after a failure it is a retry.
    if (this.state?.id === id && this.state.status !== 'error') return;
    this.close();
    const state = { id, status: 'loading', event: null, reviews: [], error: null, images: new Map(), aborter: new AbortController(), review: { busy: false, error: null } };
    this.state = state;
    this.panel.hidden = false;
    this.render();
    try {
      const event = await this.fetchEvent(id, state.aborter.signal);
      if (this.state !== state) return;
      state.event = event;
      state.reviews = Array.isArray(event.reviews) ? event.reviews : [];
      state.status = 'ready';
      this.render();
      this.loadImages(state);
    } catch (err) {
      if (isAbort(err) || this.state !== state) return;
      state.status = 'error';
      state.error = err;
      this.render();
    }
  }

  async fetchEvent(id, signal) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api.getJson(`/api/v1/events/${encodeURIComponent(id)}`, null, { signal });
      } catch (err) {
        if (err.status !== 404 || attempt >= FRESH_RETRIES || !this.isFresh(id)) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, FRESH_RETRY_MS));
      signal.throwIfAborted();
    }
  }

  /** Hides the panel and releases what the open event held (requests, image object URLs). */
  close() {
    const state = this.state;
    this.state = null;
    this.panel.hidden = true;
    this.body.replaceChildren();
    this.kindSlot.replaceChildren();
    if (!state) return;
    state.aborter.abort();
    for (const image of state.images.values()) if (image.url) URL.revokeObjectURL(image.url);
  }

  retranslate() {
    if (this.state) this.render();
  }

  async loadImages(state) {
    const evidence = state.event.evidence ?? [];
    await Promise.all(evidence.map(async (_, index) => {
      const image = { url: null, error: null };
      state.images.set(index, image);
      try {
        const url = await loadEvidence(this.api, state.id, index, state.aborter.signal);
        if (this.state !== state) {
          URL.revokeObjectURL(url); // closed while the image was on its way
          return;
        }
        image.url = url;
      } catch (err) {
        if (isAbort(err)) return;
        image.error = err;
      }
      if (this.state === state) this.fillFigure(index, image);
    }));
  }

  render() {
    const state = this.state;
    if (!state) return;
    this.panel.dataset.eventId = state.id;
    this.panel.dataset.status = state.status;
    if (state.status === 'loading') {
      this.kindSlot.replaceChildren();
      this.body.replaceChildren(el('p', { class: 'detail-loading', text: t('detail.loading') }));
      return;
    }
    if (state.status === 'error') {
      const status = state.error.status;
      const text = status === 404 ? t('detail.notFound') : t('detail.error', { detail: state.error.detail });
      this.kindSlot.replaceChildren();
      this.body.replaceChildren(el('p', { class: 'detail-error', testid: 'detail-error', data: { status }, text }));
      return;
    }
    const ev = state.event;
    this.kindSlot.replaceChildren(kindChip(ev.kind));
    this.figures = new Map();
    // Review parts live in their own slots so a review re-renders them without reloading images.
    this.statusSlot = el('div', { class: 'slot' });
    this.reviewSlot = el('div', { class: 'slot' });
    this.body.replaceChildren(this.statusSlot, this.fields(ev), this.evidenceSection(ev), this.reviewSlot);
    this.renderReview();
    for (const [index, image] of state.images) this.fillFigure(index, image);
  }

  renderReview() {
    if (!isViolation(this.state.event.kind)) return;
    this.statusSlot.replaceChildren(this.reviewStatus());
    this.reviewSlot.replaceChildren(this.reviewSection());
  }

  fields(ev) {
    const rows = [
      [t('detail.time'), formatTime(ev.ts)],
      [t('detail.camera'), el('button', {
        class: 'link',
        attrs: { type: 'button', title: ev.camera_id },
        text: `${this.table.nameOf(ev.camera_id)} (${ev.camera_id})`,
        on: { click: () => this.onShowCamera(ev.camera_id) },
      })],
    ];
    if (ev.plate) {
      const p = ev.plate;
      rows.push([t('detail.plate'), el('span', { class: 'plate-line' },
        plateChip(p.text, p.color),
        el('span', { class: 'muted', text: ` ${enumLabel('color', p.color)} · ${t('detail.confidence', { p: formatPercent(p.confidence, 1) })}` }),
        isMaskedPlate(p.text)
          ? el('div', { class: 'notice', text: t('detail.plateMasked') })
          : el('button', { class: 'link', testid: 'detail-search-plate', attrs: { type: 'button' }, text: t('detail.searchPlate'), on: { click: () => this.onSearchPlate(p.text) } }))]);
    }
    if (ev.vehicle) {
      const box = bboxOf(ev.vehicle);
      rows.push([t('detail.vehicle'), [
        enumLabel('vehicle', ev.vehicle.class),
        t('detail.track', { n: ev.vehicle.track_id }),
        box ? `[${box.map((v) => Math.round(v)).join(', ')}]` : null,
      ].filter(Boolean).join(' · ')]);
    }
    const rules = ruleRows(ev.details, (id) => this.table.nameOf(id));
    if (rules.length) rows.push([t('detail.rule'), definitionList(rules, 'rule-list')]);
    const src = ev.provenance?.source;
    if (ev.provenance) {
      rows.push([t('detail.source'), [
        ev.provenance.pipeline,
        src ? enumLabel('source', src.kind) : null,
        src && Number.isFinite(src.frame) ? t('detail.frame', { n: src.frame }) : null,
        Array.isArray(src?.size) ? t('detail.size', { w: src.size[0], h: src.size[1] }) : null,
      ].filter(Boolean).join(' · ')]);
    }
    rows.push([t('detail.eventId'), el('code', { text: ev.id })]);
    return definitionList(rows, 'detail-fields');
  }

  evidenceSection(ev) {
    const evidence = ev.evidence ?? [];
    const section = el('section', { class: 'evidence-section' }, el('h3', { text: t('detail.evidence') }));
    if (!evidence.length) {
      const masked = this.table.evidenceMasked(ev.camera_id);
      section.append(el('p', { class: 'notice', testid: masked ? 'evidence-masked' : 'evidence-none', text: masked ? t('detail.evidenceMasked') : t('detail.noEvidence') }));
      return section;
    }
    const grid = el('div', { class: 'evidence-grid' });
    evidence.forEach((item, index) => {
      const img = el('img', { testid: 'evidence-image', data: { kind: item.kind }, attrs: { alt: enumLabel('evidence', item.kind) } });
      const frame = el('div', { class: 'evidence-frame loading' }, img);
      if (item.kind === 'frame_jpeg') {
        const overlay = el('canvas', { class: 'evidence-overlay', testid: 'evidence-overlay' });
        frame.append(overlay);
        img.addEventListener('load', () => {
          overlay.dataset.outlined = String(drawOverlay(overlay, img, ev, this.colors));
        });
      }
      img.addEventListener('load', () => frame.classList.remove('loading'));
      const figure = el('figure', { class: `evidence ${item.kind}` }, frame, el('figcaption', { text: enumLabel('evidence', item.kind) }));
      this.figures.set(index, { figure, frame, img });
      grid.append(figure);
    });
    section.append(grid);
    return section;
  }

  /** Puts a fetched image (or why it failed) into its figure. */
  fillFigure(index, image) {
    const slot = this.figures?.get(index);
    if (!slot) return;
    if (image.url && slot.img.getAttribute('src') !== image.url) slot.img.src = image.url;
    if (image.error) {
      slot.frame.classList.remove('loading');
      slot.frame.classList.add('failed');
      slot.frame.replaceChildren(el('p', { class: 'notice', testid: 'evidence-error', text: t('detail.evidenceFailed', { detail: image.error.detail }) }));
    }
  }

  reviewStatus() {
    const latest = latestReview(this.state.reviews);
    return el('div', {
      class: `review-status ${latest ? latest.decision : 'none'}`,
      testid: 'review-status',
      data: { decision: latest ? latest.decision : 'none' },
      text: latest ? reviewLine(latest) : t('review.none'),
    });
  }

  reviewSection() {
    const { reviews, review } = this.state;
    const section = el('section', { class: 'review-section' }, el('h3', { text: t('review.title') }));
    if (this.canReview) {
      const reason = el('input', {
        testid: 'review-reason',
        attrs: { type: 'text', maxlength: MAX_REASON_CHARS, placeholder: t('review.reasonPlaceholder'), disabled: review.busy },
      });
      reason.value = review.draft ?? '';
      reason.addEventListener('input', () => (review.draft = reason.value));
      reason.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') this.submitReview('dismiss');
      });
      section.append(el('div', { class: 'review-actions' },
        el('button', { class: 'confirm', testid: 'review-confirm', attrs: { type: 'button', disabled: review.busy }, text: t('review.confirm'), on: { click: () => this.submitReview('confirm') } }),
        reason,
        el('button', { class: 'dismiss', testid: 'review-dismiss', attrs: { type: 'button', disabled: review.busy }, text: t('review.dismiss'), on: { click: () => this.submitReview('dismiss') } })));
    } else {
      section.append(el('p', { class: 'notice', text: t('review.denied') }));
    }
    if (review.error) section.append(el('p', { class: 'error', testid: 'review-error', text: review.error }));
    if (reviews.length) {
      section.append(el('h4', { text: t('review.history') }), el('ol', { class: 'review-history', testid: 'review-history' },
        reviews.map((r) => el('li', { class: r.decision },
          el('span', { text: reviewLine(r) }),
          r.reason ? el('div', { class: 'muted', text: t('review.reasonLabel', { reason: r.reason }) }) : null))));
    }
    return section;
  }

  async submitReview(decision) {
    const state = this.state;
    if (!state || state.review.busy) return;
    const reason = (state.review.draft ?? '').trim();
    if (decision === 'dismiss' && !reason) {
      state.review.error = t('review.reasonRequired');
      this.renderReview();
      return;
    }
    state.review.busy = true;
    state.review.error = null;
    this.renderReview();
    try {
      const saved = await this.api.postJson(`/api/v1/events/${encodeURIComponent(state.id)}/review`, { decision, reason }, { signal: state.aborter.signal });
      state.reviews = [...state.reviews, saved];
      state.review.draft = '';
    } catch (err) {
      if (isAbort(err)) return;
      state.review.error = t('review.failed', { detail: err.detail });
    } finally {
      state.review.busy = false;
    }
    if (this.state === state) this.renderReview();
  }
}

function reviewLine(r) {
  const status = r.decision === 'confirm' ? t('review.confirmed') : r.decision === 'dismiss' ? t('review.dismissed') : r.decision;
  return t('review.by', { status, user: r.user_id, dept: r.department_id, time: formatTime(r.at) });
}

function definitionList(rows, className) {
  return el('dl', { class: className }, rows.flatMap(([label, value]) => [el('dt', { text: label }), el('dd', {}, value ?? '—')]));
}

function readOverlayColors(node) {
  const css = getComputedStyle(node);
  return { plate: css.getPropertyValue('--plate-outline').trim(), vehicle: css.getPropertyValue('--vehicle-outline').trim() };
}
