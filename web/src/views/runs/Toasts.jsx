/*
 * Toasts.jsx — short notices in a corner: task status changes seen on the
 * feed, results of actions. Each fades after a few seconds.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

const SHOWN_MS = 5000;
const MAX_SHOWN = 5;

export function useToasts() {
  const [toasts, setToasts] = useState([]);
  const seq = useRef(0);
  const timers = useRef(new Set());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const push = useCallback((text, kind = 'info') => {
    const id = ++seq.current;
    setToasts((list) => [...list, { id, text, kind }].slice(-MAX_SHOWN));
    const t = setTimeout(() => {
      timers.current.delete(t);
      setToasts((list) => list.filter((x) => x.id !== id));
    }, SHOWN_MS);
    timers.current.add(t);
  }, []);
  return [toasts, push];
}

export function Toasts({ toasts }) {
  return (
    <div class="rv-toasts" aria-live="polite">
      {toasts.map((t) => <div key={t.id} class={`rv-toast ${t.kind}`} data-testid="toast">{t.text}</div>)}
    </div>
  );
}

/* ArcRun's rule: up to three changes listed one by one, else a summary. */
export function describeChanges(changes) {
  if (changes.length <= 3) return changes.map((c) => `${c.name}: ${c.from} → ${c.to}`);
  const by = {};
  for (const c of changes) by[c.to] = (by[c.to] || 0) + 1;
  const parts = Object.entries(by).map(([s, n]) => `${n} ${s}`);
  return [`${changes.length} tasks changed: ${parts.join(', ')}`];
}
