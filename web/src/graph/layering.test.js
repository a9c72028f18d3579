/* Run with `node --test web/src/graph/`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levelsById, criticalPathByDepth, groupTasks, MAX_KINDS, OTHER_KIND } from './layering.js';
import { layoutGroups } from './groupLayout.js';

const task = (id, kind = 'k', status = 'pending', extra = {}) => ({ id, name: id, kind, status, ...extra });
const edge = (from, to, required = true) => ({ from, to, required });

test('levels are the longest distance from a source', () => {
  // a → b → d, a → d, c alone
  const tasks = ['a', 'b', 'c', 'd'].map((id) => task(id));
  const levels = levelsById(tasks, [edge('a', 'b'), edge('b', 'd'), edge('a', 'd')]);
  assert.deepEqual([...levels], [['a', 0], ['b', 1], ['c', 0], ['d', 2]]);
});

test('edges to tasks not loaded yet are ignored', () => {
  const levels = levelsById([task('a'), task('b')], [edge('a', 'b'), edge('zz', 'a'), edge('b', 'missing')]);
  assert.equal(levels.get('a'), 0);
  assert.equal(levels.get('b'), 1);
});

test('a cycle does not hang and its tasks go below the rest', () => {
  const tasks = [task('a'), task('b'), task('c')];
  const levels = levelsById(tasks, [edge('b', 'c'), edge('c', 'b')]);
  assert.equal(levels.get('a'), 0);
  assert.equal(levels.get('b'), 1);
  assert.equal(levels.get('c'), 1);
});

test('critical path by depth follows the deepest chain, preferring the parent that ended last', () => {
  // s → x → t and s → y → t; y ended later than x, so the path goes through y.
  const tasks = [
    task('s', 'k', 'succeeded', { ended_at: '2026-01-01T00:00:01Z' }),
    task('x', 'k', 'succeeded', { ended_at: '2026-01-01T00:00:02Z' }),
    task('y', 'k', 'succeeded', { ended_at: '2026-01-01T00:00:05Z' }),
    task('t', 'k', 'running'),
    task('lone'),
  ];
  const edges = [edge('s', 'x'), edge('s', 'y'), edge('x', 't'), edge('y', 't', false)];
  assert.deepEqual(criticalPathByDepth(tasks, edges), ['s', 'y', 't']);
  assert.deepEqual(criticalPathByDepth([], []), []);
});

test('groups are one per (level, kind) with status counts and aggregated edges', () => {
  const tasks = [
    task('a', 'fetch', 'succeeded'), task('b', 'fetch', 'failed'),
    task('c', 'parse', 'running'), task('d', 'parse', 'pending'), task('e', 'fetch', 'pending'),
  ];
  const edges = [edge('a', 'c'), edge('b', 'c', false), edge('a', 'd'), edge('c', 'e')];
  const { groups, groupEdges, groupOf } = groupTasks(tasks, edges);
  const byId = Object.fromEntries(groups.map((g) => [`${g.levelFrom}:${g.kind}`, g]));
  assert.deepEqual(Object.keys(byId).sort(), ['0:fetch', '1:parse', '2:fetch']);
  assert.deepEqual(byId['0:fetch'].counts, { succeeded: 1, failed: 1 });
  assert.deepEqual(byId['1:parse'].counts, { running: 1, pending: 1 });
  assert.equal(groups[groupOf[4]].levelFrom, 2);
  const top = groupEdges.find((e) => groups[e.from] === byId['0:fetch']);
  assert.deepEqual([top.required, top.optional], [2, 1]);
  assert.equal(groupEdges.length, 2);
});

test('a long chain is folded into level bands to stay under the group limit', () => {
  const n = 100000;
  const tasks = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    tasks.push(task(`t${i}`, i % 2 ? 'odd' : 'even'));
    if (i) edges.push(edge(`t${i - 1}`, `t${i}`));
  }
  const started = performance.now();
  const { groups, bandWidth, depth } = groupTasks(tasks, edges, { maxGroups: 1000 });
  const elapsed = performance.now() - started;
  assert.equal(depth, n);
  assert.ok(groups.length <= 1000, `${groups.length} groups`);
  assert.ok(bandWidth > 1);
  assert.equal(groups.reduce((s, g) => s + g.tasks.length, 0), n);
  assert.ok(elapsed < 5000, `grouping 100,000 tasks took ${elapsed} ms`);
});

test('rare kinds share one group once there are too many kinds', () => {
  const tasks = [];
  for (let i = 0; i < MAX_KINDS + 10; i++) tasks.push(task(`t${i}`, `kind${i}`));
  const { groups } = groupTasks(tasks, []);
  assert.equal(groups.length, MAX_KINDS);
  assert.equal(groups.find((g) => g.kind === OTHER_KIND).tasks.length, 11);
});

test('group layout puts bands in rows and children under their parents', () => {
  // band 0: A, B; band 1: C under B, D under A
  const groups = [{ band: 0 }, { band: 0 }, { band: 1 }, { band: 1 }];
  const pos = layoutGroups(groups, [{ from: 1, to: 2 }, { from: 0, to: 3 }], () => ({ w: 100, h: 40 }));
  assert.ok(pos[0].y === pos[1].y && pos[2].y > pos[0].y);
  assert.ok(pos[0].x < pos[1].x);
  assert.ok(pos[3].x < pos[2].x, 'children keep their parents\' order');
  assert.ok(pos[1].x - pos[0].x >= 100, 'no overlap');
});

test('status spellings and colour notations are normalised', async () => {
  const { canonicalStatus, toHex } = await import('./palette.js');
  assert.equal(canonicalStatus('success'), 'succeeded');
  assert.equal(canonicalStatus('failure'), 'failed');
  assert.equal(canonicalStatus('running'), 'running');
  assert.equal(canonicalStatus(undefined), 'unknown');
  assert.equal(toHex('rgb(39, 174, 96)'), '#27ae60');
  assert.equal(toHex('#abc'), '#aabbcc');
});
