/*
 * Time — a timestamp as "3 min ago" (or "in 2 h"), the exact time in its
 * title. Props: value: ISO string or ms; absolute: show the local date and
 * time instead. Missing → "—".
 * Duration — ms (or from/to timestamps, `to` missing = now) as "1 h 2 min",
 * "3.2 s", "120 ms".
 * Both refresh once a minute at most (no fast timers).
 */
import { useEffect, useState } from 'preact/hooks';

const toMs = (v) => (v === null || v === undefined || v === '' ? NaN : typeof v === 'number' ? v : Date.parse(v));

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

function useMinuteTick() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 60_000);
    return () => clearInterval(t);
  }, []);
}

export function Time({ value, absolute }) {
  useMinuteTick();
  const ms = toMs(value);
  if (!Number.isFinite(ms)) return <span class="muted">—</span>;
  const exact = new Date(ms).toLocaleString();
  return <time dateTime={new Date(ms).toISOString()} title={exact}>{absolute ? exact : formatRelative(ms)}</time>;
}

export function Duration({ ms, from, to }) {
  useMinuteTick();
  let v = ms;
  if (v === undefined || v === null) {
    const a = toMs(from);
    const b = to ? toMs(to) : Date.now();
    v = b - a;
  }
  return <span class="duration">{formatDuration(v)}</span>;
}

export default Time;
