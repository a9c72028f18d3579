/*
 * graphStyle.js — the Cytoscape stylesheet for both modes, built from a
 * palette (palette.js) so a theme change is one cy.style(...) call.
 *
 * Task nodes carry data.status.  Group nodes are pies of their status
 * breakdown (data.p_<status>, percentages) with the label underneath.  Pies
 * are drawn natively; a stacked bar as an SVG background image per group
 * cost a second of image decoding for 400 groups, and Cytoscape's "stripe"
 * backgrounds are drawn off-centre on nodes that are not square in 3.35.
 */
import { STATUSES } from './palette.js';

export const TASK_WIDTH = 160;
export const TASK_HEIGHT = 34;
/* The room a group takes in the layout: its pie and its label below. */
export const GROUP_WIDTH = 190;
export const GROUP_HEIGHT = 90;
const PIE_MIN = 28;
const PIE_MAX = 56;

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
        shape: 'ellipse',
        /* Bigger pies for bigger groups, on a log scale (data.size is log10 of the count). */
        width: `mapData(size, 0, 4, ${PIE_MIN}, ${PIE_MAX})`,
        height: `mapData(size, 0, 4, ${PIE_MIN}, ${PIE_MAX})`,
        'background-color': p.page.panel,
        'text-valign': 'bottom',
        'text-margin-y': 4,
        'text-wrap': 'wrap',
        'text-max-width': GROUP_WIDTH - 10,
        color: p.page.fg,
        'text-outline-color': p.page.bg,
        'text-outline-width': 2,
        'font-size': 13,
        'border-width': 1,
        'border-color': p.page.line,
        'pie-size': '100%',
        ...Object.fromEntries(STATUSES.flatMap((s, i) => [
          [`pie-${i + 1}-background-color`, p.status[s]],
          [`pie-${i + 1}-background-size`, `data(p_${s})`],
        ])),
      },
    },
    /* An expanded group is a box around its tasks. */
    {
      selector: 'node.group:parent',
      style: {
        'background-opacity': 0.08,
        'text-valign': 'top',
        'text-halign': 'center',
        shape: 'round-rectangle',
        'text-valign': 'top',
        'text-margin-y': -4,
        padding: 10,
        ...Object.fromEntries(STATUSES.map((_, i) => [`pie-${i + 1}-background-size`, 0])),
      },
    },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'curve-style': 'taxi',
        'taxi-direction': 'downward',
        /* Turn in the gap right under the source: an edge spanning several
           ranks then drops vertically, instead of running a horizontal
           segment through a row of nodes halfway down. */
        'taxi-turn': '30px',
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
    /* Group edges: width grows with the log of how many edges they stand for.
       Their counts ("195 + 2 optional") show only on the edges of the group
       or edge pointed at or the group selected: in a one-column chain every
       edge's midpoint lies on or beside a group's label, and edges that skip
       levels run through other groups, so no fixed place keeps all of them clear. */
    { selector: 'edge.group', style: { 'curve-style': 'bezier', width: 'data(width)' } },
    {
      selector: 'edge.group.hovered, edge.group.picked',
      style: {
        label: 'data(label)',
        /* Beside the line, clear of the group circle an edge that skips a
           level runs through (labels sit below their circles). */
        'text-margin-x': 60,
        'font-size': 10,
        color: p.page.muted,
        'text-background-color': p.page.bg,
        'text-background-opacity': 0.8,
        'min-zoomed-font-size': 7,
      },
    },
    /* An underlay, drawn behind the node: an overlay would also grey its label. */
    { selector: 'node.flash', style: { 'underlay-color': p.page.accent, 'underlay-opacity': 0.6, 'underlay-padding': 5, 'underlay-shape': 'round-rectangle' } },
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

