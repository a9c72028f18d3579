/*
 * Timeline.jsx — the run as a Gantt chart. One canvas the size of the view,
 * sticky inside a spacer that gives the scroll area its full size; each
 * scroll or resize repaints the rows in view (timelineDraw.js). Zoom
 * stretches time from 25% to 1000%. While tasks run, it repaints every
 * second so that their bars and the "now" line move.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isTerminal } from './status.js';
import { AXIS_H, LABEL_W, ROW_H, barSpan, drawTimeline } from './timelineDraw.js';
import { fmtDuration, fmtTime } from './format.js';
import './timeline.css';

const ZOOMS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10];

export default function Timeline({ tasks, critical, onSelect }) {
  const [zoomAt, setZoomAt] = useState(ZOOMS.indexOf(1));
  const [now, setNow] = useState(Date.now());
  const [width, setWidth] = useState(800);
  const box = useRef(null);
  const canvas = useRef(null);
  const paint = useRef(() => {});
  const zoom = ZOOMS[zoomAt];

  const running = useMemo(() => tasks.some((t) => !isTerminal(t.status) && t.started_at), [tasks]);
  const rows = useMemo(() => {
    const keyed = tasks.map((t) => [barSpan(t, Number.MAX_SAFE_INTEGER)[0], t]);
    keyed.sort((a, b) => a[0] - b[0]);
    return keyed.map((x) => x[1]);
  }, [tasks]);
  const [t0, t1] = useMemo(() => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of rows) {
      const [s, e] = barSpan(t, now);
      if (s < lo) lo = s;
      if (e > hi) hi = e;
    }
    if (!Number.isFinite(lo)) return [now - 60000, now];
    const pad = Math.max(1000, (hi - lo) * 0.02);
    return [lo - pad, hi + pad];
  }, [rows, now]);

  const timeW = Math.max(200, (width - LABEL_W - 16) * zoom);

  useEffect(() => {
    if (!running) return undefined;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [running]);

  paint.current = () => {
    const el = box.current;
    const cv = canvas.current;
    if (!el || !cv) return;
    const w = el.clientWidth;
    const h = el.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
      cv.width = Math.round(w * dpr);
      cv.height = Math.round(h * dpr);
      cv.style.width = `${w}px`;
      cv.style.height = `${h}px`;
    }
    const ctx = cv.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawTimeline(ctx, el, { rows, t0, t1, timeW, now, running, critical,
      view: { w, h, left: el.scrollLeft, top: el.scrollTop } });
  };

  useEffect(() => { paint.current(); });

  useEffect(() => {
    const el = box.current;
    let frame = 0;
    const onScroll = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; paint.current(); }); };
    const ro = new ResizeObserver(() => { setWidth(el.clientWidth); onScroll(); });
    el.addEventListener('scroll', onScroll, { passive: true });
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => { el.removeEventListener('scroll', onScroll); ro.disconnect(); if (frame) cancelAnimationFrame(frame); };
  }, []);

  const rowAt = (e) => {
    const el = box.current;
    const r = el.getBoundingClientRect();
    const y = e.clientY - r.top + el.scrollTop - AXIS_H;
    if (e.clientY - r.top < AXIS_H || y < 0) return null;
    return rows[Math.floor(y / ROW_H)] || null;
  };
  const onClick = (e) => { const t = rowAt(e); if (t) onSelect(t.id); };
  const onMove = (e) => {
    const t = rowAt(e);
    const [s, end] = t ? barSpan(t, now) : [0, 0];
    canvas.current.title = t ? `${t.name} · ${t.status} · ${fmtTime(t.started_at || t.created_at)} · ${fmtDuration(end - s)}` : '';
    canvas.current.style.cursor = t ? 'pointer' : 'default';
  };

  return (
    <div class="rv-timeline" data-testid="timeline">
      <div class="rv-toolbar">
        <span class="rv-muted">Zoom</span>
        <button type="button" disabled={zoomAt === 0} onClick={() => setZoomAt(zoomAt - 1)} aria-label="Zoom out" data-testid="zoom-out">−</button>
        <span data-testid="zoom-level">{Math.round(zoom * 100)}%</span>
        <button type="button" disabled={zoomAt === ZOOMS.length - 1} onClick={() => setZoomAt(zoomAt + 1)} aria-label="Zoom in" data-testid="zoom-in">+</button>
        <span class="rv-muted">{rows.length} tasks</span>
      </div>
      <div class="rv-timeline-box" ref={box}>
        <div style={{ width: `${LABEL_W + timeW}px`, height: `${AXIS_H + rows.length * ROW_H}px` }}>
          <canvas ref={canvas} class="rv-timeline-canvas" onClick={onClick} onMouseMove={onMove} data-testid="timeline-canvas" />
        </div>
      </div>
    </div>
  );
}
