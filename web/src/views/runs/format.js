/* format.js — times, durations and values as the runs views print them. */

export const DASH = '—';

export function ms(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export function fmtTime(iso) {
  const t = ms(iso);
  if (t === null) return DASH;
  const d = new Date(t);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(millis) {
  if (millis === null || millis === undefined || Number.isNaN(millis)) return DASH;
  if (millis < 1000) return `${Math.round(millis)} ms`;
  const s = millis / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

/* A task's run time: start to end, or to now while it runs. */
export function taskDuration(t, now = Date.now()) {
  const s = ms(t.started_at);
  if (s === null) return null;
  const e = ms(t.ended_at);
  return (e === null ? now : e) - s;
}

export function fmtAge(iso, now = Date.now()) {
  const t = ms(iso);
  if (t === null) return DASH;
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const shortId = (id) => (id ? String(id).slice(0, 8) : DASH);

/* An ApiError as one line: the field first when the server named one. */
export function errorText(e) {
  if (!e) return '';
  const msg = e.message || String(e);
  return e.field ? `${e.field}: ${msg}` : msg;
}
