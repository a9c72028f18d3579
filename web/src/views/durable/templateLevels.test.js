/* Run with `node --test web/src/views/durable/`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levels } from './templateLevels.js';

const refs = (rows) => rows.map((row) => row.map((s) => s.ref));

test('a step sits one row below its deepest parent', () => {
  const steps = [
    { ref: 'fetch' },
    { ref: 'store', parents: [{ ref: 'fetch' }] },
    { ref: 'mail', parents: [{ ref: 'fetch' }] },
    { ref: 'report', parents: [{ ref: 'fetch' }, { ref: 'store' }] },
    { ref: 'audit' },
  ];
  assert.deepEqual(refs(levels(steps)), [['fetch', 'audit'], ['store', 'mail'], ['report']]);
});

test('an optional edge orders the same as a required one', () => {
  const steps = [{ ref: 'a' }, { ref: 'b', parents: [{ ref: 'a', requires_success: false }] }];
  assert.deepEqual(refs(levels(steps)), [['a'], ['b']]);
});

test('a parent not listed leaves its child in the first row', () => {
  assert.deepEqual(refs(levels([{ ref: 'x', parents: [{ ref: 'missing' }] }])), [['x']]);
});
