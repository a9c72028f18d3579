// Durable workflows on the Worker: the step API a workflow handler uses.
//
// A workflow run is a job whose name is the workflow's type. A Worker with a
// handler registered for that type (worker.workflow("order", handler)) runs
// handler(wf, input) for it, from the top on every attempt (a replay); the
// server remembers what finished:
//
//   wf.step(name, fn)        runs fn once: when the step completed in an
//                            earlier attempt it answers the stored output
//                            without calling fn. The output goes through
//                            JSON on the first run as on a replay, so both
//                            see the same value (undefined becomes null);
//   wf.sleep(name, ms)       suspend the run: the server ends this attempt
//   wf.waitSignal(name, …)   and claims the run again when it is due (or
//                            the signal comes).
//
// The handler's return value completes the run; a thrown error fails the
// attempt (retried under the run's policy unless it is a NonRetryableError
// or its code is listed as non-retryable at the start).
//
// A suspension is thrown as a WorkflowSuspended (a WorkflowInterrupt) for
// the handler to stop at. JavaScript cannot stop a handler from catching
// it, so once an attempt is over every later call of the step API throws
// the same interrupt again, the handler's return value (or error) is
// ignored, and the server refuses the attempt's calls (409 stale_lease) in
// any case. A handler that catches errors should re-throw what
// isWorkflowInterrupt() recognises.
//
// The handler must be deterministic between its step calls: the n-th call
// of a name in an attempt maps to the same memo row on every replay. Steps
// run concurrently (Promise.all) must have distinct names.
import type { WeftClient } from "./client.js";
import { NonRetryableError, WeftConflictError, WeftError, WeftNotFoundError } from "./errors.js";
import type { Job, WorkerLog } from "./worker.js";

const ERROR_CODE = /^[a-z0-9_.:-]{1,64}$/;
const ERROR_MESSAGE_MAX = 4096; // the API's limit on an error's message
const STEP_NAME_MAX = 255; // bytes, the API's limit on a step's name
const DELAY_MAX_MS = 365 * 86_400_000; // the API's limit on a sleep and a wait's timeout
const CALL_RETRY_MIN_MS = 100;
const CALL_RETRY_MAX_MS = 5_000;

/** This attempt of the run is over: the handler must stop; the runtime
 * reports nothing for it. Re-throw it when you catch errors. */
export class WorkflowInterrupt extends Error {
  readonly runId: string;
  constructor(runId: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.runId = runId;
  }
}

/** The run is suspended (reason "sleep", "retry" or "signal") until wakeAt
 * (null for a signal wait without timeout); the server claims it again then
 * and the handler is replayed. */
export class WorkflowSuspended extends WorkflowInterrupt {
  readonly reason: "sleep" | "retry" | "signal";
  readonly step: string;
  readonly wakeAt: string | null;
  constructor(runId: string, reason: "sleep" | "retry" | "signal", step: string, wakeAt: string | null) {
    super(runId, `run ${runId} suspended by ${reason} ${JSON.stringify(step)}${wakeAt ? ` until ${wakeAt}` : ""}`);
    this.reason = reason;
    this.step = step;
    this.wakeAt = wakeAt;
  }
}

/** The run has ended outside this attempt (status: canceled, terminated,
 * failed or completed). */
export class WorkflowEnded extends WorkflowInterrupt {
  readonly status: string | undefined;
  constructor(runId: string, status: string | undefined) {
    super(runId, `run ${runId} has ended: ${status ?? "unknown status"}`);
    this.status = status;
  }
}

/** The run was canceled or terminated. */
export class WorkflowCanceled extends WorkflowEnded {}

/** The run's job is no longer held under this attempt's lease (it expired,
 * or the run was suspended and claimed again). */
export class WorkflowLeaseLost extends WorkflowInterrupt {
  readonly status: string | undefined;
  constructor(runId: string, status: string | undefined) {
    super(runId, `run ${runId}: this attempt's lease is over (run status ${status ?? "unknown"})`);
    this.status = status;
  }
}

/** Step `step` failed for good (a non-retryable error, or no retries
 * left). Uncaught, it fails the run without a retry (a replay would meet the
 * same failed step); the handler may catch it to compensate. code is the
 * step's error code when this attempt saw it fail, else "step_failed". */
