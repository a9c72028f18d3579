/*
 * The durable views in a browser: a workflow run and its steps driven
 * through the worker API, a signal sent from the UI, a template run started
 * from the UI, an event's deliveries, and a hook's secret rotated.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(() => server.stop());

const open = (opts = {}) => openPage(server, opts);

/* Starts a workflow run and plays one worker attempt: a step, then a wait for `signal`. */
async function runUntilSignalWait(queue, signal) {
  const run = await server.api('POST', '/v1/workflows', { queue, type: 'order', input: { order: 7 } });
  const { jobs } = await server.api('POST', '/v1/jobs/claim', { queues: [queue], worker_id: 'browser-test' });
  assert.equal(jobs[0].id, run.id);
  const lease = jobs[0].lease_token;
  const begun = await server.api('POST', `/v1/workflows/${run.id}/steps/begin`, { lease_token: lease, name: 'charge' });
  await server.api('POST', `/v1/workflows/${run.id}/steps/complete`,
    { lease_token: lease, name: 'charge', seq: begun.step.seq, output: { charged: 12.5 } });
  const wait = await server.api('POST', `/v1/workflows/${run.id}/wait-signal`, { lease_token: lease, name: signal });
  assert.equal(wait.suspended, true);
  return run;
}

test('a workflow run shows its steps, and a signal sent from the UI wakes it', async () => {
  const run = await runUntilSignalWait('wf-browser', 'approve');
  const { page, goto, shot, close } = await open();
  await goto('/workflows');
  const row = page.locator(`[data-testid="workflow-row"][data-id="${run.id}"]`);
  await row.getByTestId('workflow-status').filter({ hasText: 'suspended' }).waitFor();
  await shot('durable-workflows');

  await row.getByTestId('workflow-link').click();
  await page.waitForSelector('[data-view="workflow"][data-ready="true"]');
  const charge = page.locator('[data-testid="workflow-step"][data-name="charge"]');
  assert.equal(await charge.getAttribute('data-status'), 'completed');
  assert.equal(await charge.getAttribute('data-kind'), 'step');
  const wait = page.locator('[data-testid="workflow-step"][data-name="approve"]');
  assert.equal(await wait.getAttribute('data-kind'), 'signal');
  assert.equal(await wait.getAttribute('data-status'), 'waiting');
  await shot('durable-workflow-page');

  assert.equal(await page.getByTestId('signal-name').inputValue(), 'approve');
  await page.getByTestId('signal-payload').fill('{"approved": tru');
  await page.getByTestId('signal-send').click();
  await page.getByTestId('signal-error').filter({ hasText: 'payload' }).waitFor();
  await page.getByTestId('signal-payload').fill('{"approved": true}');
  await page.getByTestId('signal-send').click();
  await page.getByTestId('signal-sent').filter({ hasText: 'woke the run' }).waitFor();
  await page.locator('[data-testid="workflow-status"][data-status="pending"]').waitFor();

  // The next attempt takes the signal's payload and completes the run.
  const { jobs } = await server.api('POST', '/v1/jobs/claim', { queues: ['wf-browser'], worker_id: 'browser-test' });
  const got = await server.api('POST', `/v1/workflows/${run.id}/wait-signal`, { lease_token: jobs[0].lease_token, name: 'approve' });
  assert.deepEqual(got.step.output, { approved: true });
  await close();
});

test('workflow runs page by cursor and filter by status', async () => {
  for (let i = 0; i < 60; i++) await server.api('POST', '/v1/workflows', { queue: 'wf-many', type: 'bulk', input: { i } });
  const { page, goto, close } = await open();
  await goto('/workflows?queue=wf-many');
  const rows = page.getByTestId('workflow-row');
  await page.waitForSelector('[data-view="workflows"][data-ready="true"]');
  assert.equal(await rows.count(), 50);
  await page.getByTestId('load-more').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="workflow-row"]').length === 60);
  assert.equal(await page.getByTestId('load-more').count(), 0);
  await page.getByTestId('chip-completed').click();
  await page.getByTestId('empty').waitFor();
  await page.getByTestId('chip-pending').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="workflow-row"]').length === 50);
  await close();
});

test('a refused filter shows the server message and the field at fault', async () => {
  const { page, goto, close } = await open({ allow: [/status of 400/] });
  await goto('/workflows?queue=not%20a%20queue!');
  await page.waitForSelector('[data-view="workflows"][data-ready="true"][data-error="true"]');
  const field = await page.getByTestId('error-field').first().textContent();
  assert.match(field, /^queue/);
  await close();
});

test('cancel asks first, then ends the run', async () => {
  const run = await runUntilSignalWait('wf-cancel', 'never');
  const { page, goto, shot, close } = await open({ width: 390, height: 844 });
  await goto(`/workflows/${run.id}`);
  await page.getByTestId('action-cancel').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await shot('durable-phone-workflow-cancel');
  await page.getByTestId('confirm-ok').click();
  await page.locator('[data-testid="workflow-status"][data-status="canceled"]').waitFor();
  assert.equal(await page.getByTestId('action-retry').count(), 1);
  await close();
});

