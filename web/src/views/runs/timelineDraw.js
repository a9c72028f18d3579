/*
 * timelineDraw.js — paints the visible part of a run's timeline on a
 * canvas: a time axis, one bar per task from its start (or creation) to its
 * end (or now), the task names, and a "now" line while tasks run. Only the
 * rows in view are drawn, whatever the number of tasks.
 */
import { ms } from './format.js';
import { statusColor } from './status.js';

export const LABEL_W = 180;
export const AXIS_H = 28;
export const ROW_H = 20;
const BAR_H = 14;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800]
  .map((s) => s * 1000);

export function barSpan(t, now) {
  const start = ms(t.started_at) ?? ms(t.created_at) ?? now;
  const end = ms(t.ended_at) ?? now;
  return [start, Math.max(start, end)];
}

function tickLabel(t, span) {
  const d = new Date(t);
  const pad = (n) => String(n).padStart(2, '0');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return span > 86400000 ? `${d.getMonth() + 1}/${d.getDate()} ${hms.slice(0, 5)}` : hms;
}

/* ctx is scaled to CSS pixels; view = {w, h, left, top} (scroll offsets). */
export function drawTimeline(ctx, el, { rows, t0, t1, timeW, now, running, critical, view }) {
  const { w, h, left, top } = view;
  const css = getComputedStyle(el);
  const fg = css.getPropertyValue('--fg').trim() || '#1d2330';
  const bg = css.getPropertyValue('--bg').trim() || '#ffffff';
  const line = css.getPropertyValue('--line').trim() || '#e5e7eb';
  const colors = {};
  const color = (s) => (colors[s] ??= statusColor(s, el));
  const span = Math.max(1, t1 - t0);
  const xOf = (t) => LABEL_W + ((t - t0) / span) * timeW - left;

  ctx.clearRect(0, 0, w, h);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';

  const first = Math.max(0, Math.floor(top / ROW_H));
  const last = Math.min(rows.length, Math.ceil((top + h - AXIS_H) / ROW_H) + 1);
  for (let i = first; i < last; i++) {
    const t = rows[i];
    const y = AXIS_H + i * ROW_H - top;
    const [s, e] = barSpan(t, now);
    const x0 = xOf(s);
    const x1 = Math.max(x0 + 2, xOf(e));
    ctx.fillStyle = color(t.status);
    ctx.fillRect(x0, y + (ROW_H - BAR_H) / 2, x1 - x0, BAR_H);
    if (critical && critical.has(t.id)) {
      ctx.strokeStyle = '#f1c40f';
      ctx.lineWidth = 2;
      ctx.strokeRect(x0 - 1, y + (ROW_H - BAR_H) / 2 - 1, x1 - x0 + 2, BAR_H + 2);
    }
  }

  if (running) {
    const x = xOf(now);
    ctx.strokeStyle = color('failure');
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(x, AXIS_H); ctx.lineTo(x, h); ctx.stroke();
    ctx.setLineDash([]);
  }

  /* The names' column and the axis are drawn last, over the bars. */
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, LABEL_W, h);
  ctx.fillStyle = fg;
  for (let i = first; i < last; i++) {
    const y = AXIS_H + i * ROW_H - top;
    ctx.fillText(rows[i].name || rows[i].id, 6, y + ROW_H / 2, LABEL_W - 12);
  }
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, w, AXIS_H);
  ctx.strokeStyle = line;
  ctx.beginPath(); ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(w, AXIS_H - 0.5); ctx.stroke();
  const step = STEPS.find((s) => (s / span) * timeW >= 90) || STEPS[STEPS.length - 1];
  ctx.fillStyle = fg;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const x = xOf(t);
    if (x < LABEL_W || x > w) continue;
    ctx.beginPath(); ctx.moveTo(x + 0.5, AXIS_H - 6); ctx.lineTo(x + 0.5, AXIS_H); ctx.stroke();
    ctx.fillText(tickLabel(t, span), x + 3, AXIS_H / 2 - 2);
  }
}
