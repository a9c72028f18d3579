/*
 * layering.js — graph arithmetic for the DAG view, free of any DOM or
 * Cytoscape so it runs under `node --test` and on 100,000 tasks.
 *
 * Everything here is O(V + E) (plus a sort of the kinds): a run can hold far
 * more tasks than a layout library handles, so the grouped view is computed
 * from these levels instead of by the layout library.
 */

/*
 * Index the graph: task ids to dense indices, and the edges as
 * compressed adjacency arrays (children and parents), so the walks below
 * touch typed arrays instead of Maps of arrays.  Edges naming an unknown
 * task (a page not loaded yet) are skipped.
 */
export function indexGraph(tasks, edges) {
  const n = tasks.length;
  const indexOf = new Map();
  for (let i = 0; i < n; i++) indexOf.set(tasks[i].id, i);
  const from = [];
  const to = [];
  const required = [];
  for (const e of edges) {
    const a = indexOf.get(e.from);
    const b = indexOf.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    from.push(a);
    to.push(b);
    required.push(e.required !== false);
  }
  const childStart = new Int32Array(n + 1);
  const parentStart = new Int32Array(n + 1);
  for (let k = 0; k < from.length; k++) {
    childStart[from[k] + 1]++;
    parentStart[to[k] + 1]++;
  }
  for (let i = 0; i < n; i++) {
    childStart[i + 1] += childStart[i];
    parentStart[i + 1] += parentStart[i];
  }
  const children = new Int32Array(from.length);
  const parents = new Int32Array(from.length);
  const childFill = childStart.slice(0, n);
  const parentFill = parentStart.slice(0, n);
  for (let k = 0; k < from.length; k++) {
    children[childFill[from[k]]++] = to[k];
    parents[parentFill[to[k]]++] = from[k];
  }
  return { n, indexOf, from, to, required, childStart, children, parentStart, parents };
}

/*
 * Topological level of every task: 0 for tasks without parents, otherwise
 * one more than the deepest parent (Kahn's algorithm).  Tasks caught in a
 * cycle, which the server refuses but a partial page could fake, are put
 * one level below everything else rather than dropped.
 * Returns { level: Int32Array by index, depth: number of levels, cyclic }.
 */
export function topoLevels(graph) {
  const { n, childStart, children, parentStart } = graph;
  const pending = new Int32Array(n);
  const level = new Int32Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    pending[i] = parentStart[i + 1] - parentStart[i];
    if (pending[i] === 0) queue[tail++] = i;
  }
  let depth = n > 0 ? 1 : 0;
  for (let head = 0; head < tail; head++) {
    const v = queue[head];
    for (let k = childStart[v]; k < childStart[v + 1]; k++) {
      const c = children[k];
      if (level[v] + 1 > level[c]) level[c] = level[v] + 1;
      if (--pending[c] === 0) queue[tail++] = c;
    }
    if (level[v] + 1 > depth) depth = level[v] + 1;
  }
  const cyclic = tail < n;
  if (cyclic) {
    for (let i = 0; i < n; i++) if (pending[i] > 0) level[i] = depth;
    depth += 1;
  }
  return { level, depth, cyclic };
}

/* Level by task id, for callers that do not want to hold indices. */
export function levelsById(tasks, edges) {
  const { level } = topoLevels(indexGraph(tasks, edges));
  const out = new Map();
  tasks.forEach((t, i) => out.set(t.id, level[i]));
  return out;
}

/*
 * The longest chain by topological depth, source first: the client-side
 * stand-in for the server's critical path (ArcRun's "Critical Path" toggle
 * works this way).  Walking back from the deepest task, each step takes a
 * parent exactly one level up, preferring the one that ended last because
 * that is the parent the child most likely waited for.
 */
export function criticalPathByDepth(tasks, edges) {
  if (tasks.length === 0) return [];
  const graph = indexGraph(tasks, edges);
  const { level } = topoLevels(graph);
  let v = 0;
  for (let i = 1; i < graph.n; i++) if (level[i] > level[v]) v = i;
  const path = [tasks[v].id];
  while (level[v] > 0) {
    let best = -1;
    for (let k = graph.parentStart[v]; k < graph.parentStart[v + 1]; k++) {
      const p = graph.parents[k];
      if (level[p] !== level[v] - 1) continue;
      if (best < 0 || endedAfter(tasks[p], tasks[best])) best = p;
    }
    if (best < 0) break; /* only inside a cycle */
    v = best;
    path.push(tasks[v].id);
  }
  return path.reverse();
}

