#!/usr/bin/env node
// An example durable workflow: node workflow.mjs QUEUE
//
// Runs the runs of workflow type "order" started on QUEUE (server at
// WEFT_URL, with WEFT_TOKEN) until SIGTERM or SIGINT: reserve stock, cool
// down, wait for the signal "approved", then charge (or release the stock
// when no approval comes in time). Start one and approve it:
//
//   weft workflows start order --queue QUEUE --input '{"sku": "A-1", "qty": 2}'
//   weft workflows signal RUN_ID approved '{"by": "ops"}'
//
// Input: {sku, qty, cool_down_ms? (default 1000), approve_within_ms?
// (default one hour)}. Each step prints a line when it runs: a replay
// (after the cool-down, after the signal) answers the steps that ran from
// the server's memo, without printing them again.
import { NonRetryableError, SignalTimeoutError, Worker } from "@weft/client";

const queue = process.argv[2];
if (!queue || process.argv.length > 3) {
  process.stderr.write("usage: node workflow.mjs QUEUE\n");
  process.exit(2);
}

/** @param {string} line */
const say = (line) => process.stdout.write(`${line}\n`);

/**
 * @typedef {{ sku: string, qty: number, cool_down_ms?: number, approve_within_ms?: number }} Order
 */

const worker = new Worker({ queues: [queue], concurrency: 4 });
worker.workflow("order", async (wf, /** @type {Order} */ input) => {
  if (typeof input?.sku !== "string" || !Number.isInteger(input?.qty))
    throw new NonRetryableError("bad_input", 'input must be {"sku": <string>, "qty": <integer>}');
  const held = await wf.step("reserve", () => {
    say(`reserving ${input.qty} x ${input.sku}`);
    return { reservation: `R-${input.sku}-${input.qty}` };
  });
  await wf.sleep("cool_down", input.cool_down_ms ?? 1000);
  /** @type {unknown} */
  let approval;
  try {
    approval = await wf.waitSignal("approved", { timeoutMs: input.approve_within_ms ?? 3_600_000 });
  } catch (e) {
    if (!(e instanceof SignalTimeoutError)) throw e; // a suspension, among others, goes on up
    await wf.step("release", () => say(`releasing ${held.reservation}`));
    return { approved: false, reservation: held.reservation };
  }
  const by = approval && typeof approval === "object" && "by" in approval ? approval.by : approval;
  const charged = await wf.step("charge", () => {
    say(`charging ${held.reservation} (approved by ${JSON.stringify(by)})`);
    return { charged: held.reservation };
  });
  return { approved: true, by, ...charged };
});
await worker.run();
