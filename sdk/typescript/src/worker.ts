// Worker: a pull worker's runtime on one event loop.
//
//   claims     one claim at a time, for as many jobs as there are free
//              handler slots, long-polling the server (claimWaitMs); slots
//              freed in the same turn share the next claim;
//   handlers   up to `concurrency` promises at once, each with an
//              AbortSignal that fires when the server answers its lease
//              canceled or lost (or on a forced stop);
//   heartbeat  one request for every lease held, every heartbeat_ms (the
//              claim answer's), and only while leases are held;
//   reports    finished jobs' outcomes go in one complete and one fail
//              request; a report is sent at once when none is in flight,
//              and those that finish meanwhile share the next one, so a
//              batch never waits for company;
//   drain      stop() or a first SIGTERM/SIGINT (run() installs the
//              handlers), or `drain: true` in an answer: no new claims, the
//              claim in flight ends by itself and what it brings is given
//              back, the running jobs finish and are reported, then run()
//              resolves. A second signal gives the leases back and exits.
//
// A job whose name is a workflow type registered with workflow() runs that
// workflow's handler (workflow.ts), which reports the run's end itself.
//
// A request that may pass later (no answer, 429, 5xx) is tried again after
// a growing pause (0.1 s to 5 s); one that cannot (401, 403, a claim the
// server refuses as bad) drains the worker and run() rejects with it.
import { hostname as osHostname } from "node:os";
import { randomBytes } from "node:crypto";
import { WeftClient } from "./client.js";
import { NonRetryableError, WeftError } from "./errors.js";
import type { Body, ClaimedJob } from "./types.js";
import { runWorkflow, type WorkflowHandler } from "./workflow.js";

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
const ITEMS_PER_REQUEST = 1000; // the API's limit on one request's items
const REPORT_BYTES_MAX = 8 << 20; // well under the server's 16 MiB body limit
const ERROR_CODE = /^[a-z0-9_.:-]{1,64}$/;
const PROGRESS_MAX_BYTES = 4096; // the API's limit on a heartbeat's progress

/** Why a job's signal fired. */
export class LeaseLostError extends Error {
  /** "canceled", "lost" or "not_found" (the server's answer), or "shutdown". */
  readonly state: string;
  constructor(jobId: string, state: string) {
    super(state === "shutdown" ? `job ${jobId}: the worker is shutting down` : `job ${jobId}: the lease is ${state}`);
    this.name = "LeaseLostError";
    this.state = state;
  }
}

/** What a handler gets: the claimed job, and a signal to stop early. */
export interface Job<I = unknown> {
  readonly id: string;
  readonly runId: string;
  readonly queue: string;
  readonly name: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly input: I;
  readonly metadata: unknown;
  readonly parents: ClaimedJob["parents"];
  /** Fires when the server takes the lease back (canceled or lost): the
   * job's outcome will not be reported, so the handler may stop. reason is
   * a LeaseLostError. */
  readonly signal: AbortSignal;
  /** The claim answer, as sent. */
  readonly claimed: ClaimedJob;
  /** Records how far the job is (any JSON, at most 4 KiB compact): sent
   * with the next heartbeat and kept on the job by the server. */
  progress(value: unknown): void;
  /** Appends lines to this attempt's log (read back by GET
   * /v1/tasks/{id}/logs), sent at once, 1,000 a request. */
  log(lines: string | string[], options?: { stream?: "stdout" | "stderr"; level?: "debug" | "info" | "warn" | "error" }): Promise<void>;
}

/** Answers the job's result (any JSON value); a thrown error fails the
 * attempt (retried under the job's policy, except a NonRetryableError). */
export type Handler<I = any, R = unknown> = (job: Job<I>) => Promise<R> | R;

