/*
 * Runs in the browser: a run's graph follows its tasks as workers finish
 * them (no reload), a running task's logs appear live, a kind's rules are
 * edited, and tasks and runs are canceled from the UI. Screenshots: the
 * run list, the graph, table and timeline views, the task panel and the
 * task page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, openPage, waitFor } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

/* A run of queue tasks: spec is [[ref, parents...]]; answers ref → task id. */
async function createRun(name, queue, spec) {
  const run = await server.api('POST', '/v1/runs', {
    name,
    tasks: spec.map(([ref, ...parents]) => ({ ref, queue, name: ref, parents: parents.map((p) => ({ ref: p })) })),
  });
  const ids = Object.fromEntries(spec.map(([ref], i) => [ref, run.tasks[i].id]));
  return { id: run.id, ids };
}

async function claim(queue, max = 10) {
  const res = await server.api('POST', '/v1/jobs/claim', { queues: [queue], worker_id: 'browser-test', max_jobs: max });
  return res.jobs;
}

async function complete(jobs) {
  await server.api('POST', '/v1/jobs/complete', {
    items: jobs.map((j) => ({ id: j.id, lease_token: j.lease_token, result: { ok: j.name } })),
  });
}

/* The graph's nodes as the graph component reports them: id → {status, color},
 * its spellings succeeded and failed read as the API's. */
async function graphNodes(page) {
  const nodes = await page.evaluate(() => {
    const g = window.__weftGraph;
    return g && typeof g.nodes === 'function' ? g.nodes() : null;
  });
  const status = (s) => ({ succeeded: 'success', failed: 'failure' })[s] || s;
  return nodes && Object.fromEntries(nodes.map((n) => [n.id, { status: status(n.status), color: n.color }]));
}

async function graphStatuses(page) {
  const nodes = await graphNodes(page);
  return nodes && Object.fromEntries(Object.entries(nodes).map(([id, n]) => [id, n.status]));
}

async function waitGraph(page, ids, status, desc) {
  await waitFor(async () => {
    const s = await graphStatuses(page);
    return s && ids.every((id) => s[id] === status);
  }, { desc });
}

test('the graph changes colour as workers finish tasks, without a reload', async () => {
  const run = await createRun('graph-live', 'graph-q', [['extract'], ['transform', 'extract'], ['load', 'transform'], ['report', 'extract']]);
  const ui = await openPage(server);
  try {
    await ui.goto('/runs');
    await ui.page.waitForSelector(`[data-testid="run-row"][data-id="${run.id}"]`);
    await ui.idle();
    await ui.shot('runs-list');

    await ui.page.click(`[data-testid="run-row"][data-id="${run.id}"]`);
    await ui.page.waitForSelector('[data-view="run"][data-ready="true"]');
    await waitFor(async () => {
      const s = await graphStatuses(ui.page);
      return s && Object.keys(s).length === 4;
    }, { desc: 'four nodes in the graph' });
    const before = await graphNodes(ui.page);
    assert.equal(before[run.ids.extract].status, 'pending');
    assert.equal(before[run.ids.load].status, 'waiting');
    await ui.page.evaluate(() => { window.__notReloaded = true; });

    let jobs = await claim('graph-q');
    assert.deepEqual(jobs.map((j) => j.id), [run.ids.extract]);
    await waitGraph(ui.page, [run.ids.extract], 'running', 'extract running');
    await complete(jobs);
    await waitGraph(ui.page, [run.ids.extract], 'success', 'extract succeeded');
    const after = await graphNodes(ui.page);
    assert.notEqual(after[run.ids.extract].color, before[run.ids.extract].color, 'the node changed colour');
    await waitGraph(ui.page, [run.ids.transform, run.ids.report], 'pending', 'its children pending');
    await ui.page.waitForSelector('[data-testid="toast"]');

    jobs = await claim('graph-q');
    await complete(jobs);
    jobs = await claim('graph-q');
    await complete(jobs);
    await waitGraph(ui.page, Object.values(run.ids), 'success', 'every task succeeded');
    /* Several feed batches, at most one notice: each summary replaced the last
       (it may already have timed out on a slow machine). */
    assert.ok(await ui.page.locator('[data-testid="toast"]').count() <= 1, 'change notices do not stack');
    assert.equal(await ui.page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
    await ui.page.waitForSelector('[data-testid="run-status"][data-status="success"]');
    /* A change rings its node for a moment; the steady state has no ring. */
    await waitFor(() => ui.page.evaluate(() => window.__weftGraph.flashing() === 0), { desc: 'the change flash ended' });
    await ui.idle();
    await ui.shot('run-graph');

    await ui.page.keyboard.press('c');
    await ui.page.waitForSelector('[data-testid="critical-path"][aria-pressed="true"]');
    await ui.page.keyboard.press('2');
    await ui.page.waitForSelector('[data-testid="task-row"]');
    assert.equal(await ui.page.locator('[data-testid="task-row"]').count(), 4);
    await ui.shot('run-table');

    const [download] = await Promise.all([ui.page.waitForEvent('download'), ui.page.click('[data-testid="export-csv"]')]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r\n/);
    assert.equal(csv[0], 'id,name,kind,status,created_at,started_at,ended_at,success,failures,expected_count,batch_id');
    assert.equal(csv.length, 5);
    assert.ok(csv.slice(1).every((line) => line.includes(',graph-q,success,') && line.endsWith(`,${run.id}`)));

    await ui.page.keyboard.press('3');
    await ui.page.waitForSelector('[data-testid="timeline-canvas"]');
    // The bars are painted: the canvas holds pixels of the success colour.
    await ui.page.waitForFunction(() => {
      const c = document.querySelector('[data-testid="timeline-canvas"]');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4) if (px[i] === 0x27 && px[i + 1] === 0xae && px[i + 2] === 0x60) return true;
      return false;
    });
    await ui.shot('run-timeline');
  } finally {
    await ui.close();
  }
});

