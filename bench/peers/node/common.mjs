// What graphile.mjs and pgboss.mjs share: the command line, the exactly-once
// ledger, the bulk-enqueue loop, and the one JSON line each run prints.
//
// Every run handles jobs whose input is {"i": n}, n in [0, N). A drain counts
// each execution in an array of N; an enqueue is checked in the database
// afterwards. A run with a lost or duplicated job is printed with "ok": false
// and no rate: report.py shows it as failed, not as a number.

import pg from "pg";

export function parseArgs(argv) {
  const opts = {
    url: null,
    workload: null,
    config: null,
    n: 100000,
    enqueueBatch: 1000,
    enqueueClients: 4,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--url") opts.url = next();
    else if (a === "--workload") opts.workload = next();
    else if (a === "--config") opts.config = next();
    else if (a === "--n") opts.n = positiveInt(a, next());
    else if (a === "--enqueue-batch") opts.enqueueBatch = positiveInt(a, next());
    else if (a === "--enqueue-clients") opts.enqueueClients = positiveInt(a, next());
    else usage(`unknown argument ${a}`);
  }
  if (!opts.url) usage("--url is required");
  if (opts.workload !== "enqueue" && opts.workload !== "drain") usage("--workload must be enqueue or drain");
  return opts;
}

function positiveInt(name, s) {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1 || v > 10000000) usage(`${name} needs an integer in [1, 10000000], got '${s}'`);
  return v;
}

function usage(why) {
  process.stderr.write(
    `${why}\nusage: node <script> --url postgres://... --workload enqueue|drain [--config NAME] [--n N] ` +
      `[--enqueue-batch 1000] [--enqueue-clients 4]\n`,
  );
  process.exit(2);
}

// Executions per job index; lost and dup once the run is over.
export class Ledger {
  constructor(n) {
    this.n = n;
    this.counts = new Uint32Array(n);
    this.executed = 0;
    this.outOfRange = 0;
  }

  record(input) {
    const i = input && input.i;
    if (!Number.isInteger(i) || i < 0 || i >= this.n) {
      this.outOfRange++;
      return;
    }
    this.counts[i]++;
    this.executed++;
  }

  verdict() {
    let lost = 0;
    let dup = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.counts[i] === 0) lost++;
      else dup += this.counts[i] - 1;
    }
    return { lost, dup: dup + this.outOfRange };
  }
}

export function inputs(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { i };
  return out;
}

// Sends inputs in chunks of `batch`, `clients` calls in flight at a time.
export async function enqueueAll(all, batch, clients, addChunk) {
  let next = 0;
  const one = async () => {
    for (;;) {
      const from = next;
      if (from >= all.length) return;
      next = Math.min(from + batch, all.length);
      await addChunk(all.slice(from, next));
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, Math.ceil(all.length / batch)) }, one));
}

export async function withClient(url, fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// Fresh statistics before the clock starts, as every system gets.
export async function vacuumAnalyze(url) {
  await withClient(url, (c) => c.query("VACUUM ANALYZE"));
}

// Polls `query` (one row, one integer column) every `everyMs` until `done(value)`.
// Returns the time it became true, or throws after `deadlineMs`.
export async function waitFor(url, query, params, done, everyMs, deadlineMs, what) {
  return withClient(url, async (c) => {
    const start = performance.now();
    for (;;) {
      const { rows } = await c.query(query, params);
      const v = Number(Object.values(rows[0])[0]);
      if (done(v)) return performance.now();
      if (performance.now() - start > deadlineMs) throw new Error(`${what}: still ${v} after ${deadlineMs} ms`);
      await sleep(everyMs);
    }
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// The run's one line on stdout.
export function emit(result) {
  const ok = result.lost === 0 && result.dup === 0 && !result.error;
  const line = { ...result, ok };
  if (ok) line.jobs_per_s = Math.round((result.n / result.seconds) * 10) / 10;
  else delete line.jobs_per_s;
  process.stdout.write(JSON.stringify(line) + "\n");
  process.stderr.write(
    `${result.system} ${result.workload} [${result.config}] n=${result.n}: ` +
      (ok
        ? `${line.jobs_per_s} jobs/s (${result.seconds.toFixed(3)} s)`
        : `FAILED lost=${result.lost} dup=${result.dup}${result.error ? " " + result.error : ""}`) +
      "\n",
  );
}

// A run that threw still prints its line, as failed.
export async function guarded(base, fn) {
  try {
    emit({ ...base, ...(await fn()) });
  } catch (e) {
    emit({ ...base, seconds: 0, lost: -1, dup: -1, error: String(e && e.message ? e.message : e) });
    process.exitCode = 1;
  }
}
