/*
 * format.js — how the system views print times, ages and missing values.
 * Every field may be absent on an older server, so each helper prints '—'
 * rather than 'undefined' or 'NaN'.
 */

export const NONE = '—';

export function show(v) {
  return v === null || v === undefined || v === '' ? NONE : String(v);
}

/* '2026-12-05 16:50:00' in the browser's zone: sortable and short. */
export function time(iso) {
  if (!iso) return NONE;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return show(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/* 450 ms, 12 s, 5 min, 3 h, 2 d: precise enough to judge a backlog. */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return NONE;
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60e3) return `${Math.round(ms / 1000)} s`;
  if (a < 3600e3) return `${Math.round(ms / 60e3)} min`;
  if (a < 86400e3) return `${(ms / 3600e3).toFixed(1)} h`;
  return `${(ms / 86400e3).toFixed(1)} d`;
}

/* '12 s ago' or 'in 5 min' relative to now. */
export function ago(iso) {
  if (!iso) return NONE;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return show(iso);
  const d = Date.now() - t;
  return d >= 0 ? `${duration(d)} ago` : `in ${duration(-d)}`;
}
