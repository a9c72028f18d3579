/*
 * seed.mjs — fills a fresh weft with what the load-time bench shows:
 * one run of 10,000 independent tasks, jobs across queues (some done, some
 * dead), workflow runs, a schedule, and separately one 10,000-node layered
 * DAG run with real edges. Everything goes through /v1, as a client would.
 */

/* A small deterministic generator, so every run of the bench builds the same DAG. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* `layers` × `width` queue tasks; each below the first has 1 to 3 parents in the layers just above. */
export function layeredDag(layers, width, queue, seed = 1) {
  const rnd = random(seed);
  const tasks = [];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const t = { ref: `n${l}-${i}`, queue, name: `step-${l}` };
      if (l > 0) {
        const parents = new Set();
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) {
          const pl = Math.max(0, l - 1 - Math.floor(rnd() * 2));
          parents.add(`n${pl}-${Math.floor(rnd() * width)}`);
        }
        t.parents = [...parents].map((ref) => ({ ref, requires_success: rnd() > 0.1 }));
      }
      tasks.push(t);
    }
  }
  return tasks;
}

async function claimAndEnd(api, queue, count, end) {
  const { jobs } = await api('POST', '/v1/jobs/claim', { queues: [queue], worker_id: 'bench-ui', max_jobs: count });
  if (jobs.length === 0) return 0;
  if (end === 'complete') {
    await api('POST', '/v1/jobs/complete', { items: jobs.map((j) => ({ id: j.id, lease_token: j.lease_token, result: { ok: true } })) });
  } else if (end === 'fail') {
    await api('POST', '/v1/jobs/fail', { items: jobs.map((j) => ({ id: j.id, lease_token: j.lease_token, error: { code: 'bench', message: 'made to fail', retryable: false } })) });
  }
  return jobs.length;
}

/* Answers {flatRun, dagRun, task} ids the bench opens. */
export async function seed(api, log) {
  const flat = await api('POST', '/v1/runs', {
    name: 'bench-flat-10000',
    tasks: Array.from({ length: 10000 }, (_, i) => ({ ref: `t${i}`, queue: 'bench-flat', name: `item-${i % 50}` })),
  });
  log(`run of 10,000 independent tasks: ${flat.id}`);
  await claimAndEnd(api, 'bench-flat', 1000, 'complete');
  await claimAndEnd(api, 'bench-flat', 300, 'fail');
  await claimAndEnd(api, 'bench-flat', 200, 'hold');

  const queues = ['email', 'billing', 'reports', 'images', 'search'];
  for (const q of queues) {
    await api('POST', '/v1/jobs', { jobs: Array.from({ length: 200 }, (_, i) => ({ queue: q, input: { i } })) });
    await claimAndEnd(api, q, 60, 'complete');
    await claimAndEnd(api, q, 10, 'fail');
  }
  log(`1,000 jobs on ${queues.length} queues`);

  for (let i = 0; i < 50; i++) await api('POST', '/v1/workflows', { queue: 'bench-wf', type: `flow-${i % 5}`, input: { i } });
  await api('POST', '/v1/schedules', { name: 'bench-nightly', cron: '0 3 * * *', target: { kind: 'job', queue: 'reports' } });
  log('50 workflow runs, 1 schedule');

  const dagTasks = layeredDag(100, 100, 'bench-dag');
  const dag = await api('POST', '/v1/runs', { name: 'bench-dag-10000', tasks: dagTasks });
  const edges = dagTasks.reduce((n, t) => n + (t.parents ? t.parents.length : 0), 0);
  log(`10,000-node DAG (100 layers × 100, ${edges} edges): ${dag.id}`);
  await claimAndEnd(api, 'bench-dag', 100, 'complete');
  await claimAndEnd(api, 'bench-dag', 20, 'hold');
  const task = dag.tasks[dag.tasks.length >> 1].id;
  return { flatRun: flat.id, dagRun: dag.id, task };
}
