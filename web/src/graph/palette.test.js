/* Label colours on the status colours: light statuses get near-black text,
   dark ones white (the graph draws labels inside status-coloured nodes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readableOn, STATUS_FALLBACKS } from './palette.js';

const DARK = '#111111';
const WHITE = '#ffffff';

test('light status colours get dark labels', () => {
  for (const s of ['pending', 'claimed', 'canceled', 'skipped']) {
    assert.equal(readableOn(STATUS_FALLBACKS[s]), DARK, s);
  }
});

test('dark status colours get white labels', () => {
  for (const s of ['waiting', 'running', 'succeeded', 'failed', 'paused']) {
    assert.equal(readableOn(STATUS_FALLBACKS[s]), WHITE, s);
  }
});

test('rgb() colours are read too, and unreadable ones fall back to white', () => {
  assert.equal(readableOn('rgb(243, 156, 18)'), DARK);
  assert.equal(readableOn('var(--x)'), WHITE);
});
