/* Run with `node --test web/src/views/runs/`: the runs views' pure parts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CSV_COLUMNS, tasksCsv } from './csv.js';
import { describeChanges } from './changes.js';
import { eachLimited } from './pool.js';
import { ACTIONS, kindOf } from './status.js';
import { barSpan } from './timelineDraw.js';

test('the CSV has ArcRun\'s columns, quotes what needs it, and counts failed attempts', () => {
  const csv = tasksCsv([
    { id: 'a', name: 'plain', queue: 'q', status: 'success', attempt: 2, created_at: 'c', started_at: 's', ended_at: 'e', run_id: 'r' },
    { id: 'b', name: 'has, "quotes"', kind: 'k', status: 'failure', attempt: 3, created_at: 'c', started_at: null, ended_at: null },
  ], 'run-1');
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  assert.equal(lines[1], 'a,plain,q,success,c,s,e,1,1,,r');
  assert.equal(lines[2], 'b,"has, ""quotes""",k,failure,c,,,0,3,,run-1');
});

test('up to three changes are listed, more are summed up', () => {
  const c = (name, to) => ({ name, from: 'running', to });
  assert.deepEqual(describeChanges([c('a', 'success')]), ['a: running → success']);
  const many = describeChanges([c('a', 'success'), c('b', 'success'), c('c', 'failure'), c('d', 'success')]);
  assert.deepEqual(many, ['4 tasks changed: 3 success, 1 failure']);
});

test('bulk calls keep at most the limit in flight and report each outcome', async () => {
  let inFlight = 0;
  let most = 0;
  const items = Array.from({ length: 30 }, (_, i) => i);
  const { ok, failed } = await eachLimited(items, 8, async (i) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    if (i % 10 === 0) throw new Error(`no ${i}`);
  });
  assert.equal(most, 8);
  assert.equal(ok.length, 27);
  assert.deepEqual(failed.map((f) => f.item).sort((a, b) => a - b), [0, 10, 20]);
});

test('actions follow the server\'s rules by status', () => {
  assert.equal(ACTIONS.cancel('running'), true);
  assert.equal(ACTIONS.cancel('success'), false);
  assert.equal(ACTIONS.pause('running'), false);
  assert.equal(ACTIONS.pause('waiting'), true);
  assert.equal(ACTIONS.resolve('failure'), true);
  assert.equal(ACTIONS.resolve('canceled'), false);
  assert.equal(kindOf({ executor: 'webhook' }), 'webhook');
});

test('a timeline bar runs from the start (or creation) to the end (or now)', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  assert.deepEqual(barSpan({ created_at: '2026-01-01T00:00:00Z', started_at: null, ended_at: null }, now),
    [Date.parse('2026-01-01T00:00:00Z'), now]);
  assert.deepEqual(barSpan({ created_at: '2026-01-01T00:00:00Z', started_at: '2026-01-01T00:00:10Z', ended_at: '2026-01-01T00:00:20Z' }, now),
    [Date.parse('2026-01-01T00:00:10Z'), Date.parse('2026-01-01T00:00:20Z')]);
});