export class StepFailedError extends NonRetryableError {
  readonly step: string;
  constructor(step: string, code: string, message: string, cause?: unknown) {
    super(code, `step ${step} failed: ${message}`);
    this.name = "StepFailedError";
    this.step = step;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** waitSignal(name, { timeoutMs }) ended without a signal. The timeout is
 * memoized: a replay throws it again (uncaught, it fails the run without a
 * retry). */
export class SignalTimeoutError extends NonRetryableError {
  readonly signalName: string;
  constructor(name: string) {
    super("signal_timeout", `no signal ${JSON.stringify(name)} came within the timeout`);
    this.name = "SignalTimeoutError";
    this.signalName = name;
  }
}

/** True for what a handler that catches errors must re-throw. */
export function isWorkflowInterrupt(err: unknown): err is WorkflowInterrupt {
  return err instanceof WorkflowInterrupt;
}

/** What a workflow handler gets: the run and its step API. */
export interface WorkflowContext<I = unknown> {
  readonly runId: string;
  /** The workflow's type (the job's name). */
  readonly type: string;
  readonly input: I;
  /** The claimed job of this attempt. */
  readonly job: Job<I>;
  /** Fires when the server takes the lease back (a cancel seen by a
   * heartbeat): a long step may stop early. */
  readonly signal: AbortSignal;
  /** True once this attempt is over (suspended, ended, lease lost). */
  readonly interrupted: boolean;
  /** fn() as step name, memoized: its output (JSON) is stored and a replay
   * answers it without calling fn. A thrown error fails the step: when the
   * run's policy retries it, the run is suspended until the retry (the
   * replay calls fn again); else StepFailedError is thrown. */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Sleeps durably for ms: the run is suspended and claimed again when it
   * is due. Once the sleep is over a replay passes it at once. */
  sleep(name: string, ms: number): Promise<void>;
  /** The payload of the oldest signal name sent and not yet taken; without
   * one the run is suspended until one is sent (or timeoutMs ends:
   * SignalTimeoutError). */
  waitSignal<T = unknown>(name: string, options?: { timeoutMs?: number }): Promise<T>;
}

/** Answers the run's output (any JSON); a thrown error fails the attempt. */
export type WorkflowHandler<I = any, R = unknown> = (wf: WorkflowContext<I>, input: I) => Promise<R> | R;

type CallAnswer = Awaited<ReturnType<WeftClient["workflowStepBegin"]>>;

function checkName(name: string): void {
  if (typeof name !== "string" || name.length === 0 || Buffer.byteLength(name) > STEP_NAME_MAX)
    throw new RangeError(`workflow step names are strings of 1 to ${STEP_NAME_MAX} bytes`);
}

function checkMs(what: string, ms: number, min: number): number {
  if (!Number.isInteger(ms) || ms < min || ms > DELAY_MAX_MS)
    throw new RangeError(`${what} must be an integer number of ms from ${min} to ${DELAY_MAX_MS}`);
  return ms;
}

/** The (code, message, retryable) a step's or a run's failure sends: a
 * NonRetryableError's own; else the error's `code` property when it is a
 * valid error code (so that codes listed as non-retryable apply). */
export function describeError(err: unknown): { code: string; message: string; retryable: boolean } {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, ERROR_MESSAGE_MAX);
  const own = (err as { code?: unknown } | null)?.code;
  if (err instanceof NonRetryableError)
    return { code: ERROR_CODE.test(err.code) ? err.code : "non_retryable", message, retryable: false };
  return { code: typeof own === "string" && ERROR_CODE.test(own) ? own : "handler_error", message, retryable: true };
}

/** value as a replay will see it; throws when it is not JSON. */
function jsonCopy(value: unknown): unknown {
  const text = JSON.stringify(value === undefined ? null : value);
  return text === undefined ? null : JSON.parse(text);
}

class Context<I> implements WorkflowContext<I> {
  readonly runId: string;
  readonly type: string;
  readonly input: I;
  readonly signal: AbortSignal;
  #interrupt: WorkflowInterrupt | undefined;

  constructor(
    readonly job: Job<I>,
    private readonly client: WeftClient,
    private readonly log: WorkerLog,
    private readonly leaseMs: number,
  ) {
    this.runId = job.id;
    this.type = job.name;
    this.input = job.input;
    this.signal = job.signal;
  }