test('a running task shows its log lines live', async () => {
  const run = await createRun('logs-live', 'logs-q', [['worker-job']]);
  const [job] = await claim('logs-q');
  const ui = await openPage(server);
  try {
    await ui.goto(`/tasks/${job.id}`);
    await ui.page.waitForSelector('[data-view="task"][data-ready="true"]');
    await ui.page.waitForSelector('[data-testid="task-logs"][data-live="true"]');
    await server.api('POST', `/v1/jobs/${job.id}/logs`, {
      lease_token: job.lease_token,
      lines: [{ text: 'starting the job' }, { text: 'a warning on stderr', stream: 'stderr' }],
    });
    await ui.page.waitForSelector('[data-testid="log-line"][data-stream="stderr"]');
    await server.api('POST', `/v1/jobs/${job.id}/logs`, {
      lease_token: job.lease_token, lines: [{ text: 'step 2 of 2 done' }],
    });
    await ui.page.waitForSelector('[data-testid="log-line"] >> text=step 2 of 2 done');
    assert.equal(await ui.page.locator('[data-testid="log-line"]').count(), 3);
    await ui.page.locator('[data-testid="task-logs"]').scrollIntoViewIfNeeded();
    await ui.shot('task-logs');

    await complete([job]);
    await ui.page.waitForSelector('[data-testid="task-details"] [data-testid="task-status"][data-status="success"]');
    await ui.page.waitForSelector('[data-testid="task-logs"][data-live="false"]');
    assert.equal(await ui.page.locator('[data-testid="log-line"]').count(), 3, 'the end added no line twice');
    assert.ok(run.id);
  } finally {
    await ui.close();
  }
});