export interface WorkerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface WorkerOptions<I = any, R = unknown> {
  /** Default: a WeftClient from WEFT_URL, WEFT_TOKEN, WEFT_NAMESPACE. */
  client?: WeftClient;
  /** The queues to claim from, in order (1 to 16). */
  queues: string | string[];
  /** Runs the jobs that are not runs of a registered workflow; may be left
   * out when workflows are registered (see Worker.workflow). */
  handler?: Handler<I, R>;
  /** Jobs handled at once, 1 to 1000 (default 10). */
  concurrency?: number;
  /** Each claim's and heartbeat's lease, 1,000 to 3,600,000 ms (default 30,000). */
  leaseMs?: number;
  /** How long a claim waits on the server for a job, 0 to 60,000 ms
   * (default 5,000); a drain waits for the claim in flight to end. */
  claimWaitMs?: number;
  /** Default: <hostname>-<pid>-<6 hex>. */
  workerId?: string;
  hostname?: string;
  /** Default: lines on stderr; null: silent. */
  log?: WorkerLog | null;
}

export interface WorkerStats {
  claimed: number;
  completed: number;
  failed: number;
  /** Jobs whose lease the server took back before they were reported. */
  lost: number;
  /** Jobs claimed while draining and given back. */
  released: number;
}

interface Held {
  job: ClaimedJob;
  abort: AbortController;
  lost: boolean;
  progress?: { value: unknown }; // set by the handler, not yet sent
}

type CompleteItem = Body<"completeJobs">["items"][number];
type FailItem = Body<"failJobs">["items"][number];
type Report = { kind: "complete"; item: CompleteItem; bytes: number } | { kind: "fail"; item: FailItem; bytes: number };

const stderrLog: WorkerLog = {
  info: (m) => process.stderr.write(`weft worker: ${m}\n`),
  warn: (m) => process.stderr.write(`weft worker: warning: ${m}\n`),
  error: (m) => process.stderr.write(`weft worker: error: ${m}\n`),
};
const silent: WorkerLog = { info() {}, warn() {}, error() {} };

function intOption(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`weft Worker: ${name} must be an integer in ${min}..${max}`);
  return n;
}

