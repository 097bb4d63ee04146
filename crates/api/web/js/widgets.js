// Small pieces of event display shared by the feed, the search results and the detail panel.
import { el } from './dom.js';
import { enumLabel, kindLabel } from './i18n.js';
import { isViolation } from './events.js';

/** A plate as a chip with a swatch in the plate's colour (blue, yellow, green new-energy…). */
export function plateChip(text, color) {
  return el('span', { class: 'plate', data: { color: color || 'none' }, attrs: { title: color ? enumLabel('color', color) : null } },
    el('span', { class: 'plate-swatch', attrs: { 'aria-hidden': 'true' } }),
    el('span', { class: 'plate-text', text: text || '—' }));
}

/** Updates a chip made by plateChip in place (recycled list rows). */
export function setPlateChip(chip, text, color) {
  chip.dataset.color = color || 'none';
  chip.title = color ? enumLabel('color', color) : '';
  chip.lastChild.textContent = text || '—';
}

/** The event kind as a coloured label; violations are marked for the stylesheet. */
export function kindChip(kind) {
  return el('span', { class: `kind${isViolation(kind) ? ' violation' : ''}`, data: { kind }, text: kindLabel(kind) });
}

export function setKindChip(chip, kind) {
  chip.dataset.kind = kind;
  chip.classList.toggle('violation', isViolation(kind));
  chip.textContent = kindLabel(kind);
}
