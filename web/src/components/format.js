/*
 * format.js — how times and durations read on the page (Time.jsx uses
 * these; views may too, e.g. in CSV or chart labels).
 */

/* A timestamp (ISO string or ms) as ms since the epoch; NaN when missing. */
export const toMs = (v) => (v === null || v === undefined || v === '' ? NaN : typeof v === 'number' ? v : Date.parse(v));

/* "120 ms", "3.2 s", "42 s", "5 min 3 s", "2 h 10 min", "3 d 4 h"; "—" when not a number. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  ms = Math.abs(ms);
  let s;
  if (ms < 1000) s = `${Math.round(ms)} ms`;
  else if (ms < 60_000) s = `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  else if (ms < 3_600_000) s = `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  else if (ms < 86_400_000) s = `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
  else s = `${Math.floor(ms / 86_400_000)} d ${Math.floor((ms % 86_400_000) / 3_600_000)} h`;
  return neg ? `-${s}` : s;
}

/* "just now", "5 min ago", "in 2 h", "3 d ago" relative to `now`. */
export function formatRelative(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return '—';
  const d = now - ms;
  const a = Math.abs(d);
  let s;
  if (a < 45_000) return d >= 0 ? 'just now' : 'in a moment';
  if (a < 3_600_000) s = `${Math.round(a / 60_000)} min`;
  else if (a < 86_400_000) s = `${Math.round(a / 3_600_000)} h`;
  else s = `${Math.round(a / 86_400_000)} d`;
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

