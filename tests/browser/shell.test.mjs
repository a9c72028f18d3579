/*
 * The shell: every view of the navigation opens without a console error
 * (a screenshot of each, at desktop and at phone width), the theme toggle
 * is kept across a reload, and the keyboard moves between views.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openPage } from './harness.mjs';

const NAV = ['dashboard', 'runs', 'queues', 'workers', 'dead-letters', 'workflows', 'schedules',
  'templates', 'hooks', 'subscriptions', 'audit'];

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

test('every view loads at 1280×800 with no console error', async () => {
  const ui = await openPage(server);
  try {
    for (const name of NAV) {
      await ui.goto(`/${name}`);
      await ui.page.waitForSelector(`[data-testid="nav-${name}"][aria-current="page"]`);
      await ui.page.waitForSelector('[data-testid="content"] h1');
      await ui.idle();
      await ui.shot(`desktop-${name}`);
    }
  } finally {
    await ui.close();
  }
});

test('views at 390×844 open from the phone menu', async () => {
  const ui = await openPage(server, { width: 390, height: 844 });
  try {
    await ui.goto('/dashboard');
    for (const name of ['dashboard', 'runs', 'queues', 'dead-letters', 'schedules']) {
      await ui.page.click('[data-testid="menu-toggle"]');
      await ui.page.click(`[data-testid="nav-${name}"]`);
      await ui.page.waitForSelector(`[data-testid="nav-${name}"][aria-current="page"]`);
      // The menu closes once a view is chosen, sliding off screen.
      await ui.page.waitForFunction(() => {
        const sidebar = document.querySelector('[data-testid="nav"]');
        return !document.querySelector('.shell.menu-open') && sidebar.getBoundingClientRect().right <= 0;
      });
      await ui.idle();
      await ui.shot(`phone-${name}`);
    }
    const width = await ui.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page does not scroll sideways (scrollWidth ${width})`);
  } finally {
    await ui.close();
  }
});

test('the theme toggle switches data-theme and is kept after a reload', async () => {
  const ui = await openPage(server, { theme: 'light' });
  try {
    await ui.goto('/runs');
    const theme = () => ui.page.evaluate(() => document.documentElement.dataset.theme);
    assert.equal(await theme(), 'light', 'the default follows prefers-color-scheme');
    await ui.page.click('[data-testid="theme-toggle"]');
    assert.equal(await theme(), 'dark');
    const bg = await ui.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(20, 23, 28)', 'the dark background applies');
    await ui.page.reload();
    await ui.page.waitForSelector('[data-testid="shell"]');
    assert.equal(await theme(), 'dark');
    assert.equal(await ui.page.evaluate(() => localStorage.getItem('weft-theme')), 'dark');
    await ui.shot('desktop-runs-dark');
  } finally {
    await ui.close();
  }
});

test('a dark preferred colour scheme is the default theme', async () => {
  const ui = await openPage(server, { theme: 'dark' });
  try {
    await ui.goto('/dashboard');
    assert.equal(await ui.page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    for (const name of ['dashboard', 'queues', 'schedules']) {
      await ui.goto(`/${name}`);
      await ui.page.waitForSelector(`[data-testid="nav-${name}"][aria-current="page"]`);
      await ui.idle();
      await ui.shot(`desktop-${name}-dark`);
    }
  } finally {
    await ui.close();
  }
});

test('keyboard: g then a nav key changes view, ? shows help, Esc closes it', async () => {
  const ui = await openPage(server);
  try {
    await ui.goto('/dashboard');
    await ui.page.keyboard.press('g');
    await ui.page.keyboard.press('q');
    await ui.page.waitForSelector('[data-testid="nav-queues"][aria-current="page"]');
    await ui.page.keyboard.press('Shift+Slash');
    await ui.page.waitForSelector('[data-testid="help"]');
    assert.match(await ui.page.textContent('[data-testid="help"]'), /Go to Queues/);
    await ui.page.keyboard.press('Escape');
    await ui.page.waitForSelector('[data-testid="help"]', { state: 'detached' });
    // Typing in a field is not a shortcut.
    await ui.page.click('[data-testid="token-button"]');
    await ui.page.fill('[data-testid="token-input"]', 'gr');
    assert.ok(ui.page.url().endsWith('#/queues'));
    // Tab stays inside the dialog.
    for (let i = 0; i < 4; i++) await ui.page.keyboard.press('Tab');
    assert.ok(await ui.page.evaluate(() => !!document.activeElement.closest('[data-testid="token-dialog"]')));
    await ui.page.keyboard.press('Escape');
    await ui.page.waitForSelector('[data-testid="token-dialog"]', { state: 'detached' });
  } finally {
    await ui.close();
  }
});

test('/ focuses the view\'s search box', async () => {
  const ui = await openPage(server);
  try {
    await ui.goto('/runs');
    // Stands in for a view's own search field (data-shortcut="search").
    await ui.page.evaluate(() => {
      const box = document.createElement('input');
      box.dataset.shortcut = 'search';
      document.querySelector('[data-testid="content"]').append(box);
    });
    await ui.page.keyboard.press('/');
    assert.equal(await ui.page.evaluate(() => document.activeElement.dataset.shortcut), 'search');
    // Typed into the box, "g" and "q" are text, not a shortcut.
    await ui.page.keyboard.type('gq');
    assert.ok(ui.page.url().endsWith('#/runs'));
  } finally {
    await ui.close();
  }
});

test('the namespace switcher offers the namespaces in use, takes a typed one, and keeps the choice', async () => {
  await server.api('POST', '/v1/jobs', { namespace: 'billing', jobs: [{ queue: 'invoices' }] });
  const ui = await openPage(server);
  const { page } = ui;
  const chosen = () => page.evaluate(() => localStorage.getItem('weft-namespace'));
  try {
    await ui.goto('/queues');
    await page.waitForFunction(() => [...document.querySelector('[data-testid="namespace-select"]').options]
      .some((o) => o.value === 'billing'));
    await page.selectOption('[data-testid="namespace-select"]', 'billing');
    assert.equal(await chosen(), 'billing');
    // A namespace with nothing in it yet is typed.
    await page.selectOption('[data-testid="namespace-select"]', { label: 'Other…' });
    await page.fill('[data-testid="namespace-input"]', 'fresh-ns');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="namespace-select"]');
    assert.equal(await chosen(), 'fresh-ns');
    await page.reload();
    assert.equal(await page.inputValue('[data-testid="namespace-select"]'), 'fresh-ns');
    await page.selectOption('[data-testid="namespace-select"]', '');
    assert.equal(await chosen(), null, '"All" forgets the namespace');
    await ui.idle();
  } finally {
    await ui.close();
  }
});

test('the page title names the view; Esc closes the phone menu', async () => {
  const ui = await openPage(server, { width: 390, height: 844 });
  try {
    await ui.goto('/dead-letters');
    await ui.page.waitForFunction(() => document.title === 'Dead letters · weft');
    await ui.page.click('[data-testid="menu-toggle"]');
    await ui.page.waitForSelector('.shell.menu-open');
    await ui.shot('phone-menu');
    await ui.page.keyboard.press('Escape');
    await ui.page.waitForSelector('.shell.menu-open', { state: 'detached' });
  } finally {
    await ui.close();
  }
});