test('a template run started from the UI lands on its run', async () => {
  await server.api('POST', '/v1/templates', {
    name: 'onboard', version: '1.0.0', description: 'Onboard a customer',
    steps: [
      { ref: 'fetch', queue: 'tpl-fetch' },
      { ref: 'store', queue: 'tpl-store', parents: [{ ref: 'fetch' }] },
      { ref: 'mail', queue: 'tpl-store', parents: [{ ref: 'fetch' }] },
    ],
  });
  const { page, goto, shot, close } = await open();
  await goto('/templates');
  await page.locator('[data-testid="template-row"][data-name="onboard"]').getByTestId('template-link').click();
  await page.waitForSelector('[data-view="template"][data-ready="true"]');
  assert.equal(await page.getByTestId('template-level').count(), 2);
  await page.getByTestId('template-context').fill('{"customer": 42}');
  await page.getByTestId('template-run').click();
  const link = page.getByTestId('template-run-link');
  await link.waitFor();
  await shot('durable-template');
  await link.click();
  await page.waitForFunction(() => location.hash.startsWith('#/runs/'));
  const runId = await page.evaluate(() => location.hash.slice('#/runs/'.length));
  const { jobs } = await server.api('POST', '/v1/jobs/claim', { queues: ['tpl-fetch'], worker_id: 'browser-test' });
  assert.equal(jobs[0].input.context.customer, 42);
  assert.ok(runId.length > 0);
  await close();
});

test('a test event published from the UI shows its deliveries', async () => {
  await server.api('POST', '/v1/subscriptions', {
    name: 'new-orders', topic: 'orders.created', target: { kind: 'workflow', type: 'order', queue: 'wf-events' },
  });
  const { page, goto, shot, close } = await open();
  await goto('/subscriptions');
  await page.locator('[data-testid="subscription-row"][data-name="new-orders"]').waitFor();
  await page.getByTestId('publish-topic').fill('orders.created');
  await page.getByTestId('publish-payload').fill('{"order": 9}');
  await page.getByTestId('publish-send').click();
  await page.getByTestId('publish-done').filter({ hasText: '1 delivery' }).waitFor();
  await page.getByTestId('event-row').first().waitFor();
  await shot('durable-subscriptions');
  await page.getByTestId('publish-link').click();
  const delivery = page.locator('[data-testid="event-delivery"][data-subscription="new-orders"]');
  await delivery.waitFor();
  await shot('durable-event');
  await delivery.getByTestId('delivery-run').click();
  await page.waitForSelector('[data-view="workflow"][data-ready="true"]');
  assert.match(await page.evaluate(() => location.hash), /^#\/workflows\//);
  await close();
});

test('a hook rotated from the UI shows its new secret once, and deletes after asking', async () => {
  await server.api('POST', '/v1/hooks', { name: 'github-push', target: { kind: 'job', queue: 'hooked' } });
  const { page, goto, shot, close } = await open();
  await goto('/hooks');
  await page.locator('[data-testid="hook-row"][data-name="github-push"]').getByTestId('hook-link').click();
  await page.waitForSelector('[data-view="hook"][data-ready="true"]');
  await page.getByTestId('action-rotate').click();
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId('hook-secret').filter({ hasText: 'whsec_' }).waitFor();
  await shot('durable-hook');

  await page.getByTestId('action-delete').click();
  await page.getByTestId('confirm-ok').click();
  await page.waitForSelector('[data-view="hooks"][data-ready="true"]');
  assert.equal(await page.locator('[data-testid="hook-row"][data-name="github-push"]').count(), 0);
  await close();
});

test('a subscription shows the recent events of its topic, and deletes after asking', async () => {
  await server.api('POST', '/v1/subscriptions', {
    name: 'shipped', topic: 'orders.shipped', target: { kind: 'job', queue: 'shipping' },
  });
  const published = await server.api('POST', '/v1/events', { topic: 'orders.shipped', payload: { order: 3 } });
  await server.api('POST', '/v1/events', { topic: 'orders.other', payload: null });
  const { page, goto, close } = await open();
  await goto('/subscriptions?subscription=shipped&namespace=default');
  await page.waitForSelector('[data-view="subscription"][data-ready="true"]');
  await page.locator(`[data-testid="event-row"][data-id="${published.id}"]`).waitFor();
  assert.equal(await page.getByTestId('event-row').count(), 1);

  // A job delivery links to the job's task.
  await page.locator(`[data-testid="event-row"][data-id="${published.id}"]`).getByTestId('event-link').click();
  const run = page.locator('[data-testid="event-delivery"][data-subscription="shipped"]').getByTestId('delivery-run');
  assert.match(await run.getAttribute('href'), /^#\/tasks\//);

  await goto('/subscriptions?subscription=shipped&namespace=default');
  await page.getByTestId('action-delete').click();
  await page.getByTestId('confirm-ok').click();
  await page.waitForSelector('[data-view="subscriptions"][data-ready="true"]');
  assert.equal(await page.locator('[data-testid="subscription-row"][data-name="shipped"]').count(), 0);
  await close();
});

test('the durable views fit a phone: only their tables scroll sideways', async () => {
  const { page, goto, shot, close } = await open({ width: 390, height: 844 });
  for (const view of ['workflows', 'templates', 'hooks', 'subscriptions']) {
    await goto(`/${view}`);
    await page.waitForSelector(`[data-view="${view}"][data-ready="true"]`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${view} is ${width} px wide`);
    await shot(`durable-phone-${view}`);
  }
  await close();
});
