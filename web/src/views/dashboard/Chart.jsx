/*
 * Chart — one uPlot time series chart that follows the page: its colours
 * are read from the theme's CSS variables (and re-read when <html>'s
 * data-theme changes), and its width follows its container.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const HEIGHT = 220;
/* Tick steps for counts: never a fraction of a job. */
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/* Bumps a counter whenever the theme attribute of <html> changes. */
function useThemeVersion() {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const obs = new MutationObserver(() => setVersion((v) => v + 1));
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class'] });
    return () => obs.disconnect();
  }, []);
  return version;
}

/*
 * series: [{key, label, color: ['--css-var', '#fallback']}]; samples: the
 * history's samples ({at, <key>: number}); format: a value as text (a
 * duration), else the values are counts, drawn with whole-number ticks;
 * span: [from, to] in Unix seconds, the range asked for, so that a few
 * samples sit where they belong in it instead of stretching across the chart.
 */
export default function Chart({ title, series, samples, format, span, testid }) {
  const box = useRef(null);
  const plot = useRef(null);
  const theme = useThemeVersion();

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const show = format || ((v) => String(Math.round(v * 10) / 10));
    const fg = cssVar('--fg', '#1d2330');
    const muted = cssVar('--muted', '#6b7280');
    const line = cssVar('--line', '#e5e7eb');
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const opts = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: span ? { time: true, range: () => span } : { time: true },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      // Formatted values ("1.5 s") need a wider axis than plain counts.
      axes: [{ ...axis }, format
        ? { ...axis, size: 72, values: (u, ticks) => ticks.map(format) }
        : { ...axis, size: 48, incrs: COUNT_STEPS }],
      series: [
        { value: (u, v) => (v === null ? '—' : new Date(v * 1000).toLocaleString()) },
        ...series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color[0], s.color[1]),
          width: 2,
          value: (u, v) => (v === null || v === undefined ? '—' : show(v)),
        })),
      ],
    };
    const data = [
      samples.map((p) => Date.parse(p.at) / 1000),
      ...series.map((s) => samples.map((p) => (typeof p[s.key] === 'number' ? p[s.key] : null))),
    ];
    const u = new uPlot(opts, data, el);
    u.root.style.color = fg;
    plot.current = u;
    const resize = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: HEIGHT });
    });
    resize.observe(el);
    return () => { resize.disconnect(); u.destroy(); plot.current = null; };
  }, [samples, series, format, span, theme]);

  return (
    <div class="sys-chart" data-testid={testid}>
      <h3>{title}</h3>
      <div class="sys-chart-box" ref={box} />
    </div>
  );
}
