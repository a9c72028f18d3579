/*
 * The UI against a server with AUTH_TOKEN: the token is asked for on the
 * first 401, entered once and kept across reloads; a wrong one is asked
 * for again; signing out forgets it. ArcRun's /view?batch=ID opens the
 * run's page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openPage } from './harness.mjs';

const TOKEN = 'browser-test-token-0123456789';
// The browser logs each refused call; those are what these tests provoke.
const REFUSED = [/status of 401/];

let server;
before(async () => {
  server = await startServer({ token: TOKEN });
  // A queue in namespace "alpha", so the namespace switcher has data to show.
  await server.api('POST', '/v1/jobs', { namespace: 'alpha', jobs: [{ queue: 'mail' }] });
});
after(async () => { await server.stop(); });

/* Waits until the namespace switcher offers "alpha" (read with the token). */
const alphaOffered = (page) => page.waitForFunction(() => {
  const select = document.querySelector('[data-testid="namespace-select"]');
  return select && [...select.options].some((o) => o.value === 'alpha');
});

async function enterToken(ui, value) {
  await ui.page.fill('[data-testid="token-input"]', value);
  await ui.page.click('[data-testid="token-save"]');
}

test('the UI asks for the token, keeps it after a reload, and asks again for a wrong one', async () => {
  const ui = await openPage(server, { allow: REFUSED });
  const { page } = ui;
  try {
    await ui.goto('/queues');
    await page.waitForSelector('[data-testid="token-dialog"] [data-testid="token-refused"]');
    await ui.shot('token-dialog');
    await enterToken(ui, TOKEN);
    await page.waitForSelector('[data-testid="token-dialog"]', { state: 'detached' });
    // Data the token may see now loads: the namespaces of the queues.
    await alphaOffered(page);
    await ui.idle();
    assert.equal(await page.locator('[data-testid="token-dialog"]').count(), 0, 'no second prompt');

    await page.reload();
    await page.waitForSelector('[data-testid="shell"]');
    await alphaOffered(page);
    await ui.idle();
    assert.equal(await page.locator('[data-testid="token-dialog"]').count(), 0, 'the token was kept');
    assert.equal(await page.evaluate(() => localStorage.getItem('weft-token')), TOKEN);

    // A wrong token is refused and asked for again.
    await page.click('[data-testid="token-button"]');
    await enterToken(ui, 'not-the-right-token-000000');
    await page.waitForSelector('[data-testid="token-dialog"] [data-testid="token-refused"]');
    assert.match(await page.textContent('[data-testid="token-refused"]'), /refused the stored token/);
    await enterToken(ui, TOKEN);
    await page.waitForSelector('[data-testid="token-dialog"]', { state: 'detached' });
    await ui.idle();
  } finally {
    await ui.close();
  }
});

test('sign out forgets the token and the next call asks for one', async () => {
  const ui = await openPage(server, { token: TOKEN, allow: REFUSED });
  const { page } = ui;
  try {
    await ui.goto('/dashboard');
    await alphaOffered(page);
    await page.click('[data-testid="token-button"]');
    await page.click('[data-testid="token-signout"]');
    await page.waitForSelector('[data-testid="token-dialog"] [data-testid="token-refused"]');
    assert.equal(await page.evaluate(() => localStorage.getItem('weft-token')), null);
  } finally {
    await ui.close();
  }
});

test('/view?batch=ID opens the run view', async () => {
  const run = await server.api('POST', '/v1/runs', { name: 'from-arcrun', tasks: [{ ref: 'a', queue: 'q', name: 'a' }] });
  const ui = await openPage(server, { token: TOKEN });
  const { page } = ui;
  try {
    await page.goto(`${server.url}/view?batch=${run.id}`);
    await page.waitForSelector('[data-testid="shell"]');
    await page.waitForFunction((id) => location.hash === `#/runs/${id}`, run.id);
    await page.waitForSelector('[data-testid="nav-runs"][aria-current="page"]');
  } finally {
    await ui.close();
  }
});

test('a client token scoped to two namespaces is offered exactly those, and never sent to /v1/tokens', async () => {
  const ADMIN = 'admin-token-for-browser-0001';
  const CLIENT = 'client-token-for-browser-001';
  const scoped = await startServer({
    env: { WEFT_TOKENS: `boss ${ADMIN} * admin;billing ${CLIENT} billing,shared client` },
    apiToken: ADMIN,
  });
  try {
    await scoped.api('POST', '/v1/jobs', { namespace: 'billing', jobs: [{ queue: 'invoices' }] });
    await scoped.api('POST', '/v1/jobs', { namespace: 'other', jobs: [{ queue: 'x' }] });
    // No refused call: the page learns the token's namespaces from /v1/whoami,
    // and shows the first, as "default" (the server's choice) is not one of them.
    const ui = await openPage(scoped, { token: CLIENT });
    const { page } = ui;
    let tokenCalls = 0;
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/tokens') tokenCalls += 1; });
    try {
      await ui.goto('/queues');
      await page.waitForFunction(() => document.querySelector('[data-testid="namespace-select"]').value === 'billing');
      await ui.idle();
      const values = await page.$$eval('[data-testid="namespace-select"] option', (os) => os.map((o) => o.value));
      assert.deepEqual(values, ['billing', 'shared'], 'only its namespaces: no "All", no "Other…"');
      await page.reload();
      await page.waitForSelector('[data-testid="shell"]');
      await ui.idle();
      assert.equal(tokenCalls, 0, 'a client token is not sent to /v1/tokens');
    } finally {
      await ui.close();
    }
  } finally {
    await scoped.stop();
  }
});
