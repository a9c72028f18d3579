/*
 * graphController.js — owns the Cytoscape instance behind <DagGraph>.
 *
 * Two modes:
 *  - 'tasks': one node per task, laid out by dagre (top to bottom);
 *  - 'grouped': above TASK_MODE_LIMIT tasks, one node per (level band, kind)
 *    with a stacked status bar, laid out by groupLayout.js from levels
 *    computed in O(V + E); dagre never sees more than TASK_MODE_LIMIT nodes.
 *
 * Updates that only change statuses recolour nodes in place (no layout, the
 * viewport stays where the user left it) and flash what changed.
 */
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { groupTasks } from './layering.js';
import { layoutGroups } from './groupLayout.js';
import { readPalette, canonicalStatus, STATUSES, toHex } from './palette.js';
import { graphStyle, TASK_WIDTH, TASK_HEIGHT, GROUP_WIDTH, GROUP_HEIGHT } from './graphStyle.js';

/* Measured in Chromium with the dev page (dev/): 1,000 layered random
   tasks draw in about 1.5 s, 1,500 in 2 s, mostly dagre; above that the
   grouped view is both faster and clearer. */
export const TASK_MODE_LIMIT = 1500;
/* Groups up to this size expand in place when clicked (without onSelectGroup). */
export const EXPAND_LIMIT = 60;
/* More groups than this make a grouped view as unreadable as the tasks. */
const MAX_GROUPS = 400;
const FLASH_MS = 700;
/* Below this first zoom task labels (14 px) are under 10 px on screen: a
   graph that only fits smaller starts at its top ranks instead (showTop).
   A narrow (phone) container accepts smaller labels, down to the floor,
   rather than cutting off a small graph's side nodes. */
const MIN_START_ZOOM = 0.75;
const MIN_START_ZOOM_FLOOR = 0.45;
const FULL_START_ZOOM_WIDTH = 800;

function minStartZoom(width) {
  return Math.min(MIN_START_ZOOM, Math.max(MIN_START_ZOOM_FLOOR, MIN_START_ZOOM * width / FULL_START_ZOOM_WIDTH));
}
const FIT_MARGIN = 30;
const MAX_FIT_ZOOM = 1.25;
const GROUP_PREFIX = 'group:';

/* The group edges whose counts a pointer on `target` shows. */
function countEdges(target) {
  return target.isNode() ? target.connectedEdges() : target;
}

export class GraphController {
  constructor(container, callbacks) {
    /* Registering twice logs a warning (a module reloaded in development). */
    if (!cytoscape('layout', 'dagre')) cytoscape.use(dagre);
    this.callbacks = callbacks;
    this.mode = 'tasks';
    this.tasks = [];
    this.statusById = new Map();
    this.edgeCount = 0;
    this.critical = null;
    this.expanded = new Set();
    this.userMoved = false;
    this.timers = new Set();
    this.palette = readPalette();
    this.cy = cytoscape({
      container,
      style: graphStyle(this.palette),
      minZoom: 0.02,
      maxZoom: 4,
      boxSelectionEnabled: false,
      autoungrabify: true,
    });
    this.cy.on('scrollzoom pinchzoom dragpan', () => { this.userMoved = true; });
    this.cy.on('tap', (evt) => this.tap(evt.target));
    /* Group edges' counts show only for the group or edge pointed at or the
       group selected (see graphStyle). */
    this.cy.on('mouseover', 'node.group, edge.group', (evt) => countEdges(evt.target).addClass('hovered'));
    this.cy.on('mouseout', 'node.group, edge.group', (evt) => countEdges(evt.target).removeClass('hovered'));
    this.cy.on('select', 'node.group', (evt) => evt.target.connectedEdges().addClass('picked'));
    this.cy.on('unselect', 'node.group', (evt) => evt.target.connectedEdges().removeClass('picked'));
  }

