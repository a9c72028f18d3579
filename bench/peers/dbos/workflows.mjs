// DBOS Transact (TypeScript SDK) running the workflow `weft bench workflows`
// runs: 10 steps with no-op bodies, each a checkpointed DBOS.runStep named
// step_1 .. step_10, on a PostgreSQL database of its own (the system
// database). Closed loop, as weft's side: --in-flight workflows at a time,
// each slot starting the next one (DBOS.startWorkflow) once its last one's
// result is back, until --n have run. Timed from the first start to the last
// result; the latency of a run is from its start call to its result.
//
// Afterwards the system database must hold --n workflows of this name, every
// one SUCCESS with exactly 10 step outputs: otherwise the run prints
// "ok": false and no rate (report.py shows it as failed).
//
//   node workflows.mjs --url postgres://.../db --n N [--in-flight 64] [--pool 10]
//
// One JSON line on stdout; a human line on stderr.

import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";

const STEPS = 10;
const WORKFLOW = "bench10";

function parseArgs(argv) {
  const o = { url: null, n: 1000, inFlight: 64, pool: 0 };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--url") o.url = next();
    else if (a === "--n") o.n = positiveInt(a, next(), 10000000);
    else if (a === "--in-flight") o.inFlight = positiveInt(a, next(), 100000);
    else if (a === "--pool") o.pool = positiveInt(a, next(), 1000);
    else usage(`unknown argument ${a}`);
  }
  if (!o.url) usage("--url is required");
  return o;
}

function positiveInt(name, s, max) {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1 || v > max) usage(`${name} needs an integer in [1, ${max}], got '${s}'`);
  return v;
}

function usage(why) {
  process.stderr.write(`${why}\nusage: node workflows.mjs --url postgres://... [--n N] [--in-flight 64] [--pool N]\n`);
  process.exit(2);
}

const noop = async () => null;

// The workflow: ten checkpointed no-op steps, then the input as output.
const bench10 = DBOS.registerWorkflow(
  async (i) => {
    for (let k = 1; k <= STEPS; k++) await DBOS.runStep(noop, { name: `step_${k}` });
    return i;
  },
  { name: WORKFLOW },
);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

// What the system database says about the run: workflows of ours, how many
// SUCCESS with exactly STEPS step outputs.
async function verify(url, n) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE s.status = 'SUCCESS' AND
                (SELECT count(*) FROM dbos.operation_outputs o WHERE o.workflow_uuid = s.workflow_uuid) = $2)::int AS good
         FROM dbos.workflow_status s WHERE s.name = $1`,
      [WORKFLOW, STEPS],
    );
    return { total: rows[0].total, good: rows[0].good, expected: n };
  } finally {
    await c.end();
  }
}

async function main() {
  const o = parseArgs(process.argv);
  const config = { name: "weft-bench", systemDatabaseUrl: o.url, logLevel: "error" };
  if (o.pool) config.systemDatabasePoolSize = o.pool;
  DBOS.setConfig(config);
  await DBOS.launch();
  const base = {
    system: "dbos",
    workload: "workflows",
    config: `in-flight ${o.inFlight}, pool ${o.pool || "default"}`,
    n: o.n,
    steps: STEPS,
  };
  let result;
  try {
    const lat = new Float64Array(o.n);
    let next = 0;
    let wrong = 0;
    const slot = async () => {
      for (;;) {
        const i = next++;
        if (i >= o.n) return;
        const t = performance.now();
        const h = await DBOS.startWorkflow(bench10)(i);
        if ((await h.getResult()) !== i) wrong++;
        lat[i] = performance.now() - t;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(o.inFlight, o.n) }, slot));
    const seconds = (performance.now() - t0) / 1000;
    const v = await verify(o.url, o.n);
    lat.sort();
    result = {
      ...base,
      seconds,
      p50_ms: Math.round(percentile(lat, 50) * 100) / 100,
      p99_ms: Math.round(percentile(lat, 99) * 100) / 100,
      verified: v.good,
      total: v.total,
      wrong_results: wrong,
    };
    if (v.good !== o.n || v.total !== o.n || wrong) result.error = `${v.good} of ${o.n} SUCCESS with ${STEPS} steps, ${v.total} workflows, ${wrong} wrong results`;
  } catch (e) {
    result = { ...base, seconds: 0, error: String(e && e.message ? e.message : e) };
  }
  await DBOS.shutdown();
  const ok = !result.error;
  if (ok) {
    result.runs_per_s = Math.round((o.n / result.seconds) * 10) / 10;
    result.steps_per_s = Math.round(((o.n * STEPS) / result.seconds) * 10) / 10;
  }
  process.stdout.write(JSON.stringify({ ...result, ok }) + "\n");
  process.stderr.write(
    `dbos workflows [${base.config}] n=${o.n}: ` +
      (ok
        ? `${result.runs_per_s} runs/s (${result.seconds.toFixed(3)} s), p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms`
        : `FAILED ${result.error}`) +
      "\n",
  );
  process.exitCode = ok ? 0 : 1;
}

await main();
