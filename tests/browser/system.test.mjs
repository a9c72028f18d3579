/*
 * The system views in a browser: requeue a dead letter, pause and resume a
 * schedule and a queue, drain a worker — each seen in the page and through
 * the API — and screenshots of every system view and of the dashboard in
 * both themes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openPage, waitFor } from './harness.mjs';

let server;

before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

async function view(ui, name, query = '') {
  await ui.goto(`/${name}${query}`);
  await ui.page.waitForSelector(`[data-view="${name}"][data-ready="true"]`);
}

/* One job on `queue` with a single attempt, claimed by `worker` and failed: a dead letter. */
async function deadLetter(queue, worker) {
  const { jobs } = await server.api('POST', '/v1/jobs', { jobs: [{ queue, name: 'nightly-report', max_attempts: 1, input: { day: '2026-12-04' } }] });
  const claim = await server.api('POST', '/v1/jobs/claim', { queues: [queue], worker_id: worker, hostname: 'test-host' });
  assert.equal(claim.jobs.length, 1);
  const fail = await server.api('POST', '/v1/jobs/fail', {
    items: [{ id: claim.jobs[0].id, lease_token: claim.jobs[0].lease_token, error: { code: 'source_down', message: 'report source unreachable' } }],
  });
  assert.equal(fail.results[0].outcome, 'dead_lettered');
  return jobs[0].id;
}

test('a dead letter requeued from the UI leaves the list and its job is available again', async () => {
  const id = await deadLetter('reports', 'worker-dl');
  const ui = await openPage(server);
  try {
    await view(ui, 'dead-letters');
    const row = ui.page.locator(`[data-testid="dead-letter-row"][data-id="${id}"]`);
    await row.locator('td').nth(1).click(); // the job's name: the first cell is its checkbox
    await ui.page.waitForSelector('[data-testid="detail-panel"] [data-testid="attempt-row"]');
    await ui.shot('system-dead-letter-panel');
    await row.locator('[data-testid="action-requeue"]').click();
    await ui.page.click('[data-testid="confirm-ok"]');
    await ui.page.waitForSelector('[data-testid="notice"]:has-text("Requeued 1")');
    await row.waitFor({ state: 'detached' });
    await ui.page.waitForSelector('[data-view="dead-letters"] [data-testid="empty"]');

    const task = await server.api('GET', `/v1/tasks/${id}`);
    assert.equal(task.status, 'pending');
    assert.equal(task.dead_letter, false);
    const { dead_letters: left } = await server.api('GET', '/v1/dead-letters');
    assert.ok(!left.some((d) => d.id === id), 'no longer a dead letter');
    const again = await server.api('POST', '/v1/jobs/claim', { queues: ['reports'], worker_id: 'worker-dl-2' });
    assert.deepEqual(again.jobs.map((j) => j.id), [id], 'claimable again');
  } finally {
    await ui.close();
  }
});

test('a schedule paused from the UI is paused through the API, and resumes', async () => {
  await server.api('POST', '/v1/schedules', {
    name: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Paris', target: { kind: 'job', queue: 'reports', name: 'nightly-report' },
  });
  const ui = await openPage(server);
  try {
    await view(ui, 'schedules');
    const row = ui.page.locator('[data-testid="schedule-row"][data-schedule="nightly"]');
    await row.locator('[data-testid="schedule-state"][data-status="active"]').waitFor();
    await row.locator('[data-testid="action-pause"]').click();
    await row.locator('[data-testid="schedule-state"][data-status="paused"]').waitFor();
    assert.equal((await server.api('GET', '/v1/schedules/nightly')).paused, true);

    await row.locator('td').first().click();
    await ui.page.waitForSelector('[data-testid="next-fires"] li');
    await ui.shot('system-schedule-panel');
    await row.locator('[data-testid="action-resume"]').click();
    await row.locator('[data-testid="schedule-state"][data-status="active"]').waitFor();
    assert.equal((await server.api('GET', '/v1/schedules/nightly')).paused, false);
  } finally {
    await ui.close();
  }
});