  /* New tasks/edges props.  The same ids in the same order and as many
     edges: only statuses can have changed (groups index tasks by position,
     so a reordering rebuilds). */
  setData(tasks, edges) {
    const sameTasks = tasks.length === this.tasks.length && edges.length === this.edgeCount
      && tasks.every((t, i) => this.tasks[i].id === t.id);
    if (sameTasks && tasks.length > 0) {
      this.tasks = tasks;
      this.updateStatuses(tasks);
      return;
    }
    this.statusById = new Map(tasks.map((t) => [t.id, canonicalStatus(t.status)]));
    /* Cytoscape refuses a second element with an id; keep each task once. */
    this.tasks = this.statusById.size === tasks.length ? tasks : [...new Map(tasks.map((t) => [t.id, t])).values()];
    this.edges = edges;
    this.edgeCount = edges.length;
    const mode = tasks.length > TASK_MODE_LIMIT ? 'grouped' : 'tasks';
    if (mode !== this.mode) {
      this.mode = mode;
      this.expanded.clear();
      this.userMoved = false;
      this.callbacks.onMode?.(mode);
    }
    if (mode === 'tasks') this.buildTasks(); else this.buildGroups();
    this.applyCritical();
  }

  buildTasks() {
    const elements = [];
    for (const t of this.tasks) elements.push({ data: taskData(t) });
    const seen = new Set();
    for (const e of this.edges) {
      const id = `edge:${e.from}>${e.to}`;
      if (seen.has(id) || !this.statusById.has(e.from) || !this.statusById.has(e.to)) continue;
      seen.add(id);
      elements.push({ data: { id, source: e.from, target: e.to, required: e.required !== false } });
    }
    const anchor = this.viewAnchor();
    this.replaceElements(elements);
    this.cy.layout({
      name: 'dagre', rankDir: 'TB', nodeSep: 24, rankSep: 60, edgeSep: 8,
      /* dagre's default ranker (network simplex) took 46 s on 1,000 layered
         random tasks; tight-tree takes about as long as longest-path (2 s)
         and, unlike it, does not pull every task without children down to
         the last rank. */
      ranker: 'tight-tree',
      fit: false, animate: false,
    }).run();
    this.settleViewport(anchor);
  }

  buildGroups(anchor = this.viewAnchor()) {
    const grouping = groupTasks(this.tasks, this.edges, { maxGroups: MAX_GROUPS, statusOf: (t) => canonicalStatus(t.status) });
    this.grouping = grouping;
    this.groupById = new Map(grouping.groups.map((g) => [GROUP_PREFIX + g.id, g]));
    this.indexById = new Map(this.tasks.map((t, i) => [t.id, i]));
    const { groups, groupEdges } = grouping;
    const size = (g) => (this.expanded.has(groups[g].id) ? expandedSize(groups[g].tasks.length) : { w: GROUP_WIDTH, h: GROUP_HEIGHT });
    const pos = layoutGroups(groups, groupEdges, size);

    const elements = [];
    groups.forEach((g, gi) => {
      elements.push({ data: this.groupData(g), classes: 'group', position: pos[gi] });
      if (this.expanded.has(g.id)) elements.push(...this.expandedTasks(g, pos[gi]));
    });
    for (const ge of groupEdges) {
      const total = ge.required + ge.optional;
      elements.push({
        classes: 'group',
        data: {
          id: `${GROUP_PREFIX}${ge.id}`,
          source: GROUP_PREFIX + groups[ge.from].id,
          target: GROUP_PREFIX + groups[ge.to].id,
          required: ge.required > 0,
          width: Math.min(8, 1 + Math.log2(total)),
          label: edgeLabel(ge),
        },
      });
    }
    this.replaceElements(elements);
    this.settleViewport(anchor);
  }

  groupData(g) {
    const count = g.tasks.length;
    const data = { id: GROUP_PREFIX + g.id, label: groupLabel(g), count, size: Math.log10(count), counts: { ...g.counts } };
    for (const s of STATUSES) data[`p_${s}`] = (100 * (g.counts[s] || 0)) / count;
    return data;
  }

  /* The tasks of an expanded group, in a grid centred where the group was. */
  expandedTasks(g, centre) {
    const { cols, w, h } = expandedGrid(g.tasks.length);
    return g.tasks.map((ti, k) => ({
      data: { ...taskData(this.tasks[ti]), parent: GROUP_PREFIX + g.id },
      position: {
        x: centre.x - w / 2 + (k % cols + 0.5) * (TASK_WIDTH + 10),
        y: centre.y - h / 2 + (Math.floor(k / cols) + 0.5) * (TASK_HEIGHT + 10),
      },
    }));
  }

