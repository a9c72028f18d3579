/* Run with `node --test web/src/app/` (after `npm ci` in web/). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { url } from './api.js';
import { href, parseHash } from './router.js';
import { isTyping } from './shortcuts.js';

test('query strings leave out empty values and repeat arrays', () => {
  assert.equal(url('/v1/runs', { status: ['running', 'failed'], q: '', cursor: null, limit: 50 }),
    '/v1/runs?status=running&status=failed&limit=50');
  assert.equal(url('/v1/runs', {}), '/v1/runs');
});

test('hash routes parse into parts and query, and href builds them back', () => {
  const r = parseHash('#/runs/a%2Fb?view=table&x=1');
  assert.deepEqual(r.parts, ['runs', 'a/b']);
  assert.deepEqual(r.query, { view: 'table', x: '1' });
  assert.deepEqual(parseHash('').parts, []);
  assert.equal(href('/runs', { view: 'table', empty: '' }), '#/runs?view=table');
});

test('shortcuts stay quiet in text fields but not on checkboxes or buttons', () => {
  assert.ok(isTyping({ tagName: 'INPUT', type: 'text' }));
  assert.ok(isTyping({ tagName: 'TEXTAREA' }));
  assert.ok(isTyping({ tagName: 'SELECT' }));
  assert.ok(isTyping({ tagName: 'DIV', isContentEditable: true }));
  assert.ok(!isTyping({ tagName: 'INPUT', type: 'checkbox' }));
  assert.ok(!isTyping({ tagName: 'BUTTON' }));
  assert.ok(!isTyping(null));
});
