// The rule-specific part of an event (`details`, tagged by `rule`) as labelled rows for the
// detail panel. References to other events become links to their detail; references the
// caller may not see arrive as {"withheld": true} and say so.
import { el } from './dom.js';
import { formatNumber, formatTime } from './format.js';
import { enumLabel, t } from './i18n.js';
import { eventHref } from './router.js';

/**
 * @param details the event's `details` object
 * @param cameraName id -> display name
 * @returns [[label, value Node|string], ...]
 */
export function ruleRows(details, cameraName) {
  if (!details || typeof details !== 'object') return [];
  const read = (ref) => readRef(ref, cameraName);
  switch (details.rule) {
    case 'watchlist_hit':
      return [
        [t('rule.list'), details.list],
        [t('rule.reason'), details.reason],
        [t('rule.listedPlate'), details.listed_plate],
        [t('rule.fuzzy'), details.fuzzy ? t('rule.yes') : t('rule.no')],
        [t('rule.read'), read(details.read)],
      ];
    case 'restricted_zone':
      return [
        [t('rule.zone'), details.zone_id],
        [t('rule.enteredAt'), formatTime(details.entered_at)],
        [t('rule.point'), Array.isArray(details.point) ? details.point.map((v) => Math.round(v)).join(', ') : '—'],
        details.read ? [t('rule.read'), read(details.read)] : null,
      ].filter(Boolean);
    case 'overload': {
      const wim = details.wim ?? {};
      return [
        [t('rule.station'), `${wim.station_id ?? '—'} · ${t('rule.lane', { n: wim.lane ?? '—' })}`],
        [t('rule.weighedAt'), formatTime(wim.ts)],
        [t('rule.axles'), String(wim.axles ?? '—')],
        [t('rule.gross'), kg(wim.gross_kg)],
        [t('rule.limit'), kg(details.limit_kg)],
        // excess_pct is already a percentage (23.5 means 23.5 % over the limit).
        [t('rule.excess'), Number.isFinite(details.excess_pct) ? `${details.excess_pct.toFixed(1)}%` : '—'],
        Number.isFinite(wim.speed_kmh) ? [t('rule.speed'), `${formatNumber(wim.speed_kmh, 0)} km/h`] : null,
        details.read ? [t('rule.read'), read(details.read)] : null,
        details.tied_reads?.length ? [t('rule.tiedReads'), el('div', { class: 'refs' }, details.tied_reads.map(read))] : null,
      ].filter(Boolean);
    }
    case 'obscured_plate':
      return [
        [t('rule.frames'), String(details.frames ?? '—')],
        [t('rule.maxBox'), `${formatNumber(details.max_box_height_px, 0)} px`],
        [t('rule.firstSeen'), formatTime(details.first_seen)],
        [t('rule.lastSeen'), formatTime(details.last_seen)],
      ];
    case 'cloned_plate':
      return [
        [t('rule.earlier'), read(details.earlier)],
        [t('rule.later'), read(details.later)],
        [t('rule.distance'), `${formatNumber(details.distance_km, 2)} km`],
        [t('rule.impliedSpeed'), `${formatNumber(details.implied_speed_kmh, 0)} km/h`],
      ];
    case 'flow_count':
      return [
        [t('rule.line'), details.line_id],
        [t('rule.direction'), details.direction],
        [t('rule.interval'), `${formatTime(details.interval_start)} – ${formatTime(details.interval_end).slice(11)}`],
        [t('rule.counts'), Object.entries(details.counts ?? {}).map(([cls, n]) => `${enumLabel('vehicle', cls)} ${n}`).join(' · ') || '0'],
      ];
    default:
      // A rule this page does not know yet (newer server): show its fields raw.
      return Object.entries(details)
        .filter(([key]) => key !== 'rule')
        .map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]);
  }
}

/** A plate read another event was built from: plate · camera · time, linking to its detail. */
function readRef(ref, cameraName) {
  if (!ref) return '—';
  if (ref.withheld) return el('span', { class: 'withheld', text: t('detail.withheld') });
  const text = t('rule.readRef', { plate: ref.plate ?? '—', camera: cameraName(ref.camera_id), time: formatTime(ref.ts) });
  if (!ref.event_id) return text;
  return el('a', { class: 'ref', attrs: { href: eventHref(ref.event_id) }, text });
}

function kg(value) {
  return Number.isFinite(value) ? `${value.toLocaleString('en-US')} kg` : '—';
}