  get interrupted(): boolean {
    return this.#interrupt !== undefined;
  }

  async step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    checkName(name);
    const token = this.job.claimed.lease_token;
    const begun = await this.call(`step ${name}`, () => this.client.workflowStepBegin(this.runId, { lease_token: token, name }), name);
    if (begun.memoized) return (begun.step?.output ?? null) as T;
    if (begun.suspended) throw this.suspend(begun, "retry", name);
    const seq = begun.step!.seq!;
    let output: unknown;
    try {
      output = await fn();
    } catch (err) {
      if (err instanceof WorkflowInterrupt) throw err; // a step API call inside fn: the attempt is over anyway
      const { code, message, retryable } = describeError(err);
      return this.failStep(name, seq, code, message, retryable, err);
    }
    try {
      output = jsonCopy(output);
    } catch (err) {
      return this.failStep(name, seq, "output_not_json", `the step's output is not JSON: ${(err as Error).message}`, false, err);
    }
    await this.call(`step ${name}`, () =>
      this.client.workflowStepComplete(this.runId, { lease_token: token, name, seq, output }),
    );
    return output as T;
  }

  async sleep(name: string, ms: number): Promise<void> {
    checkName(name);
    const duration_ms = checkMs(`sleep ${name}: ms`, ms, 0);
    const token = this.job.claimed.lease_token;
    const a = await this.call(`sleep ${name}`, () => this.client.workflowSleep(this.runId, { lease_token: token, name, duration_ms }));
    if (a.suspended) throw this.suspend(a, "sleep", name);
  }

  async waitSignal<T = unknown>(name: string, options: { timeoutMs?: number } = {}): Promise<T> {
    checkName(name);
    const token = this.job.claimed.lease_token;
    const body =
      options.timeoutMs === undefined
        ? { lease_token: token, name }
        : { lease_token: token, name, timeout_ms: checkMs(`waitSignal ${name}: timeoutMs`, options.timeoutMs, 1) };
    const a = await this.call(`waitSignal ${name}`, () => this.client.workflowWaitSignal(this.runId, body));
    if (a.suspended) throw this.suspend(a, "signal", name);
    if (a.timed_out) throw new SignalTimeoutError(name);
    return (a.step?.output ?? null) as T;
  }

  /** Ends the run: "completed", "failed", or undefined when nothing was
   * reported (the attempt is over, or the server could not be told). */
  async finish(outcome: { ok: true; output: unknown } | { ok: false; err: unknown }): Promise<"completed" | "failed" | undefined> {
    const token = this.job.claimed.lease_token;
    const ending = outcome.ok ? "completed" : "failed";
    try {
      if (outcome.ok) {
        let output: unknown;
        try {
          output = jsonCopy(outcome.output);
        } catch (err) {
          return this.finish({ ok: false, err: new NonRetryableError("result_not_json", `the result is not JSON: ${(err as Error).message}`) });
        }
        try {
          await this.call("complete", () => this.client.workflowComplete(this.runId, { lease_token: token, output }));
          return "completed";
        } catch (err) {
          if (!(err instanceof WeftError && (err.status === 400 || err.status === 413))) throw err;
          this.log.error(`run ${this.runId}: the server refused its output (${err.message}): failing it`);
          return this.finish({ ok: false, err: new NonRetryableError("result_rejected", `the server refused the output: ${err.message}`) });
        }
      }
      const { code, message, retryable } = describeError(outcome.err);
      this.log.info(`run ${this.runId} (attempt ${this.job.attempt}): failed: ${code}: ${message.slice(0, 300)}`);
      await this.call("fail", () => this.client.workflowFail(this.runId, { lease_token: token, error: { code, message }, retryable }));
      return "failed";
    } catch (err) {
      if (err instanceof WeftNotFoundError) return this.notARun();
      // a call sent again after its answer was lost: the first one ended the run so
      if (err instanceof WorkflowEnded && err.status === ending) return ending;
      if (err instanceof WorkflowInterrupt) this.log.info(`run ${this.runId}: ${err.message}; nothing more is reported`);
      else this.log.error(`run ${this.runId}: reporting its end: ${(err as Error).message} (its lease will expire and the run be replayed)`);
      return undefined;
    }
  }

