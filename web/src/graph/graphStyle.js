/*
 * graphStyle.js — the Cytoscape stylesheet for both modes, built from a
 * palette (palette.js) so a theme change is one cy.style(...) call.
 *
 * Task nodes carry data.status; group nodes carry data.bar, an SVG image of
 * their status breakdown (statusBar below).  Cytoscape's own "stripe"
 * backgrounds would do, but in 3.35 they are drawn off-centre on nodes that
 * are not square.
 */
import { STATUSES } from './palette.js';

export const TASK_WIDTH = 160;
export const TASK_HEIGHT = 34;
export const GROUP_WIDTH = 200;
export const GROUP_HEIGHT = 52;

export function graphStyle(p) {
  const style = [
    {
      selector: 'node',
      style: {
        shape: 'round-rectangle',
        width: TASK_WIDTH,
        height: TASK_HEIGHT,
        'background-color': p.unknown,
        label: 'data(label)',
        color: p.page.fg,
        'font-size': 14,
        'text-valign': 'center',
        'text-halign': 'center',
        'text-wrap': 'ellipsis',
        'text-max-width': TASK_WIDTH - 12,
        /* Labels below this on-screen size are skipped: unreadable anyway,
           and drawing 1,000 tiny labels is most of the cost of a frame. */
        'min-zoomed-font-size': 6,
        'border-width': 1,
        'border-color': p.page.bg,
      },
    },
    ...STATUSES.map((s) => ({
      selector: `node[status = "${s}"]`,
      style: { 'background-color': p.status[s], color: p.labelOn[s] },
    })),
    { selector: 'node[?barrier]', style: { 'border-width': 3, 'border-style': 'dashed', 'border-color': p.page.fg } },
    {
      selector: 'node.group',
      style: {
        width: GROUP_WIDTH,
        height: GROUP_HEIGHT,
        'background-color': p.page.panel,
        'text-wrap': 'wrap',
        'text-max-width': GROUP_WIDTH - 12,
        color: p.page.fg,
        'text-outline-color': p.page.bg,
        'text-outline-width': 2,
        'font-weight': 600,
        'border-width': 1,
        'border-color': p.page.line,
        'text-valign': 'center',
        'text-margin-y': -6,
        'background-image': 'data(bar)',
        'background-fit': 'cover',
      },
    },
    /* An expanded group is a box around its tasks. */
    {
      selector: 'node.group:parent',
      style: {
        'background-opacity': 0.08,
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': 0,
        'background-image': 'none',
        padding: 10,
      },
    },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'curve-style': 'taxi',
        'taxi-direction': 'downward',
        'line-color': p.requiredEdge,
        'target-arrow-color': p.requiredEdge,
        'target-arrow-shape': 'triangle',
        'arrow-scale': 0.8,
      },
    },
    {
      selector: 'edge[!required]',
      style: { 'line-style': 'dashed', 'line-color': p.optionalEdge, 'target-arrow-color': p.optionalEdge, width: 1 },
    },
    /* Group edges: width grows with the log of how many edges they stand for. */
    {
      selector: 'edge.group',
      style: {
        'curve-style': 'bezier',
        width: 'data(width)',
        label: 'data(label)',
        'font-size': 10,
        color: p.page.muted,
        'text-background-color': p.page.bg,
        'text-background-opacity': 0.8,
        'min-zoomed-font-size': 7,
      },
    },
    { selector: 'node.flash', style: { 'overlay-color': p.page.fg, 'overlay-opacity': 0.35, 'overlay-padding': 6 } },
    { selector: '.dim', style: { opacity: 0.25 } },
    /* The border style is left alone so a barrier on the path stays dashed. */
    { selector: 'node.critical', style: { 'border-width': 5, 'border-color': p.critical } },
    {
      selector: 'edge.critical',
      style: { width: 4, 'line-color': p.critical, 'target-arrow-color': p.critical, 'line-style': 'solid', 'z-index': 10 },
    },
    { selector: 'node:selected', style: { 'overlay-color': p.page.accent, 'overlay-opacity': 0.25, 'overlay-padding': 4 } },
  ];
  return style;
}

/* A stacked bar of the counts along the bottom of a group node, as an SVG
   data URI sized like the node. */
export function statusBar(counts, total, palette) {
  const inner = GROUP_WIDTH - 16;
  let x = 8;
  let rects = '';
  for (const s of STATUSES) {
    const n = counts[s] || 0;
    if (!n) continue;
    const w = (inner * n) / total;
    rects += `<rect x="${x.toFixed(2)}" y="${GROUP_HEIGHT - 14}" width="${w.toFixed(2)}" height="8" fill="${palette.status[s]}"/>`;
    x += w;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${GROUP_WIDTH}" height="${GROUP_HEIGHT}">`
    + `<rect x="8" y="${GROUP_HEIGHT - 14}" width="${inner}" height="8" fill="${palette.unknown}" opacity="0.3"/>${rects}</svg>`;
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}