test('a queue paused and resumed from the UI, and its settings changed', async () => {
  await server.api('POST', '/v1/jobs', { jobs: [{ queue: 'emails', name: 'send-welcome' }, { queue: 'emails', name: 'send-digest' }] });
  const ui = await openPage(server, { allow: [/400.*\/v1\/queues\/emails/] });
  try {
    await view(ui, 'queues');
    const row = ui.page.locator('[data-testid="queue-row"][data-queue="emails"]');
    await row.locator('[data-testid="action-pause"]').click();
    await row.locator('[data-testid="queue-state"][data-status="paused"]').waitFor();
    assert.equal((await server.api('GET', '/v1/queues/emails')).paused, true);
    const none = await server.api('POST', '/v1/jobs/claim', { queues: ['emails'], worker_id: 'worker-q' });
    assert.equal(none.jobs.length, 0, 'a paused queue gives no jobs');

    await row.locator('td').first().click();
    await ui.page.waitForSelector('[data-testid="detail-panel"] [data-testid="queue-job-row"]');
    const panel = ui.page.locator('[data-testid="detail-panel"]');
    await panel.locator('[data-testid="queue-concurrency"]').fill('3');
    await panel.locator('[data-testid="queue-save"]').click();
    await panel.locator('[data-testid="notice"]:has-text("Settings saved")').waitFor();
    assert.equal((await server.api('GET', '/v1/queues/emails')).concurrency_limit, 3);
    // A limit the server refuses: its message and the field at fault are shown.
    await panel.locator('[data-testid="queue-rate"]').fill('0');
    await panel.locator('[data-testid="queue-save"]').click();
    const refused = panel.locator('[data-testid="queue-settings"] [data-testid="error"]');
    await refused.waitFor();
    assert.match(await refused.innerText(), /400[\s\S]*rate_limit/);
    await ui.shot('system-queue-panel');
    await row.locator('[data-testid="action-resume"]').click();
    await row.locator('[data-testid="queue-state"][data-status="active"]').waitFor();
    assert.equal((await server.api('GET', '/v1/queues/emails')).paused, false);
  } finally {
    await ui.close();
  }
});

test('a worker drained from the UI is draining through the API', async () => {
  await server.api('POST', '/v1/jobs/claim', { queues: ['emails'], worker_id: 'worker-drain', hostname: 'test-host' });
  const ui = await openPage(server);
  try {
    await view(ui, 'workers');
    const row = ui.page.locator('[data-testid="worker-row"][data-worker="worker-drain"]');
    await row.locator('[data-testid="action-drain"]').click();
    await ui.page.click('[data-testid="confirm-ok"]');
    await row.locator('[data-testid="worker-state"][data-status="draining"]').waitFor();
    assert.equal((await server.api('GET', '/v1/workers/worker-drain')).state, 'draining');
    const claim = await server.api('POST', '/v1/jobs/claim', { queues: ['emails'], worker_id: 'worker-drain' });
    assert.equal(claim.jobs.length, 0, 'a draining worker gets no jobs');
    assert.equal(claim.drain, true);
    await ui.shot('system-workers');
  } finally {
    await ui.close();
  }
});