  /** A job named like a registered workflow type that is no workflow run:
   * failed for good as a job, rather than left to its lease. */
  private async notARun(): Promise<"failed" | undefined> {
    const message = `job ${this.runId} is named ${JSON.stringify(this.type)} like a workflow type but is no workflow run`;
    this.log.error(`${message}; failing it`);
    try {
      await this.client.failJob(this.runId, { lease_token: this.job.claimed.lease_token, error: { code: "not_a_workflow_run", message, retryable: false } });
      return "failed";
    } catch (err) {
      this.log.error(`job ${this.runId}: failing it: ${(err as Error).message} (its lease will expire)`);
      return undefined;
    }
  }

  private async failStep(name: string, seq: number, code: string, message: string, retryable: boolean, cause: unknown): Promise<never> {
    const token = this.job.claimed.lease_token;
    const a = await this.call(`step ${name}`, () =>
      this.client.workflowStepFail(this.runId, { lease_token: token, name, seq, error: { code, message }, retryable }),
    );
    if (a.suspended) {
      this.log.info(`run ${this.runId}: step ${name} failed (${code}: ${message.slice(0, 200)}); it will be retried`);
      throw this.suspend(a, "retry", name);
    }
    throw new StepFailedError(name, code, message, cause);
  }

  private suspend(a: CallAnswer, reason: "sleep" | "retry" | "signal", name: string): WorkflowSuspended {
    const s = new WorkflowSuspended(this.runId, reason, name, a.wake_at ?? null);
    this.#interrupt = s;
    return s;
  }

  /** One call of the step API. A call refused because the attempt is over
   * throws (and remembers) the interrupt; one without an answer is sent
   * again (the lease token and the memo make that safe) until the lease
   * would have run out. */
  private async call<A>(what: string, send: () => Promise<A>, step?: string): Promise<A> {
    if (this.#interrupt) throw this.#interrupt;
    const giveUp = Date.now() + this.leaseMs;
    let delay = CALL_RETRY_MIN_MS;
    for (;;) {
      try {
        return await send();
      } catch (err) {
        // a call that was in flight when another one ended the attempt
        if (this.#interrupt) throw this.#interrupt;
        if (err instanceof WeftConflictError) {
          if (err.code === "stale_lease") throw (this.#interrupt = new WorkflowLeaseLost(this.runId, err.currentStatus));
          if (err.code === "workflow_ended") {
            const ended = err.currentStatus === "canceled" || err.currentStatus === "terminated" ? WorkflowCanceled : WorkflowEnded;
            throw (this.#interrupt = new ended(this.runId, err.currentStatus));
          }
          if (err.code === "step_failed" && step !== undefined) throw new StepFailedError(step, "step_failed", err.message);
          throw err;
        }
        if (!(err instanceof WeftError && err.retryable) || Date.now() + delay > giveUp || this.signal.aborted) throw err;
        this.log.warn(`run ${this.runId}: ${what}: ${err.message} (trying again)`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, CALL_RETRY_MAX_MS);
      }
    }
  }
}

/** Runs handler for the claimed job of a workflow run and reports its end:
 * "completed", "failed" (the attempt failed; it may be retried), or
 * undefined when nothing was reported (the attempt was suspended or is
 * over). */
export async function runWorkflow<I>(
  client: WeftClient,
  job: Job<I>,
  handler: WorkflowHandler<I>,
  log: WorkerLog,
  leaseMs: number,
): Promise<"completed" | "failed" | undefined> {
  const wf = new Context<I>(job, client, log, leaseMs);
  let outcome: { ok: true; output: unknown } | { ok: false; err: unknown };
  try {
    outcome = { ok: true, output: await handler(wf, job.input) };
  } catch (err) {
    outcome = { ok: false, err };
  }
  if (wf.interrupted) {
    if (!outcome.ok && outcome.err instanceof WorkflowInterrupt) log.info(`run ${job.id} (attempt ${job.attempt}): ${outcome.err.message}`);
    else log.warn(`run ${job.id}: the handler went on after its attempt ended (it caught a WorkflowInterrupt); what it answered is ignored`);
    return undefined;
  }
  return wf.finish(outcome);
}
