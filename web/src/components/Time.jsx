/*
 * Time — a timestamp as "3 min ago" (or "in 2 h"), the exact time in its
 * title. Props: value: ISO string or ms; absolute: show the local date and
 * time instead. Missing → "—".
 * Duration — ms (or from/to timestamps, `to` missing = now) as "1 h 2 min",
 * "3.2 s", "120 ms".
 * Both refresh once a minute at most (no fast timers).
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDuration, formatRelative, toMs } from './format.js';

export { formatDuration, formatRelative };

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
