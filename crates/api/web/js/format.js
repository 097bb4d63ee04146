// Display formatting. Times are always shown in Asia/Shanghai whatever the browser's zone,
// because operators compare them with camera overlays and paper reports in Beijing time.
import { t } from './i18n.js';

const SHANGHAI = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** `2026-11-29 18:03:12` in Beijing time from epoch ms, an RFC 3339 string or a Date. */
export function formatTime(value) {
  const ms = toMs(value);
  if (!Number.isFinite(ms)) return '—';
  const p = {};
  for (const { type, value: v } of SHANGHAI.formatToParts(ms)) p[type] = v;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function toMs(value) {
  if (value == null) return NaN;
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  return Date.parse(value);
}

/** "12 s ago" style age of `thenMs` at `nowMs`; "never" when there is no time. */
export function formatAge(thenMs, nowMs) {
  if (!Number.isFinite(thenMs)) return t('rel.never');
  const ms = Math.max(0, nowMs - thenMs);
  if (ms < 2000) return t('rel.now');
  return t('rel.ago', { d: formatDuration(ms) });
}

/** A coarse duration: seconds up to two minutes, then minutes, hours, days. */
export function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 120) return t('dur.s', { n: s });
  const m = Math.floor(s / 60);
  if (m < 120) return t('dur.m', { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('dur.h', { n: h });
  return t('dur.d', { n: Math.floor(h / 24) });
}

export function formatNumber(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

export function formatPercent(fraction, digits = 0) {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(digits)}%` : '—';
}
