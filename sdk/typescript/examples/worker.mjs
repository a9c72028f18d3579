#!/usr/bin/env node
// An example worker: node worker.mjs [--concurrency N] [--lease-ms MS] QUEUE
//
// Claims jobs from QUEUE on the server at WEFT_URL (with WEFT_TOKEN) and
// answers {"n": input.n, "double": 2 * input.n}, after sleeping
// input.sleep_ms ms when given. SIGTERM or SIGINT drains: no new claims,
// the jobs in hand finish and are reported, exit 0; a second signal exits
// at once.
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "@weft/client";

/** @param {string} msg @returns {never} */
function usage(msg) {
  process.stderr.write(`worker.mjs: ${msg}\nusage: node worker.mjs [--concurrency N] [--lease-ms MS] QUEUE\n`);
  process.exit(2);
}

let concurrency = 16;
let leaseMs = 30_000;
let queue;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--concurrency") {
    concurrency = Number(args[++i]);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) usage("--concurrency takes 1..1000");
  } else if (args[i] === "--lease-ms") {
    leaseMs = Number(args[++i]);
    if (!Number.isInteger(leaseMs) || leaseMs < 1000 || leaseMs > 3_600_000) usage("--lease-ms takes 1000..3600000");
  } else if (args[i].startsWith("-")) usage(`unknown option '${args[i]}'`);
  else if (queue === undefined) queue = args[i];
  else usage("one queue only");
}
if (queue === undefined) usage("which queue?");

const worker = new Worker({
  queues: [queue],
  concurrency,
  leaseMs,
  handler: async (job) => {
    const { n, sleep_ms: sleepMs } = job.input ?? {};
    if (sleepMs) await sleep(sleepMs, undefined, { signal: job.signal });
    return { n, double: 2 * n };
  },
});

try {
  await worker.run();
  const s = worker.stats;
  process.stderr.write(`worker.mjs: drained: ${s.completed} completed, ${s.failed} failed, ${s.lost} lost, ${s.released} released\n`);
} catch (err) {
  process.stderr.write(`worker.mjs: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
}