export class Worker<I = any, R = unknown> {
  readonly client: WeftClient;
  readonly queues: string[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly claimWaitMs: number;
  readonly workerId: string;
  readonly hostname: string;
  readonly stats: WorkerStats = { claimed: 0, completed: 0, failed: 0, lost: 0, released: 0 };

  readonly #handler: Handler<I, R> | undefined;
  readonly #workflows = new Map<string, WorkflowHandler>();
  readonly #log: WorkerLog;
  readonly #held = new Map<string, Held>(); // from the claim until the report is answered
  #running = 0; // handlers in progress
  #draining = false;
  #forced = false;
  #fatal: WeftError | undefined;
  #started = false;
  #done: Promise<void> | undefined;

  #claimAbort: AbortController | undefined; // the claim in flight, aborted by a forced exit only
  #wakeSlot: (() => void) | undefined; // the claim loop's wait for a free slot
  #wakeBackoff: (() => void) | undefined; // the claim loop's pause before a retry
  #heartbeatMs: number;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeatInFlight = false;
  #heartbeatBackoff = 0; // the pause before retrying a heartbeat that had no answer
  #reports: Report[] = [];
  #reporting: Promise<void> | undefined;
  #settled: (() => void) | undefined; // resolves the drain's wait
  #lastWarn = 0;

  constructor(options: WorkerOptions<I, R>) {
    this.client = options.client ?? new WeftClient();
    this.queues = typeof options.queues === "string" ? [options.queues] : [...options.queues];
    if (this.queues.length < 1 || this.queues.length > 16) throw new RangeError("weft Worker: queues: give 1 to 16 queues");
    if (options.handler !== undefined && typeof options.handler !== "function")
      throw new TypeError("weft Worker: handler must be a function");
    this.#handler = options.handler;
    this.concurrency = intOption("concurrency", options.concurrency, 10, 1, 1000);
    this.leaseMs = intOption("leaseMs", options.leaseMs, 30_000, 1000, 3_600_000);
    this.claimWaitMs = intOption("claimWaitMs", options.claimWaitMs, 5_000, 0, 60_000);
    this.hostname = options.hostname ?? osHostname();
    this.workerId = options.workerId ?? `${this.hostname}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.#log = options.log === null ? silent : (options.log ?? stderrLog);
    this.#heartbeatMs = Math.floor(this.leaseMs / 3);
  }

  /** Registers handler(wf, input) for the runs of workflow type (the jobs
   * of this worker's queues named type); see workflow.ts. Answers the
   * worker, for chaining. */
  workflow<WI = any, WR = unknown>(type: string, handler: WorkflowHandler<WI, WR>): this {
    if (typeof type !== "string" || type.length === 0 || Buffer.byteLength(type) > 255)
      throw new RangeError("weft Worker.workflow: type must be a string of 1 to 255 bytes");
    if (typeof handler !== "function") throw new TypeError("weft Worker.workflow: handler must be a function (wf, input) => output");
    if (this.#workflows.has(type)) throw new Error(`weft Worker.workflow: workflow type ${JSON.stringify(type)} has a handler already`);
    this.#workflows.set(type, handler as WorkflowHandler);
    return this;
  }

  /** Jobs whose lease this worker holds (handled or being reported). */
  get held(): number {
    return this.#held.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Works until stop(), a drain asked by the server, or SIGTERM/SIGINT
   * (a second signal releases the leases and exits the process with 130
   * or 143). Resolves once drained; rejects when the server refused the
   * worker (401, 403, a bad claim). */
  async run(): Promise<void> {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        this.#log.info(`${sig}: draining (no new claims; ${this.#running} running jobs finish); again to exit at once`);
        void this.stop();
        return;
      }
      this.#log.warn(`${sig} again: giving back ${this.#held.size} leases and exiting`);
      void this.#forceExit(sig === "SIGINT" ? 130 : 143);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      await this.start();
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  }

  /** Works without touching the process's signals; resolves as run() does. */
  start(): Promise<void> {
    if (this.#started) return this.#done!;
    if (!this.#handler && this.#workflows.size === 0)
      return Promise.reject(new TypeError("weft Worker: give a handler, or register a workflow"));
    this.#started = true;
    this.#done = this.#work();
    return this.#done;
  }

  /** Drains: no new claims; resolves when the jobs in hand are finished and
   * reported. */
  async stop(): Promise<void> {
    this.#drain();
    if (this.#done) await this.#done.catch(() => {});
  }

  // ---- the main loop: claims ------------------------------------------------

  async #work(): Promise<void> {
    let backoff = 0;
    while (!this.#draining) {
      const free = this.concurrency - this.#running;
      if (free <= 0) {
        await this.#sleep("slot"); // woken by a finished handler or the drain
        continue;
      }
      let answer;
      this.#claimAbort = new AbortController();
      try {
        answer = await this.client.claimJobs(
          {
            queues: this.queues,
            worker_id: this.workerId,
            hostname: this.hostname,
            max_jobs: free,
            wait_ms: this.claimWaitMs,
            lease_ms: this.leaseMs,
          },
          { signal: this.#claimAbort.signal },
        );
        if (backoff) this.#log.info("the server answers again");
        backoff = 0;
      } catch (err) {
        if (this.#forced) break;
        if (!this.#retryable(err)) {
          this.#fail(err);
          break;
        }
        backoff = this.#nextBackoff(backoff, "claim", err);
        await this.#sleep("backoff", backoff); // woken early by the drain only
        continue;
      }
      if (answer.drain && !this.#draining) {
        this.#log.info("the server asks this worker to drain: finishing the jobs it has");
        this.#drain();
      }
      if (this.#draining) {
        await this.#release(answer.jobs, "claimed while draining");
        break;
      }
      for (const job of answer.jobs) this.#startJob(job);
      // let the other handlers finishing in this turn share the next claim
      if (answer.jobs.length) await new Promise((r) => setImmediate(r));
    }
    // drained: wait for the handlers and their reports
    await new Promise<void>((resolve) => {
      this.#settled = resolve;
      this.#checkSettled();
    });
    this.#stopHeartbeat();
    if (this.#fatal) throw this.#fatal;
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#wakeSlot?.();
    this.#wakeBackoff?.();
  }

  #fail(err: unknown): void {
    const e = err instanceof WeftError ? err : new WeftError(0, "internal", String(err));
    this.#log.error(`${e.message}: stopping`);
    this.#fatal ??= e;
    this.#drain();
  }

  /** Waits until woken (a freed slot or the drain), or for ms. */
  #sleep(what: "slot" | "backoff", ms?: number): Promise<void> {
    if (this.#draining) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => wake(), ms);
      const wake = () => {
        clearTimeout(timer);
        if (what === "slot") this.#wakeSlot = undefined;
        else this.#wakeBackoff = undefined;
        resolve();
      };
      if (what === "slot") this.#wakeSlot = wake;
      else this.#wakeBackoff = wake;
    });
  }

  #retryable(err: unknown): boolean {
    return err instanceof WeftError && err.retryable;
  }

  #nextBackoff(backoff: number, what: string, err: unknown): number {
    const now = Date.now();
    if (!backoff || now - this.#lastWarn >= 60_000) {
      this.#log.warn(`${what}: ${(err as Error).message} (trying again until it answers)`);
      this.#lastWarn = now;
    }
    const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs;
    const next = backoff ? Math.min(backoff * 2, RETRY_MAX_MS) : RETRY_MIN_MS;
    return Math.max(next, Math.min(retryAfter ?? 0, RETRY_MAX_MS));
  }

  async #release(jobs: ClaimedJob[], why: string): Promise<void> {
    if (!jobs.length) return;
    try {
      await this.client.releaseJobs({ items: jobs.map((j) => ({ id: j.id, lease_token: j.lease_token })) });
      this.stats.released += jobs.length;
      this.#log.info(`released ${jobs.length} jobs ${why}`);
    } catch (err) {
      this.#log.warn(`releasing ${jobs.length} leases: ${(err as Error).message} (they will expire instead)`);
    }
  }

  // ---- handlers -------------------------------------------------------------

  #startJob(claimed: ClaimedJob): void {
    const held: Held = { job: claimed, abort: new AbortController(), lost: false };
    this.#held.set(claimed.id, held);
    this.#running++;
    this.stats.claimed++;
    if (claimed.heartbeat_ms > 0 && claimed.heartbeat_ms < this.#heartbeatMs) this.#heartbeatMs = claimed.heartbeat_ms;
    this.#scheduleHeartbeat();
    const job: Job<I> = {
      id: claimed.id,
      runId: claimed.run_id,
      queue: claimed.queue,
      name: claimed.name,
      attempt: claimed.attempt,
      maxAttempts: claimed.max_attempts,
      input: claimed.input as I,
      metadata: claimed.metadata,
      parents: claimed.parents,
      signal: held.abort.signal,
      claimed,
      progress: (value: unknown) => {
        const text = JSON.stringify(value ?? null);
        if (Buffer.byteLength(text) > PROGRESS_MAX_BYTES)
          throw new RangeError(`job ${claimed.id}: progress is ${Buffer.byteLength(text)} bytes of JSON; at most ${PROGRESS_MAX_BYTES}`);
        held.progress = { value: value ?? null };
      },
      log: async (lines, options = {}) => {
        const items = (typeof lines === "string" ? [lines] : lines).map((text) => ({
          text,
          stream: options.stream ?? "stdout",
          ...(options.level ? { level: options.level } : {}),
        }));
        for (let i = 0; i < items.length; i += 1000)
          await this.client.appendJobLogs(claimed.id, { lease_token: claimed.lease_token, lines: items.slice(i, i + 1000) });
      },
    };
    const workflow = this.#workflows.get(claimed.name);
    if (workflow) {
      void runWorkflow(this.client, job, workflow, this.#log, this.leaseMs).then((ended) => {
        if (ended === "completed") this.stats.completed++;
        else if (ended === "failed") this.stats.failed++;
        this.#finished(held, { kind: "reported" });
      });
      return;
    }
    const handler = this.#handler;
    Promise.resolve()
      .then(() => {
        if (!handler)
          throw Object.assign(new Error(`this worker has no handler for jobs named ${JSON.stringify(claimed.name)}`), { code: "unknown_workflow" });
        return handler(job);
      })
      .then(
        (result) => this.#finished(held, { kind: "complete", result }),
        (err) => this.#finished(held, { kind: "fail", err }),
      );
  }

