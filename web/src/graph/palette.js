/*
 * palette.js — the concrete colours the graph draws with.  Cytoscape styles
 * take colours, not CSS variables, so the page's variables are read here once
 * per theme; the fallbacks are ArcRun's colours, used until a stylesheet
 * defines the variables.
 */

export const STATUS_FALLBACKS = {
  waiting: '#666666',
  pending: '#f39c12',
  claimed: '#1abc9c',
  running: '#3498db',
  succeeded: '#27ae60',
  failed: '#e74c3c',
  paused: '#9b59b6',
  canceled: '#95a5a6',
  skipped: '#b0b7c3',
};

/* ArcRun spells two statuses differently; both draw the same. */
export const STATUS_ALIASES = { success: 'succeeded', failure: 'failed', cancelled: 'canceled' };

export const STATUSES = Object.keys(STATUS_FALLBACKS);

const PAGE_FALLBACKS = { bg: '#ffffff', fg: '#1d2330', muted: '#6b7280', line: '#e5e7eb', accent: '#2563eb', panel: '#f8fafc' };
const CRITICAL = '#d4a017';

export function readPalette(root = document.documentElement) {
  const css = getComputedStyle(root);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const status = {};
  for (const s of STATUSES) status[s] = read(`--status-${s}`, STATUS_FALLBACKS[s]);
  const page = {};
  for (const [k, v] of Object.entries(PAGE_FALLBACKS)) page[k] = read(`--${k}`, v);
  return {
    status,
    unknown: page.muted,
    page,
    labelOn: Object.fromEntries(STATUSES.map((s) => [s, readableOn(status[s])])),
    critical: read('--graph-critical', CRITICAL),
    requiredEdge: read('--graph-edge-required', status.succeeded),
    optionalEdge: read('--graph-edge-optional', page.muted),
  };
}

export function canonicalStatus(status) {
  return STATUS_ALIASES[status] || status || 'unknown';
}

/* Near-black text on light colours (pending, claimed, canceled, skipped),
   white on the darker ones (waiting, running, succeeded, failed, paused).
   The cut is at relative luminance 0.34, between succeeded (0.32) and
   canceled (0.36), so the saturated status colours keep the white labels
   the status badges use; pure contrast ratio would give them dark text. */
export function readableOn(color) {
  const rgb = toRgb(color);
  if (!rgb) return '#ffffff';
  const [r, g, b] = rgb.map((c) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.34 ? '#111111' : '#ffffff';
}

/* '#abc', '#aabbcc' or 'rgb(a, b, c)' → [r, g, b]; null otherwise. */
export function toRgb(color) {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const h = hex[1].length === 3 ? hex[1].replace(/./g, '$&$&') : hex[1];
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  }
  const rgb = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(color);
  return rgb ? rgb.slice(1, 4).map(Number) : null;
}

export function toHex(color) {
  const rgb = toRgb(color);
  return rgb ? `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}` : color;
}