test('system views and the dashboard: screenshots, both themes, phone width', async () => {
  await deadLetter('reports', 'worker-shots');
  for (const theme of ['light', 'dark']) {
    const ui = await openPage(server, { theme });
    try {
      await view(ui, 'dashboard');
      await ui.page.waitForSelector('[data-testid="total-dead"]');
      // Charts when the server keeps a history with samples, else a sentence saying why there are none.
      const history = '[data-testid="history-missing"], [data-view="dashboard"] [data-testid="empty"], [data-testid="chart-throughput"] canvas';
      await ui.page.waitForSelector(history);
      if (theme === 'light') {
        await ui.page.click('[data-testid="range-15m"]');
        await ui.page.waitForSelector('[data-testid="range-15m"][aria-pressed="true"]');
        await ui.page.waitForSelector(history);
      }
      await waitFor(() => ui.page.evaluate((t) => document.documentElement.dataset.theme === t, theme), { desc: `data-theme ${theme}` });
      await ui.idle();
      await ui.shot(`system-dashboard-${theme}`);
      if (theme === 'light') {
        for (const name of ['queues', 'workers', 'dead-letters', 'schedules', 'audit']) {
          await view(ui, name);
          await ui.idle();
          await ui.shot(`system-${name}`);
        }
      }
    } finally {
      await ui.close();
    }
  }
  const phone = await openPage(server, { width: 390, height: 844 });
  try {
    for (const name of ['dashboard', 'queues', 'dead-letters']) {
      await view(phone, name);
      await phone.idle();
      const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${name} does not scroll sideways at 390 px (scrollWidth ${width})`);
      await phone.shot(`system-phone-${name}`);
    }
  } finally {
    await phone.close();
  }
});

test('the audit log: a 403 with a clear message for a client token, entries and filters for an admin', async () => {
  const client = 'client-secret-0123456789';
  const admin = 'admin-secret-0123456789';
  const scoped = await startServer({ env: { WEFT_TOKENS: `ops ${client} * client; root ${admin} * admin` } });
  try {
    // An audited change to list: a queue paused by the admin.
    await fetch(`${scoped.url}/v1/jobs`, {
      method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jobs: [{ queue: 'emails' }] }),
    });
    const pause = await fetch(`${scoped.url}/v1/queues/emails/pause`, { method: 'POST', headers: { Authorization: `Bearer ${admin}` } });
    assert.equal(pause.status, 200);

    // The shell's namespace switcher asks /v1/tokens, which a client token may not read either.
    const denied = await openPage(scoped, { token: client, allow: [/403.*\/v1\/(audit|tokens)/] });
    try {
      await view(denied, 'audit');
      const box = denied.page.locator('[data-view="audit"] [data-testid="error"]');
      await box.waitFor();
      assert.match(await box.innerText(), /403[\s\S]*admin/i);
      await denied.shot('system-audit-forbidden');
    } finally {
      await denied.close();
    }

    const ui = await openPage(scoped, { token: admin });
    try {
      await view(ui, 'audit');
      await ui.page.waitForSelector('[data-testid="audit-row"]');
      await ui.page.fill('[data-testid="filter-action"]', 'no-such-action');
      await ui.page.click('[data-testid="filter-apply"]');
      await ui.page.waitForSelector('[data-view="audit"] [data-testid="empty"]');
    } finally {
      await ui.close();
    }
  } finally {
    await scoped.stop();
  }
});

test('dead letters page by cursor, filter by queue, and the selected ones are requeued together', async () => {
  const count = 53; // more than one page of 50
  const jobs = Array.from({ length: count }, (_, i) => ({ queue: 'bulk', name: `bulk-${i}`, max_attempts: 1 }));
  await server.api('POST', '/v1/jobs', { jobs });
  const claim = await server.api('POST', '/v1/jobs/claim', { queues: ['bulk'], worker_id: 'worker-bulk', max_jobs: count });
  assert.equal(claim.jobs.length, count);
  await server.api('POST', '/v1/jobs/fail', {
    items: claim.jobs.map((j) => ({ id: j.id, lease_token: j.lease_token, error: { code: 'bad_input', retryable: false } })),
  });

  const ui = await openPage(server);
  try {
    await view(ui, 'dead-letters', '?queue=bulk');
    const rows = ui.page.locator('[data-testid="dead-letter-row"]');
    await waitFor(async () => (await rows.count()) === 50, { desc: 'the first page of 50' });
    await ui.page.click('[data-testid="load-more"]');
    await waitFor(async () => (await rows.count()) === count, { desc: `all ${count} after Load more` });
    await ui.page.waitForSelector('[data-testid="load-more"]', { state: 'detached' });

    const picked = [await rows.nth(0).getAttribute('data-id'), await rows.nth(51).getAttribute('data-id')];
    for (const id of picked) await ui.page.check(`[data-testid="dead-letter-row"][data-id="${id}"] [data-testid="dead-letter-select"]`);
    await ui.page.click('[data-testid="action-requeue-selected"]');
    await ui.page.click('[data-testid="confirm-ok"]');
    await ui.page.waitForSelector('[data-testid="notice"]:has-text("Requeued 2")');
    for (const id of picked) await ui.page.locator(`[data-testid="dead-letter-row"][data-id="${id}"]`).waitFor({ state: 'detached' });

    const first = await server.api('GET', '/v1/dead-letters?queue=bulk&limit=1000');
    assert.equal(first.dead_letters.length, count - 2);
    for (const id of picked) assert.equal((await server.api('GET', `/v1/tasks/${id}`)).status, 'pending');
  } finally {
    await ui.close();
  }
});