  #finished(held: Held, outcome: { kind: "complete"; result: unknown } | { kind: "fail"; err: unknown } | { kind: "reported" }): void {
    this.#running--;
    this.#wakeSlot?.();
    const { id, lease_token } = held.job;
    if (held.lost || this.#forced || outcome.kind === "reported") {
      // the server has ended this attempt, or a workflow reported its end itself: nothing to report
      this.#held.delete(id);
      this.#checkSettled();
      return;
    }
    let report: Report;
    if (outcome.kind === "complete") {
      const result = outcome.result === undefined ? null : outcome.result;
      let text: string | undefined;
      try {
        text = JSON.stringify(result);
      } catch (err) {
        outcome = { kind: "fail", err: new NonRetryableError("result_not_json", `the result is not JSON: ${(err as Error).message}`) };
      }
      if (outcome.kind === "complete") {
        report = { kind: "complete", item: { id, lease_token, result }, bytes: (text?.length ?? 4) + 80 };
        this.#queueReport(report);
        return;
      }
    }
    const item: FailItem = { id, lease_token, error: jobError(outcome.err) };
    this.#queueReport({ kind: "fail", item, bytes: (item.error.message?.length ?? 0) + 200 });
  }

  // ---- reports ----------------------------------------------------------------

  #queueReport(r: Report): void {
    this.#reports.push(r);
    // sent at once when no report is in flight; otherwise the next one takes it
    if (!this.#reporting) this.#reporting = this.#sendReports();
  }

  async #sendReports(): Promise<void> {
    // handlers that finished in this same turn join the request
    await new Promise((r) => setImmediate(r));
    while (this.#reports.length) {
      let bytes = 0;
      let n = 0;
      while (n < this.#reports.length && n < ITEMS_PER_REQUEST) {
        bytes += this.#reports[n]!.bytes;
        if (n > 0 && bytes > REPORT_BYTES_MAX) break;
        n++;
      }
      const batch = this.#reports.splice(0, n);
      const fails = batch.filter((r) => r.kind === "fail").map((r) => r.item as FailItem);
      const completes = batch.filter((r) => r.kind === "complete").map((r) => r.item as CompleteItem);
      // failures first: a result the server refuses becomes a failure sent after
      await this.#report("fail", fails);
      await this.#report("complete", completes);
      for (const r of batch) this.#held.delete(r.item.id);
    }
    this.#reporting = undefined;
    this.#checkSettled();
  }

  /** Sends one kind of report, resent while the failure may pass (the
   * server answers a resend already_completed or already_failed). A
   * request refused as bad is split into single reports, and a result
   * refused alone becomes a non-retryable failure, result_rejected. */
  async #report(kind: "complete" | "fail", items: (CompleteItem | FailItem)[]): Promise<void> {
    if (!items.length) return;
    let backoff = 0;
    for (;;) {
      try {
        const answer =
          kind === "complete"
            ? await this.client.completeJobs({ items: items as CompleteItem[] })
            : await this.client.failJobs({ items: items as FailItem[] });
        for (const r of answer.results) {
          if (r.outcome === "completed" || r.outcome === "already_completed") this.stats.completed++;
          else if (r.outcome === "retrying" || r.outcome === "dead_lettered" || r.outcome === "already_failed") this.stats.failed++;
          else this.#log.info(`job ${r.id}: ${kind} answered ${r.outcome} (the server had already ended this attempt)`);
        }
        return;
      } catch (err) {
        if (this.#forced) return;
        if (err instanceof WeftError && (err.status === 400 || err.status === 413)) {
          if (items.length > 1) {
            this.#log.error(`the server refused ${items.length} ${kind} reports (${err.message}): sending them one by one`);
            for (const it of items) await this.#report(kind, [it]);
          } else if (kind === "complete") {
            const it = items[0] as CompleteItem;
            this.#log.error(`job ${it.id}: the server refused its result (${err.message}): failing it`);
            await this.#report("fail", [
              {
                id: it.id,
                lease_token: it.lease_token,
                error: { code: "result_rejected", message: `the server refused the result: ${err.message}`.slice(0, 4096), retryable: false },
              },
            ]);
          } else {
            this.#log.error(`job ${items[0]!.id}: the server refused its report (${err.message}); its lease will expire`);
          }
          return;
        }
        if (!this.#retryable(err)) {
          this.#fail(err);
          return;
        }
        backoff = this.#nextBackoff(backoff, kind, err);
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  // ---- heartbeats ---------------------------------------------------------------

  #scheduleHeartbeat(): void {
    if (this.#heartbeatTimer || this.#heartbeatInFlight || this.#held.size === 0) return;
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      void this.#heartbeat();
    }, this.#heartbeatMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  async #heartbeat(): Promise<void> {
    const held = [...this.#held.values()].filter((h) => !h.lost);
    if (!held.length || this.#forced) return;
    const sent = new Map(held.map((h) => [h, h.progress]));
    const leases = held.map((h) => ({
      id: h.job.id,
      lease_token: h.job.lease_token,
      ...(h.progress ? { progress: h.progress.value } : {}),
    }));
    this.#heartbeatInFlight = true;
    let delay: number | undefined;
    try {
      for (let i = 0; i < leases.length; i += ITEMS_PER_REQUEST) {
        const answer = await this.client.heartbeatJobs({
          worker_id: this.workerId,
          lease_ms: this.leaseMs,
          leases: leases.slice(i, i + ITEMS_PER_REQUEST),
        });
        for (const l of answer.leases) {
          if (l.state === "held") continue;
          const h = this.#held.get(l.id);
          if (!h || h.lost) continue;
          h.lost = true;
          this.stats.lost++;
          this.#log.info(`job ${l.id}: the lease is ${l.state}: signalling its handler; nothing will be reported`);
          h.abort.abort(new LeaseLostError(l.id, l.state));
        }
        if (answer.drain && !this.#draining) {
          this.#log.info("the server asks this worker to drain: finishing the jobs it has");
          this.#drain();
        }
      }
      this.#heartbeatBackoff = 0;
      // sent: cleared unless the handler has set another since
      for (const [h, p] of sent) if (h.progress === p) h.progress = undefined;
    } catch (err) {
      if (!this.#retryable(err)) this.#fail(err);
      else {
        // retried sooner than the period, so that the leases outlive a short outage
        this.#heartbeatBackoff = Math.min(this.#nextBackoff(this.#heartbeatBackoff, "heartbeat", err), this.#heartbeatMs);
        delay = this.#heartbeatBackoff;
      }
    } finally {
      this.#heartbeatInFlight = false;
    }
    if (this.#forced) return;
    if (delay !== undefined && this.#held.size) {
      this.#heartbeatTimer = setTimeout(() => {
        this.#heartbeatTimer = undefined;
        void this.#heartbeat();
      }, delay);
    } else {
      this.#scheduleHeartbeat();
    }
  }

  // ---- the end -----------------------------------------------------------------

  #checkSettled(): void {
    if (!this.#settled || this.#running > 0 || this.#reporting || this.#reports.length) return;
    // jobs still listed now are lost ones whose handlers have ended
    const resolve = this.#settled;
    this.#settled = undefined;
    resolve();
  }

  async #forceExit(code: number): Promise<never> {
    this.#forced = true;
    this.#draining = true;
    this.#stopHeartbeat();
    const jobs = [...this.#held.values()].filter((h) => !h.lost);
    for (const h of this.#held.values()) h.abort.abort(new LeaseLostError(h.job.id, "shutdown"));
    const timer = setTimeout(() => process.exit(code), 2000);
    try {
      // The claim waiting on the server is dropped first, and given a moment
      // to be abandoned there (the server watches for the hang-up): waiting
      // still, it would take the jobs released below, for a process about
      // to exit.
      if (this.#claimAbort) {
        this.#claimAbort.abort();
        await new Promise((r) => setTimeout(r, 50));
      }
      await this.#release(jobs.map((h) => h.job), "still in hand");
    } finally {
      clearTimeout(timer);
      process.exit(code);
    }
  }
}

/** The job error a thrown value becomes. */
function jobError(err: unknown): FailItem["error"] {
  if (err instanceof NonRetryableError) {
    return {
      code: ERROR_CODE.test(err.code) ? err.code : "non_retryable",
      message: err.message.slice(0, 4096),
      retryable: false,
      ...(err.details === undefined ? {} : { details: err.details }),
    };
  }
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: typeof code === "string" && ERROR_CODE.test(code) ? code : "handler_error",
    message: message.slice(0, 4096),
    retryable: true,
  };
}
