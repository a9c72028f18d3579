// graphile-worker 0.17.3 on a fresh database: bulk enqueue, or a drain of N
// pre-inserted no-op jobs at concurrency 24. One JSON line on stdout.
//
//   node graphile.mjs --url postgres://... --workload enqueue [--n N]
//   node graphile.mjs --url postgres://... --workload drain --config batched|unbatched [--n N]
//
// batched: the pool fetches and locks LOCAL_QUEUE_SIZE jobs at a time
// (localQueue) and completes/fails jobs in batches (completeJobBatchDelay and
// failJobBatchDelay 0: whatever completions are pending when the event loop
// comes round go in one statement). unbatched: graphile-worker's defaults,
// one fetch and one completion per job. The values used are printed in the
// run's "params".

import { Logger, makeWorkerUtils, run } from "graphile-worker";

import {
  enqueueAll, guarded, inputs, Ledger, parseArgs, sleep, vacuumAnalyze, waitFor, withClient,
} from "./common.mjs";

const CONCURRENCY = 24;
const LOCAL_QUEUE_SIZE = Number(process.env.GRAPHILE_LOCAL_QUEUE_SIZE || 5000);
const BATCH_DELAY_MS = 0;
const JOBS_TABLE = "graphile_worker._private_jobs";
const DEADLINE_MS = 30 * 60 * 1000;

const silent = new Logger(() => () => {});

const opts = parseArgs(process.argv);
const config = opts.workload === "enqueue" ? "addJobs" : opts.config;
if (opts.workload === "drain" && config !== "batched" && config !== "unbatched") {
  process.stderr.write("graphile.mjs: a drain needs --config batched or --config unbatched\n");
  process.exit(2);
}

function drainPreset() {
  if (config === "unbatched") return { localQueue: { size: -1 }, completeJobBatchDelay: -1, failJobBatchDelay: -1 };
  return {
    localQueue: { size: LOCAL_QUEUE_SIZE },
    completeJobBatchDelay: BATCH_DELAY_MS,
    failJobBatchDelay: BATCH_DELAY_MS,
  };
}

async function insertAll(utils) {
  await enqueueAll(inputs(opts.n), opts.enqueueBatch, opts.enqueueClients, (chunk) =>
    utils.addJobs(chunk.map((payload) => ({ identifier: "noop", payload }))),
  );
}

async function enqueue() {
  const utils = await makeWorkerUtils({ connectionString: opts.url, logger: silent });
  try {
    await utils.migrate();
    await vacuumAnalyze(opts.url);
    const t0 = performance.now();
    await insertAll(utils);
    const seconds = (performance.now() - t0) / 1000;
    // Every input stored exactly once.
    const { rows } = await withClient(opts.url, (c) =>
      c.query(`SELECT count(*)::bigint AS rows, count(DISTINCT (payload->>'i'))::bigint AS distinct_i,
                      count(*) FILTER (WHERE (payload->>'i')::bigint NOT BETWEEN 0 AND $1 - 1)::bigint AS outside
                 FROM ${JOBS_TABLE}`, [opts.n]),
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
    await utils.release();
  }
}

async function drain() {
  const utils = await makeWorkerUtils({ connectionString: opts.url, logger: silent });
  try {
    await utils.migrate();
    await insertAll(utils);
  } finally {
    await utils.release();
  }
  await vacuumAnalyze(opts.url);

  const ledger = new Ledger(opts.n);
  const preset = drainPreset();
  const maxPoolSize = CONCURRENCY + 2;
  const t0 = performance.now();
  const runner = await run({
    connectionString: opts.url,
    concurrency: CONCURRENCY,
    maxPoolSize,
    logger: silent,
    noHandleSignals: true,
    taskList: {
      noop: async (payload) => {
        ledger.record(payload);
      },
    },
    preset: { worker: preset },
  });
  let tEnd;
  try {
    // Every job ran: now wait until every completion is committed (the
    // table is empty), polling only from then on so as not to load the
    // database meanwhile.
    while (ledger.executed < opts.n) {
      if (performance.now() - t0 > DEADLINE_MS) throw new Error(`only ${ledger.executed} of ${opts.n} jobs ran`);
      await sleep(2);
    }
    tEnd = await waitFor(opts.url, `SELECT count(*) FROM ${JOBS_TABLE}`, [], (v) => v === 0, 5, DEADLINE_MS,
      "jobs left in the table");
    // A job run twice would show up here.
    await sleep(200);
  } finally {
    await runner.stop();
  }
  const { lost, dup } = ledger.verdict();
  return {
    seconds: (tEnd - t0) / 1000,
    lost,
    dup,
    params: {
      concurrency: CONCURRENCY,
      maxPoolSize,
      localQueueSize: preset.localQueue.size,
      completeJobBatchDelay: preset.completeJobBatchDelay,
      failJobBatchDelay: preset.failJobBatchDelay,
    },
  };
}

await guarded({ system: "graphile-worker", version: "0.17.3", workload: opts.workload, config, n: opts.n }, () =>
  opts.workload === "enqueue" ? enqueue() : drain(),
);
