/* Run with `node --test web/src/components/`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatRelative, toMs } from './format.js';

test('durations read in the largest sensible units', () => {
  assert.equal(formatDuration(0), '0 ms');
  assert.equal(formatDuration(120.4), '120 ms');
  assert.equal(formatDuration(3210), '3.2 s');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(5 * 60_000 + 3000), '5 min 3 s');
  assert.equal(formatDuration(2 * 3_600_000 + 10 * 60_000), '2 h 10 min');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3 d 4 h');
  assert.equal(formatDuration(-1500), '-1.5 s');
  assert.equal(formatDuration(NaN), '—');
});

test('relative times say ago or in, and just now near now', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  assert.equal(formatRelative(now - 10_000, now), 'just now');
  assert.equal(formatRelative(now - 5 * 60_000, now), '5 min ago');
  assert.equal(formatRelative(now + 2 * 3_600_000, now), 'in 2 h');
  assert.equal(formatRelative(now - 3 * 86_400_000, now), '3 d ago');
  assert.equal(formatRelative(NaN, now), '—');
});

test('timestamps: ISO strings and numbers; missing ones are NaN', () => {
  assert.equal(toMs('2026-01-02T00:00:00Z'), Date.parse('2026-01-02T00:00:00Z'));
  assert.equal(toMs(5), 5);
  for (const v of [null, undefined, '']) assert.ok(Number.isNaN(toMs(v)));
});