function endedAfter(a, b) {
  return (a.ended_at || '') > (b.ended_at || '');
}

/* Kinds beyond this many (by task count) share one group per level band. */
export const MAX_KINDS = 24;
export const OTHER_KIND = '(other kinds)';

/*
 * Groups for the aggregated view: one group per (level band, kind) with its
 * task indices and a count by status, and the edges between groups with
 * required and optional edges counted apart.  statusOf(task) names the status
 * a task is counted under.
 *
 * A band is a run of consecutive levels.  It is one level wide unless that
 * would make more than maxGroups groups (a 100,000-task chain has 100,000
 * levels); then bands widen, doubling, until the groups fit.
 */
export function groupTasks(tasks, edges, { maxGroups = 1200, statusOf = (t) => t.status || 'unknown' } = {}) {
  const graph = indexGraph(tasks, edges);
  const { level, depth } = topoLevels(graph);
  const kindOf = kindIndexer(tasks);

  let band = 1;
  let keyOf;
  for (;;) {
    keyOf = new Map();
    for (let i = 0; i < graph.n; i++) {
      const key = Math.floor(level[i] / band) * kindOf.count + kindOf.index[i];
      if (!keyOf.has(key)) keyOf.set(key, keyOf.size);
    }
    if (keyOf.size <= maxGroups || band >= depth) break;
    band *= 2;
  }

  const groups = [];
  const groupOf = new Int32Array(graph.n);
  for (const [key, g] of keyOf) {
    const bandIndex = Math.floor(key / kindOf.count);
    groups[g] = {
      id: `g${bandIndex}.${key % kindOf.count}`,
      band: bandIndex,
      levelFrom: bandIndex * band,
      levelTo: Math.min(depth, (bandIndex + 1) * band) - 1,
      kind: kindOf.names[key % kindOf.count],
      tasks: [],
      counts: {},
    };
  }
  for (let i = 0; i < graph.n; i++) {
    const key = Math.floor(level[i] / band) * kindOf.count + kindOf.index[i];
    const g = keyOf.get(key);
    groupOf[i] = g;
    const group = groups[g];
    group.tasks.push(i);
    const s = statusOf(tasks[i]);
    group.counts[s] = (group.counts[s] || 0) + 1;
  }

  const byPair = new Map();
  const groupEdges = [];
  let internal = 0;
  for (let k = 0; k < graph.from.length; k++) {
    const a = groupOf[graph.from[k]];
    const b = groupOf[graph.to[k]];
    if (a === b) { internal++; continue; }
    const pair = a * groups.length + b;
    let ge = byPair.get(pair);
    if (!ge) {
      ge = { id: `${groups[a].id}-${groups[b].id}`, from: a, to: b, required: 0, optional: 0 };
      byPair.set(pair, ge);
      groupEdges.push(ge);
    }
    if (graph.required[k]) ge.required++; else ge.optional++;
  }
  return { groups, groupEdges, groupOf, bandWidth: band, depth, internalEdges: internal };
}

/* Dense kind numbers, the MAX_KINDS most common kept, the rest folded. */
function kindIndexer(tasks) {
  const totals = new Map();
  for (const t of tasks) totals.set(t.kind || '', (totals.get(t.kind || '') || 0) + 1);
  const ranked = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : 1));
  const kept = ranked.slice(0, ranked.length > MAX_KINDS ? MAX_KINDS - 1 : MAX_KINDS);
  const names = kept.slice();
  if (ranked.length > kept.length) names.push(OTHER_KIND);
  const numberOf = new Map(kept.map((k, i) => [k, i]));
  const other = names.length - 1;
  const index = new Int32Array(tasks.length);
  tasks.forEach((t, i) => {
    const k = numberOf.get(t.kind || '');
    index[i] = k === undefined ? other : k;
  });
  return { index, names, count: Math.max(1, names.length) };
}
