// pg-boss 10 on a fresh database: bulk insert, or a drain of N pre-inserted
// no-op jobs with batched fetches. One JSON line on stdout.
//
//   node pgboss.mjs --url postgres://... --workload enqueue [--n N]
//   node pgboss.mjs --url postgres://... --workload drain --config batch100|batch1000|batch5000 [--n N]
//
// A pg-boss worker (one `work` call) fetches up to batchSize jobs, runs the
// handler on all of them, completes them in one statement without waiting
// for it, and fetches again; when a round took less than the polling
// interval it sleeps out the rest. v10's smallest interval is 0.5 s, so one
// worker drains at most batchSize / 0.5 s: a small batch is capped by the
// interval. WORKERS such workers run in the process (PGBOSS_WORKERS); the
// values used are printed in the run's "params".

import PgBoss from "pg-boss";

import { enqueueAll, guarded, inputs, Ledger, parseArgs, sleep, vacuumAnalyze, waitFor } from "./common.mjs";

const QUEUE = "noop";
const POLLING_INTERVAL_S = 0.5; // PgBoss POLICY.MIN_POLLING_INTERVAL_MS in v10
const WORKERS = Number(process.env.PGBOSS_WORKERS || 8);
const POOL_MAX = WORKERS + 4;
const DEADLINE_MS = 30 * 60 * 1000;

const opts = parseArgs(process.argv);
const config = opts.workload === "enqueue" ? "insert" : opts.config;
const batchSize = opts.workload === "drain" ? Number(/^batch(\d+)$/.exec(config || "")?.[1]) : 0;
if (opts.workload === "drain" && !(batchSize >= 1)) {
  process.stderr.write("pgboss.mjs: a drain needs --config batchN, e.g. batch1000\n");
  process.exit(2);
}

async function started() {
  // No maintenance or cron loop: only the queue is measured.
  const boss = new PgBoss({ connectionString: opts.url, max: POOL_MAX, supervise: false, schedule: false });
  boss.on("error", (e) => process.stderr.write(`pg-boss: ${e.message}\n`));
  await boss.start();
  await boss.createQueue(QUEUE);
  return boss;
}

async function insertAll(boss) {
  await enqueueAll(inputs(opts.n), opts.enqueueBatch, opts.enqueueClients, (chunk) =>
    boss.insert(chunk.map((data) => ({ name: QUEUE, data }))),
  );
}

async function enqueue() {
  const boss = await started();
  try {
    await vacuumAnalyze(opts.url);
    const t0 = performance.now();
    await insertAll(boss);
    const seconds = (performance.now() - t0) / 1000;
    const db = boss.getDb();
    const { rows } = await db.executeSql(
      `SELECT count(*)::bigint AS rows, count(DISTINCT (data->>'i'))::bigint AS distinct_i,
              count(*) FILTER (WHERE (data->>'i')::bigint NOT BETWEEN 0 AND $2 - 1)::bigint AS outside
         FROM pgboss.job WHERE name = $1`,
      [QUEUE, opts.n],
    );
    const stored = Number(rows[0].rows);
    const distinct = Number(rows[0].distinct_i) - Number(rows[0].outside);
    return {
      seconds,
      lost: opts.n - distinct,
      dup: stored - distinct,
      params: { batch: opts.enqueueBatch, clients: opts.enqueueClients },
    };
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

async function drain() {
  const boss = await started();
  const ledger = new Ledger(opts.n);
  let tEnd;
  let t0;
  try {
    await insertAll(boss);
    await vacuumAnalyze(opts.url);
    t0 = performance.now();
    for (let w = 0; w < WORKERS; w++) {
      await boss.work(QUEUE, { batchSize, pollingIntervalSeconds: POLLING_INTERVAL_S }, async (jobs) => {
        for (const job of jobs) ledger.record(job.data);
      });
    }
    while (ledger.executed < opts.n) {
      if (performance.now() - t0 > DEADLINE_MS) throw new Error(`only ${ledger.executed} of ${opts.n} jobs ran`);
      await sleep(2);
    }
    // Completions are sent without waiting: the drain ends when all are
    // committed.
    tEnd = await waitFor(opts.url, `SELECT count(*) FROM pgboss.job WHERE name = $1 AND state <> 'completed'`,
      [QUEUE], (v) => v === 0, 5, DEADLINE_MS, "jobs not completed");
    await sleep(200);
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
  const { lost, dup } = ledger.verdict();
  return {
    seconds: (tEnd - t0) / 1000,
    lost,
    dup,
    params: { batchSize, workers: WORKERS, pollingIntervalSeconds: POLLING_INTERVAL_S, poolMax: POOL_MAX },
  };
}

await guarded({ system: "pg-boss", version: "10.4.2", workload: opts.workload, config, n: opts.n }, () =>
  opts.workload === "enqueue" ? enqueue() : drain(),
);