  replaceElements(elements) {
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(elements);
    });
  }

  /* The node nearest the middle of the screen and where it is drawn, so a
     relayout the user did not ask for can keep it in place. */
  viewAnchor() {
    const cy = this.cy;
    if (!this.userMoved) return null;
    const mid = { x: cy.width() / 2, y: cy.height() / 2 };
    let best = null;
    let bestDistance = Infinity;
    cy.nodes().forEach((n) => {
      const at = n.renderedPosition();
      const d = (at.x - mid.x) ** 2 + (at.y - mid.y) ** 2;
      if (d < bestDistance) { best = { id: n.id(), at }; bestDistance = d; }
    });
    return best;
  }

  /* After a rebuild or a resize: if the user has panned or zoomed, keep the
     anchor node (viewAnchor) where it was on screen.  Otherwise fit the whole
     graph when that keeps labels legible, else show its top (showTop); fit()
     still shows it whole on demand.  Status-only updates never get here. */
  settleViewport(anchor = null) {
    const cy = this.cy;
    if (this.userMoved) {
      const node = anchor && cy.getElementById(anchor.id);
      if (node && node.nonempty()) {
        const at = node.renderedPosition();
        cy.panBy({ x: anchor.at.x - at.x, y: anchor.at.y - at.y });
      }
      return;
    }
    if (cy.elements().empty() || !cy.width() || !cy.height()) return;
    this.fit();
    if (cy.zoom() < minStartZoom(cy.width())) this.showTop();
  }

  /* The ranks that fit the container's height at the least start zoom, fitted
     across (never below it), from the graph's top edge and
     centred on them left to right: a wide fan-out opens on its root and the middle of
     its widest rank, not as a strip of specks. */
  showTop() {
    const cy = this.cy;
    const least = minStartZoom(cy.width());
    const whole = cy.elements().boundingBox();
    const room = { w: cy.width() - 2 * FIT_MARGIN, h: cy.height() - 2 * FIT_MARGIN };
    const bottom = whole.y1 + room.h / least;
    const top = cy.nodes().filter((n) => n.boundingBox().y2 <= bottom).boundingBox();
    const box = top.w > 0 ? top : whole;
    const zoom = Math.max(least, Math.min(MAX_FIT_ZOOM, room.w / box.w, room.h / (box.y2 - whole.y1)));
    /* A shallow graph (every rank shown) is centred up and down too. */
    const spare = cy.height() - (whole.y2 - whole.y1) * zoom;
    const y = whole.y2 <= bottom ? spare / 2 - whole.y1 * zoom : FIT_MARGIN - whole.y1 * zoom;
    cy.viewport({ zoom, pan: { x: cy.width() / 2 - (box.x1 + box.w / 2) * zoom, y } });
  }

  updateStatuses(tasks) {
    const changed = [];
    for (const t of tasks) {
      const s = canonicalStatus(t.status);
      const before = this.statusById.get(t.id);
      if (before !== s) {
        this.statusById.set(t.id, s);
        changed.push([t.id, before, s]);
      }
    }
    if (changed.length === 0) return;
    const flashed = this.cy.collection();
    this.cy.batch(() => {
      if (this.mode === 'tasks') {
        for (const [id, , s] of changed) flashed.merge(this.cy.getElementById(id).data('status', s));
        return;
      }
      const { groups, groupOf } = this.grouping;
      const dirty = new Set();
      for (const [id, before, s] of changed) {
        const g = groups[groupOf[this.indexById.get(id)]];
        g.counts[before] -= 1;
        g.counts[s] = (g.counts[s] || 0) + 1;
        dirty.add(g);
        const child = this.cy.getElementById(id);
        if (child.nonempty()) child.data('status', s);
      }
      for (const g of dirty) flashed.merge(this.cy.getElementById(GROUP_PREFIX + g.id).data(this.groupData(g)));
    });
    this.flash(flashed);
  }

  /* A ring around what changed, for FLASH_MS; the steady state has none. */
  flash(nodes) {
    nodes.addClass('flash');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.cy.destroyed()) nodes.removeClass('flash');
    }, FLASH_MS);
    this.timers.add(timer);
  }

  /* A Set of task ids, or an array (the critical-path route returns one). */
  setCritical(critical) {
    const ids = Array.isArray(critical) ? new Set(critical) : critical;
    this.critical = ids && ids.size ? ids : null;
    this.applyCritical();
  }

  /* On the path: gold and thick; everything else dimmed.  In grouped mode a
     group is on the path when one of its tasks is. */
  applyCritical() {
    const cy = this.cy;
    const on = this.critical;
    cy.batch(() => {
      cy.elements().removeClass('critical dim');
      if (!on) return;
      const onPath = (node) => {
        if (!node.hasClass('group')) return on.has(node.id());
        const g = this.groupById.get(node.id());
        return g.tasks.some((ti) => on.has(this.tasks[ti].id));
      };
      const marked = new Set();
      cy.nodes().forEach((n) => {
        if (onPath(n)) { marked.add(n.id()); n.addClass('critical'); } else n.addClass('dim');
      });
      cy.edges().forEach((e) => {
        e.addClass(marked.has(e.source().id()) && marked.has(e.target().id()) ? 'critical' : 'dim');
      });
    });
  }

  tap(target) {
    if (target === this.cy || !target.isNode()) return;
    if (!target.hasClass('group')) {
      this.callbacks.onSelect?.(target.id());
      return;
    }
    const g = this.groupById.get(target.id());
    if (this.callbacks.onSelectGroup) {
      this.callbacks.onSelectGroup(g.tasks.map((ti) => this.tasks[ti]));
    } else if (g.tasks.length <= EXPAND_LIMIT) {
      if (this.expanded.has(g.id)) this.expanded.delete(g.id); else this.expanded.add(g.id);
      this.userMoved = true; /* keep what was clicked where it is */
      this.buildGroups({ id: target.id(), at: target.renderedPosition() });
      this.applyCritical();
    }
  }

  /* Fit the whole graph, but a handful of tasks is not blown up past
     MAX_FIT_ZOOM. */
  fit() {
    const cy = this.cy;
    cy.fit(undefined, FIT_MARGIN);
    if (cy.zoom() > MAX_FIT_ZOOM) {
      cy.zoom(MAX_FIT_ZOOM);
      cy.center();
    }
  }

  resized() {
    this.cy.resize();
    this.settleViewport();
  }

  zoomBy(factor) {
    const cy = this.cy;
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
    this.userMoved = true;
  }

  /* The theme changed: the stylesheet holds every colour. */
  restyle() {
    this.palette = readPalette();
    this.cy.style(graphStyle(this.palette));
  }

  /* For browser tests: how many nodes are still ringed by a flash. */
  flashing() {
    return this.cy.nodes('.flash').length;
  }

  /* For browser tests: the canvas cannot be read, this can.  x and y are
     the node's centre in page coordinates, for a test to click. */
  nodes() {
    const box = this.cy.container().getBoundingClientRect();
    return this.cy.nodes().map((n) => {
      const grouped = n.hasClass('group');
      const status = grouped ? dominantStatus(n.data('counts')) : n.data('status');
      const color = grouped ? this.palette.status[status] || this.palette.unknown : toHex(n.style('background-color'));
      const at = n.renderedPosition();
      const out = { id: n.id(), status, color, grouped, x: Math.round(box.left + at.x), y: Math.round(box.top + at.y) };
      if (grouped) out.count = n.data('count');
      return out;
    });
  }

  destroy() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.cy.destroy();
  }
}

function taskData(t) {
  return { id: t.id, label: t.name || t.id, status: canonicalStatus(t.status), barrier: !!t.barrier };
}

function groupLabel(g) {
  const levels = g.levelFrom === g.levelTo ? `level ${g.levelFrom}` : `levels ${g.levelFrom}–${g.levelTo}`;
  const count = g.tasks.length;
  return `${g.kind || '—'}\n${count.toLocaleString('en')} ${count === 1 ? 'task' : 'tasks'} · ${levels}`;
}

function edgeLabel(ge) {
  const total = ge.required + ge.optional;
  if (total === 1) return '';
  return ge.optional && ge.required ? `${ge.required} + ${ge.optional} optional` : String(total);
}

function expandedGrid(count) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(count * 1.5)));
  const rows = Math.ceil(count / cols);
  return { cols, w: cols * (TASK_WIDTH + 10), h: rows * (TASK_HEIGHT + 10) };
}

function expandedSize(count) {
  const { w, h } = expandedGrid(count);
  return { w: w + 20, h: h + 40 };
}

function dominantStatus(counts) {
  let best = STATUSES[0];
  for (const s of STATUSES) if ((counts[s] || 0) > (counts[best] || 0)) best = s;
  return best;
}
