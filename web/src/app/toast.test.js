/* Keyed notices replace each other instead of stacking (the run page's live
   summaries); unkeyed ones stack up to five. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dismiss, dismissKey, onToasts, toast } from './toast.js';

function shown() {
  let list = [];
  onToasts((l) => { list = l; })();
  return list;
}

function clear() {
  for (const t of shown()) dismiss(t.id);
}

test('a keyed notice replaces the one with the same key, in place', () => {
  clear();
  toast('saved');
  toast('3 tasks changed', 'info', { key: 'run:a' });
  toast('4 tasks changed', 'info', { key: 'run:a' });
  assert.deepEqual(shown().map((t) => t.message), ['saved', '4 tasks changed']);
  toast('1 task changed', 'info', { key: 'run:b' });
  assert.equal(shown().length, 3);
  clear();
});

test('dismissKey removes only that key', () => {
  clear();
  toast('failed', 'error', { timeout: 50 });
  toast('changes', 'info', { key: 'run:a' });
  dismissKey('run:a');
  dismissKey('run:unknown');
  assert.deepEqual(shown().map((t) => t.message), ['failed']);
  clear();
});

test('unkeyed notices stack up to five, the oldest going first', () => {
  clear();
  for (let i = 1; i <= 7; i++) toast(`n${i}`);
  assert.deepEqual(shown().map((t) => t.message), ['n3', 'n4', 'n5', 'n6', 'n7']);
  clear();
});