test('a task and then its run are canceled from the UI', async () => {
  const run = await createRun('cancel-me', 'cancel-q', [['first'], ['second', 'first'], ['third', 'first']]);
  const ui = await openPage(server);
  try {
    await ui.goto(`/runs/${run.id}?view=table`);
    await ui.page.waitForSelector('[data-view="run"][data-ready="true"]');
    await ui.page.click(`[data-testid="task-row"][data-id="${run.ids.second}"]`);
    const panel = ui.page.locator('[data-testid="task-panel"]');
    await panel.locator('[data-testid="task-status"][data-status="waiting"]').waitFor();
    await panel.locator('[data-testid="action-cancel"]').click();
    await ui.page.click('[data-testid="confirm-cancel-task-ok"]');
    await panel.locator('[data-testid="task-status"][data-status="canceled"]').waitFor();
    await ui.page.waitForSelector(`[data-testid="task-row"][data-id="${run.ids.second}"] [data-status="canceled"]`);
    await ui.idle();
    await ui.shot('task-panel');

    await ui.page.click('[data-testid="edit-rules-open"]');
    await ui.page.selectOption('[data-testid="rules-kind"]', 'cancel-q');
    await ui.page.fill('[data-testid="rules-json"]', JSON.stringify([
      { type: 'Concurency', max_concurency: 1, matcher: { kind: 'cancel-q', status: 'Running', fields: [] } }]));
    await ui.page.click('[data-testid="rules-submit"]');
    await ui.page.waitForSelector('[data-testid="toast"] >> text=Rules of cancel-q updated on 2 tasks');

    await ui.page.click('[data-testid="cancel-run-open"]');
    await ui.page.click('[data-testid="confirm-cancel-run"]');
    await ui.page.waitForSelector('[data-testid="toast"] >> text=/Run canceled: 2 tasks canceled/');
    await ui.page.waitForSelector('[data-testid="run-status"][data-status="canceled"]');
    for (const ref of ['first', 'third']) {
      await ui.page.waitForSelector(`[data-testid="task-row"][data-id="${run.ids[ref]}"] [data-status="canceled"]`);
    }
    const t = await server.api('GET', `/v1/tasks/${run.ids.first}`);
    assert.equal(t.status, 'canceled');

    await ui.goto(`/tasks/${run.ids.first}`);
    await ui.page.waitForSelector('[data-view="task"][data-ready="true"]');
    await ui.idle();
    await ui.shot('task-page');
  } finally {
    await ui.close();
  }
});

test('tasks selected in the table are canceled together', async () => {
  const run = await createRun('bulk', 'bulk-q', [['one'], ['two'], ['three']]);
  const ui = await openPage(server);
  try {
    await ui.goto(`/runs/${run.id}?view=table`);
    await ui.page.waitForSelector('[data-view="run"][data-ready="true"]');
    for (const ref of ['one', 'three']) {
      await ui.page.check(`[data-testid="task-row"][data-id="${run.ids[ref]}"] input[type="checkbox"]`);
    }
    await ui.page.click('[data-testid="bulk-cancel"]');
    await ui.page.click('[data-testid="confirm-bulk-cancel-ok"]');
    await ui.page.waitForSelector('[data-testid="toast"] >> text=Canceled 2 tasks');
    for (const ref of ['one', 'three']) {
      await ui.page.waitForSelector(`[data-testid="task-row"][data-id="${run.ids[ref]}"] [data-status="canceled"]`);
    }
    assert.equal((await server.api('GET', `/v1/tasks/${run.ids.two}`)).status, 'pending');
  } finally {
    await ui.close();
  }
});

test('the run list follows its runs\' tasks', async () => {
  const run = await createRun('listed', 'list-q', [['only']]);
  const ui = await openPage(server);
  try {
    await ui.goto('/runs');
    const row = `[data-testid="run-row"][data-id="${run.id}"]`;
    await ui.page.waitForSelector(`${row} [data-testid="run-status"][data-status="active"]`);
    await complete(await claim('list-q'));
    await ui.page.waitForSelector(`${row} [data-testid="run-status"][data-status="success"]`);
    await ui.page.waitForSelector(`${row} [data-testid="status-chip"][data-status="success"]`);
  } finally {
    await ui.close();
  }
  const phone = await openPage(server, { width: 390, height: 844 });
  try {
    await phone.goto(`/runs/${run.id}?view=table&task=${run.ids.only}`);
    await phone.page.waitForSelector('[data-testid="task-details"]');
    await phone.idle();
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the run page does not scroll sideways at phone width (scrollWidth ${width})`);
    await phone.shot('phone-run-table');
  } finally {
    await phone.close();
  }
});

test('a webhook task shows its action\'s delivery attempts', async () => {
  // Nothing listens on port 9: the on_start call fails and the task with it.
  const run = await server.api('POST', '/v1/runs', {
    name: 'hooked',
    tasks: [{ ref: 'call', executor: 'webhook', name: 'call', kind: 'notify', on_start: { url: 'http://127.0.0.1:9/start', verb: 'Post' } }],
  });
  const ui = await openPage(server);
  try {
    await ui.goto(`/tasks/${run.tasks[0].id}`);
    await ui.page.waitForSelector('[data-testid="task-details"] [data-testid="task-status"][data-status="failure"]');
    await ui.page.waitForSelector('[data-testid="task-deliveries"] >> text=on_start');
    await ui.page.locator('[data-testid="task-deliveries"]').scrollIntoViewIfNeeded();
    await ui.shot('task-deliveries');
  } finally {
    await ui.close();
  }
});
