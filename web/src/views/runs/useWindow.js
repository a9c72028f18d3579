/*
 * useWindow.js — which rows of a long list are in view, for a scrolling
 * container whose rows share one height: only those (and a margin) are
 * rendered, so 10,000 rows cost what 40 do.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

const MARGIN = 10;

export function useWindow(count, rowHeight) {
  const ref = useRef(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setView({ top: el.scrollTop, height: el.clientHeight || 600 });
    };
    const onScroll = () => { if (!frame) frame = requestAnimationFrame(measure); };
    el.addEventListener('scroll', onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    measure();
    return () => { el.removeEventListener('scroll', onScroll); ro.disconnect(); if (frame) cancelAnimationFrame(frame); };
  }, []);
  const first = Math.max(0, Math.floor(view.top / rowHeight) - MARGIN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + MARGIN);
  return { ref, first, last, before: first * rowHeight, after: (count - last) * rowHeight };
}
