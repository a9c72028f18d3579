#!/usr/bin/env node
// Enqueues jobs and waits for their results: node enqueue.mjs QUEUE [N]
// (with WEFT_URL and WEFT_TOKEN set; run worker.mjs QUEUE beside it).
import { setTimeout as sleep } from "node:timers/promises";
import { WeftClient, WeftError } from "@weft/client";

const [queue, count = "3"] = process.argv.slice(2);
if (!queue) {
  process.stderr.write("usage: node enqueue.mjs QUEUE [N]\n");
  process.exit(2);
}

const client = new WeftClient();
try {
  const { jobs } = await client.enqueueJobs({
    jobs: Array.from({ length: Number(count) }, (_, n) => ({ queue, input: { n }, max_attempts: 3 })),
  });
  for (const { id } of jobs) {
    let task = await client.getTask(id);
    while (!["success", "failure", "canceled"].includes(task.status)) {
      await sleep(200);
      task = await client.getTask(id);
    }
    console.log(id, task.status, JSON.stringify(task.result));
  }
} catch (err) {
  if (!(err instanceof WeftError)) throw err;
  process.stderr.write(`enqueue.mjs: ${err.message}\n`);
  process.exit(1);
}
