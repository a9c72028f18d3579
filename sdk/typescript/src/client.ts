// WeftClient: one method per operationId of the /v1 API, named as the
// operationId, on Node's own fetch. Arguments follow one rule, so that the
// agreement test can check every method against the server's document:
//
//   method(...path parameters, body (when the operation takes one), options)
//
// where options holds the query parameters (named as on the wire), the
// Idempotency-Key header as idempotencyKey, and the call options (signal,
// timeoutMs). Each list also has an async iterator (iterTasks, …) that
// follows next_cursor.
import { createHmac } from "node:crypto";
import { OPERATIONS } from "./operations.gen.js";
import type { Answer, Body, CallOptions, OperationId, Options } from "./types.js";
import {
  type ErrorBody,
  WeftAuthError,
  WeftConflictError,
  WeftConnectionError,
  WeftError,
  WeftForbiddenError,
  WeftNotFoundError,
  WeftUnavailableError,
} from "./errors.js";

export interface WeftClientOptions {
  /** The server's base URL (default: $WEFT_URL, else http://localhost:8085). */
  url?: string;
  /** The bearer token (default: $WEFT_TOKEN; none when unset). */
  token?: string;
  /** The namespace sent where an operation takes one and the call names
   * none (default: $WEFT_NAMESPACE; else the server's default). */
  namespace?: string;
  /** Each request's timeout in ms (default 30,000); a claim's long poll
   * gets its wait_ms on top. */
  timeoutMs?: number;
  /** The largest answer body taken, in bytes (default MAX_ANSWER_BYTES,
   * 256 MiB); a larger answer fails with WeftError code answer_too_large. */
  maxAnswerBytes?: number;
  /** Another fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/** Every operationId is a method answering the operation's success type:
 * the class below fails to compile when one is missing or answers another
 * type. */
export type ApiMethods = { [K in OperationId]: (...args: any[]) => Promise<Answer<K>> };

type Op = (typeof OPERATIONS)[OperationId];
/** The element type of an answer's list field. */
type Item<K extends OperationId, F extends keyof Answer<K>> = Answer<K>[F] extends readonly (infer I)[] ? I : never;

export const DEFAULT_URL = "http://localhost:8085";
const DEFAULT_TIMEOUT_MS = 30_000;
/** The largest answer body taken: a server (or something posing as one)
 * cannot make the client hold more. */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** The body of res as text, or null when it is larger than max bytes (the
 * rest is not read). */
async function readBounded(res: Response, max: number): Promise<string | null> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > max || !res.body) {
    await res.body?.cancel();
    return declared > max ? null : "";
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function env(name: string): string | undefined {
  const v = typeof process !== "undefined" ? process.env[name] : undefined;
  return v === "" ? undefined : v;
}

export class WeftClient implements ApiMethods {
  /** The server's base URL, without a trailing slash. */
  readonly url: string;
  readonly namespace: string | undefined;
  readonly timeoutMs: number;
  readonly maxAnswerBytes: number;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: WeftClientOptions = {}) {
    const url = options.url ?? env("WEFT_URL") ?? DEFAULT_URL;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`weft: the url '${url}' is not a URL (want http://host:port)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new TypeError(`weft: the url '${url}' is not http or https`);
    this.url = url.replace(/\/+$/, "");
    this.#token = options.token ?? env("WEFT_TOKEN");
    this.namespace = options.namespace ?? env("WEFT_NAMESPACE");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError("weft: timeoutMs must be above 0");
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    if (!(this.maxAnswerBytes > 0)) throw new RangeError("weft: maxAnswerBytes must be above 0");
    this.#fetch = options.fetch ?? globalThis.fetch;
    if (typeof this.#fetch !== "function") throw new Error("weft: no fetch: Node 18 or later is needed");
  }

  // ---- meta ---------------------------------------------------------------

  getOpenApi(options?: Options<"getOpenApi">): Promise<Answer<"getOpenApi">> {
    return this.#call("getOpenApi", [], undefined, options);
  }

  // ---- tasks --------------------------------------------------------------

  listTasks(options?: Options<"listTasks">): Promise<Answer<"listTasks">> {
    return this.#call("listTasks", [], undefined, options);
  }
  getTask(id: string, options?: Options<"getTask">): Promise<Answer<"getTask">> {
    return this.#call("getTask", [id], undefined, options);
  }
  listTaskEvents(id: string, options?: Options<"listTaskEvents">): Promise<Answer<"listTaskEvents">> {
    return this.#call("listTaskEvents", [id], undefined, options);
  }
  /** A page of a task's log lines in (attempt, seq) order; asking again
   * with next_cursor gives the lines written since. To follow them live
   * (follow=true), use followTaskLogs. */
  listTaskLogs(id: string, options?: Options<"listTaskLogs">): Promise<Answer<"listTaskLogs">> {
    return this.#call("listTaskLogs", [id], undefined, options);
  }
  /** A task's log lines as they are written (the stored ones first), until
   * the task has ended: the server's event stream (GET
   * /v1/tasks/{id}/logs?follow=true), read as it arrives. */
  async *followTaskLogs(
    id: string,
    options: { attempt?: number; stream?: "stdout" | "stderr" | "system"; cursor?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<Item<"listTaskLogs", "lines">, void, undefined> {
    const query = new URLSearchParams({ follow: "true" });
    if (options.attempt !== undefined) query.append("attempt", String(options.attempt));
    if (options.stream !== undefined) query.append("stream", options.stream);
    if (options.cursor !== undefined) query.append("cursor", options.cursor);
    for await (const { event, data } of this.#events(`/v1/tasks/${encodeURIComponent(id)}/logs?${query}`, options.signal)) {
      if (event === "line") yield JSON.parse(data) as Item<"listTaskLogs", "lines">;
      else if (event === "end") return;
    }
  }
  /** The change feed as it happens (GET /v1/changes as server-sent events):
   * {event: "tasks", data: {tasks}} for tasks whose status changed, in commit
   * order, or {event: "reset", data: {}} when the stream fell behind (reload
   * what is shown); each with its id, the cursor to resume after it. It ends
   * only when aborted (signal). */
  async *followChanges(
    options: { run?: string; namespace?: string; after?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<{ event: "tasks" | "reset"; id: string | undefined; data: Record<string, unknown> }, void, undefined> {
    const query = new URLSearchParams();
    if (options.run !== undefined) query.append("run", options.run);
    if (options.namespace !== undefined) query.append("namespace", options.namespace);
    if (options.after !== undefined) query.append("after", options.after);
    for await (const { event, id, data } of this.#events(`/v1/changes?${query}`, options.signal)) {
      if (event === "tasks" || event === "reset") yield { event, id, data: JSON.parse(data) as Record<string, unknown> };
    }
  }
  /** The events of a server-sent event stream at path, as they arrive
   * (comments, the heartbeats, skipped). */
  async *#events(
    path: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<{ event: string | undefined; id: string | undefined; data: string }, void, undefined> {
    const target = `${this.url}${path}`;
    const request = `GET ${target}`;
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (this.#token) headers.authorization = "Bearer " + this.#token;
    let res: Response;
    try {
      res = await this.#fetch(target, { headers, signal });
    } catch (e) {
      throw new WeftConnectionError("unreachable", `cannot reach ${this.url}: ${String(e)}`, this.url, request);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      throw this.#error(res.status, json, text, res.headers.get("retry-after"), request);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    let event: string | undefined;
    let id: string | undefined;
    let data: string[] = [];
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        pending += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, "");
          pending = pending.slice(nl + 1);
          if (line === "") {
            if (event !== undefined) yield { event, id, data: data.join("\n") };
            event = undefined;
            data = [];
          } else if (line.startsWith("event:")) {
            event = line.slice(6).trim();
          } else if (line.startsWith("id:")) {
            id = line.slice(3).trim();
          } else if (line.startsWith("data:")) {
            data.push(line.slice(5).replace(/^ /, ""));
          }
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  /** A task's webhook calls (start, end, cancel), one per call. */
  listTaskDeliveries(id: string, options?: Options<"listTaskDeliveries">): Promise<Answer<"listTaskDeliveries">> {
    return this.#call("listTaskDeliveries", [id], undefined, options);
  }
  /** What the server counted step by step (default the last hour). */
  getMetricsHistory(options?: Options<"getMetricsHistory">): Promise<Answer<"getMetricsHistory">> {
    return this.#call("getMetricsHistory", [], undefined, options);
  }
  /** The tasks whose status changed after the cursor `after`, as the server
   * keeps them now ({tasks, cursor, reset}); ask again with cursor. The
   * live stream of the same (GET /v1/changes as server-sent events) is read
   * with an event-stream reader. */
  listChanges(options?: Options<"listChanges">): Promise<Answer<"listChanges">> {
    return this.#call("listChanges", [], undefined, { ...options, follow: false });
  }
  /** The worker holding a job appends 1..1000 lines to its attempt's log. */
  appendJobLogs(id: string, body: Body<"appendJobLogs">, options?: Options<"appendJobLogs">): Promise<Answer<"appendJobLogs">> {
    return this.#call("appendJobLogs", [id], body, options);
  }
  /** Log lines across executions, newest first. */
  searchLogs(options?: Options<"searchLogs">): Promise<Answer<"searchLogs">> {
    return this.#call("searchLogs", [], undefined, options);
  }

  // ---- jobs ---------------------------------------------------------------

  enqueueJobs(body: Body<"enqueueJobs">, options?: Options<"enqueueJobs">): Promise<Answer<"enqueueJobs">> {
    return this.#call("enqueueJobs", [], body, options);
  }
  /** Enqueues one job on queue; answers it (id, run_id, status, duplicate). */
  async enqueue(
    queue: string,
    input?: unknown,
    spec: Omit<Body<"enqueueJobs">["jobs"][number], "queue" | "input"> = {},
    options?: Options<"enqueueJobs">,
  ) {
    const answer = await this.enqueueJobs({ jobs: [{ ...spec, queue, input }] }, options);
    return answer.jobs[0]!;
  }
  claimJobs(body: Body<"claimJobs">, options?: Options<"claimJobs">): Promise<Answer<"claimJobs">> {
    return this.#call("claimJobs", [], body, options);
  }
  heartbeatJobs(body: Body<"heartbeatJobs">, options?: Options<"heartbeatJobs">): Promise<Answer<"heartbeatJobs">> {
    return this.#call("heartbeatJobs", [], body, options);
  }
  completeJobs(body: Body<"completeJobs">, options?: Options<"completeJobs">): Promise<Answer<"completeJobs">> {
    return this.#call("completeJobs", [], body, options);
  }
  failJobs(body: Body<"failJobs">, options?: Options<"failJobs">): Promise<Answer<"failJobs">> {
    return this.#call("failJobs", [], body, options);
  }
  releaseJobs(body: Body<"releaseJobs">, options?: Options<"releaseJobs">): Promise<Answer<"releaseJobs">> {
    return this.#call("releaseJobs", [], body, options);
  }
  completeJob(id: string, body: Body<"completeJob">, options?: Options<"completeJob">): Promise<Answer<"completeJob">> {
    return this.#call("completeJob", [id], body, options);
  }
  failJob(id: string, body: Body<"failJob">, options?: Options<"failJob">): Promise<Answer<"failJob">> {
    return this.#call("failJob", [id], body, options);
  }

  // ---- operator actions on tasks -------------------------------------------

  retryTask(id: string, body?: Body<"retryTask">, options?: Options<"retryTask">): Promise<Answer<"retryTask">> {
    return this.#call("retryTask", [id], body, options);
  }
  resetTask(id: string, body?: Body<"resetTask">, options?: Options<"resetTask">): Promise<Answer<"resetTask">> {
    return this.#call("resetTask", [id], body, options);
  }
  resolveTask(id: string, body?: Body<"resolveTask">, options?: Options<"resolveTask">): Promise<Answer<"resolveTask">> {
    return this.#call("resolveTask", [id], body, options);
  }
  cancelTask(id: string, body?: Body<"cancelTask">, options?: Options<"cancelTask">): Promise<Answer<"cancelTask">> {
    return this.#call("cancelTask", [id], body, options);
  }
  pauseTask(id: string, body?: Body<"pauseTask">, options?: Options<"pauseTask">): Promise<Answer<"pauseTask">> {
    return this.#call("pauseTask", [id], body, options);
  }
  resumeTask(id: string, body?: Body<"resumeTask">, options?: Options<"resumeTask">): Promise<Answer<"resumeTask">> {
    return this.#call("resumeTask", [id], body, options);
  }

  // ---- dead letters and workers ----------------------------------------------

  listDeadLetters(options?: Options<"listDeadLetters">): Promise<Answer<"listDeadLetters">> {
    return this.#call("listDeadLetters", [], undefined, options);
  }
  getDeadLetter(id: string, options?: Options<"getDeadLetter">): Promise<Answer<"getDeadLetter">> {
    return this.#call("getDeadLetter", [id], undefined, options);
  }
  requeueDeadLetters(body: Body<"requeueDeadLetters">, options?: Options<"requeueDeadLetters">): Promise<Answer<"requeueDeadLetters">> {
    return this.#call("requeueDeadLetters", [], body, options);
  }
  listWorkers(options?: Options<"listWorkers">): Promise<Answer<"listWorkers">> {
    return this.#call("listWorkers", [], undefined, options);
  }
  getWorker(id: string, options?: Options<"getWorker">): Promise<Answer<"getWorker">> {
    return this.#call("getWorker", [id], undefined, options);
  }
  drainWorker(id: string, options?: Options<"drainWorker">): Promise<Answer<"drainWorker">> {
    return this.#call("drainWorker", [id], undefined, options);
  }

  // ---- runs -----------------------------------------------------------------

  createRun(body: Body<"createRun">, options?: Options<"createRun">): Promise<Answer<"createRun">> {
    return this.#call("createRun", [], body, options);
  }
  listRuns(options?: Options<"listRuns">): Promise<Answer<"listRuns">> {
    return this.#call("listRuns", [], undefined, options);
  }
  getRun(id: string, options?: Options<"getRun">): Promise<Answer<"getRun">> {
    return this.#call("getRun", [id], undefined, options);
  }
  listRunTasks(id: string, options?: Options<"listRunTasks">): Promise<Answer<"listRunTasks">> {
    return this.#call("listRunTasks", [id], undefined, options);
  }
  /** A page of a run's graph: its tasks and the edges into them. */
  getRunGraph(id: string, options?: Options<"getRunGraph">): Promise<Answer<"getRunGraph">> {
    return this.#call("getRunGraph", [id], undefined, options);
  }
  /** The path through a run with the largest sum of task durations. */
  getRunCriticalPath(id: string, options?: Options<"getRunCriticalPath">): Promise<Answer<"getRunCriticalPath">> {
    return this.#call("getRunCriticalPath", [id], undefined, options);
  }
  /** Replaces the rules of a run's unfinished tasks of one kind. */
  patchRunRules(id: string, body: Body<"patchRunRules">, options?: Options<"patchRunRules">): Promise<Answer<"patchRunRules">> {
    return this.#call("patchRunRules", [id], body, options);
  }
  cancelRun(id: string, options?: Options<"cancelRun">): Promise<Answer<"cancelRun">> {
    return this.#call("cancelRun", [id], undefined, options);
  }
  pauseRun(id: string, options?: Options<"pauseRun">): Promise<Answer<"pauseRun">> {
    return this.#call("pauseRun", [id], undefined, options);
  }
  resumeRun(id: string, options?: Options<"resumeRun">): Promise<Answer<"resumeRun">> {
    return this.#call("resumeRun", [id], undefined, options);
  }
  taskComplete(id: string, body: Body<"taskComplete">, options?: Options<"taskComplete">): Promise<Answer<"taskComplete">> {
    return this.#call("taskComplete", [id], body, options);
  }
  taskFail(id: string, body: Body<"taskFail">, options?: Options<"taskFail">): Promise<Answer<"taskFail">> {
    return this.#call("taskFail", [id], body, options);
  }

  // ---- queues ----------------------------------------------------------------

  listQueues(options?: Options<"listQueues">): Promise<Answer<"listQueues">> {
    return this.#call("listQueues", [], undefined, options);
  }
  getQueue(name: string, options?: Options<"getQueue">): Promise<Answer<"getQueue">> {
    return this.#call("getQueue", [name], undefined, options);
  }
  configureQueue(name: string, body: Body<"configureQueue">, options?: Options<"configureQueue">): Promise<Answer<"configureQueue">> {
    return this.#call("configureQueue", [name], body, options);
  }
  pauseQueue(name: string, options?: Options<"pauseQueue">): Promise<Answer<"pauseQueue">> {
    return this.#call("pauseQueue", [name], undefined, options);
  }
  resumeQueue(name: string, options?: Options<"resumeQueue">): Promise<Answer<"resumeQueue">> {
    return this.#call("resumeQueue", [name], undefined, options);
  }

  // ---- workflows ---------------------------------------------------------------

  startWorkflow(body: Body<"startWorkflow">, options?: Options<"startWorkflow">): Promise<Answer<"startWorkflow">> {
    return this.#call("startWorkflow", [], body, options);
  }
  listWorkflows(options?: Options<"listWorkflows">): Promise<Answer<"listWorkflows">> {
    return this.#call("listWorkflows", [], undefined, options);
  }
  getWorkflow(id: string, options?: Options<"getWorkflow">): Promise<Answer<"getWorkflow">> {
    return this.#call("getWorkflow", [id], undefined, options);
  }
  /** A run's memo: its steps, sleeps and signal waits, in the order they were first reached. */
  listWorkflowSteps(id: string, options?: Options<"listWorkflowSteps">): Promise<Answer<"listWorkflowSteps">> {
    return this.#call("listWorkflowSteps", [id], undefined, options);
  }
  getWorkflowByKey(key: string, options?: Options<"getWorkflowByKey">): Promise<Answer<"getWorkflowByKey">> {
    return this.#call("getWorkflowByKey", [key], undefined, options);
  }
  signalWorkflow(id: string, body: Body<"signalWorkflow">, options?: Options<"signalWorkflow">): Promise<Answer<"signalWorkflow">> {
    return this.#call("signalWorkflow", [id], body, options);
  }
  cancelWorkflow(id: string, body?: Body<"cancelWorkflow">, options?: Options<"cancelWorkflow">): Promise<Answer<"cancelWorkflow">> {
    return this.#call("cancelWorkflow", [id], body, options);
  }
  terminateWorkflow(id: string, body?: Body<"terminateWorkflow">, options?: Options<"terminateWorkflow">): Promise<Answer<"terminateWorkflow">> {
    return this.#call("terminateWorkflow", [id], body, options);
  }
  retryWorkflow(id: string, body?: Body<"retryWorkflow">, options?: Options<"retryWorkflow">): Promise<Answer<"retryWorkflow">> {
    return this.#call("retryWorkflow", [id], body, options);
  }
  // The calls a workflow's code makes while it holds the run's job: each
  // takes the claim's lease_token.
  workflowStepBegin(id: string, body: Body<"workflowStepBegin">, options?: Options<"workflowStepBegin">): Promise<Answer<"workflowStepBegin">> {
    return this.#call("workflowStepBegin", [id], body, options);
  }
  workflowStepComplete(id: string, body: Body<"workflowStepComplete">, options?: Options<"workflowStepComplete">): Promise<Answer<"workflowStepComplete">> {
    return this.#call("workflowStepComplete", [id], body, options);
  }
  workflowStepFail(id: string, body: Body<"workflowStepFail">, options?: Options<"workflowStepFail">): Promise<Answer<"workflowStepFail">> {
    return this.#call("workflowStepFail", [id], body, options);
  }
  workflowSleep(id: string, body: Body<"workflowSleep">, options?: Options<"workflowSleep">): Promise<Answer<"workflowSleep">> {
    return this.#call("workflowSleep", [id], body, options);
  }
  workflowWaitSignal(id: string, body: Body<"workflowWaitSignal">, options?: Options<"workflowWaitSignal">): Promise<Answer<"workflowWaitSignal">> {
    return this.#call("workflowWaitSignal", [id], body, options);
  }
  workflowComplete(id: string, body: Body<"workflowComplete">, options?: Options<"workflowComplete">): Promise<Answer<"workflowComplete">> {
    return this.#call("workflowComplete", [id], body, options);
  }
  workflowFail(id: string, body: Body<"workflowFail">, options?: Options<"workflowFail">): Promise<Answer<"workflowFail">> {
    return this.#call("workflowFail", [id], body, options);
  }

  // ---- tokens ----------------------------------------------------------------

  listTokens(options?: Options<"listTokens">): Promise<Answer<"listTokens">> {
    return this.#call("listTokens", [], undefined, options);
  }
  createToken(body: Body<"createToken">, options?: Options<"createToken">): Promise<Answer<"createToken">> {
    return this.#call("createToken", [], body, options);
  }
  getToken(name: string, options?: Options<"getToken">): Promise<Answer<"getToken">> {
    return this.#call("getToken", [name], undefined, options);
  }
  revokeToken(name: string, options?: Options<"revokeToken">): Promise<Answer<"revokeToken">> {
    return this.#call("revokeToken", [name], undefined, options);
  }
  /** The client's own token, for any token: its name (null when the server checks none), admin, namespaces, default namespace. */
  whoami(options?: Options<"whoami">): Promise<Answer<"whoami">> {
    return this.#call("whoami", [], undefined, options);
  }

  // ---- the audit log -------------------------------------------------------------

  /** One page of the audit log, newest first (admin tokens). */
  listAudit(options?: Options<"listAudit">): Promise<Answer<"listAudit">> {
    return this.#call("listAudit", [], undefined, options);
  }

  // ---- schedules ---------------------------------------------------------------

  createSchedule(body: Body<"createSchedule">, options?: Options<"createSchedule">): Promise<Answer<"createSchedule">> {
    return this.#call("createSchedule", [], body, options);
  }
  listSchedules(options?: Options<"listSchedules">): Promise<Answer<"listSchedules">> {
    return this.#call("listSchedules", [], undefined, options);
  }
  /** The schedule; with { next: n }, also its next n fire times. */
  getSchedule(name: string, options?: Options<"getSchedule">): Promise<Answer<"getSchedule">> {
    return this.#call("getSchedule", [name], undefined, options);
  }
  /** Deletes the schedule (the server answers 204, so this answers nothing). */
  async deleteSchedule(name: string, options?: Options<"deleteSchedule">): Promise<Answer<"deleteSchedule">> {
    await this.#call("deleteSchedule", [name], undefined, options);
  }
  pauseSchedule(name: string, options?: Options<"pauseSchedule">): Promise<Answer<"pauseSchedule">> {
    return this.#call("pauseSchedule", [name], undefined, options);
  }
  resumeSchedule(name: string, options?: Options<"resumeSchedule">): Promise<Answer<"resumeSchedule">> {
    return this.#call("resumeSchedule", [name], undefined, options);
  }
  /** Fires the schedule once now, outside its cron. */
  triggerSchedule(name: string, options?: Options<"triggerSchedule">): Promise<Answer<"triggerSchedule">> {
    return this.#call("triggerSchedule", [name], undefined, options);
  }

  // ---- incoming webhooks ---------------------------------------------------------

  /** Creates a hook; the answer carries its secret, answered only here and by rotateHookSecret. */
  createHook(body: Body<"createHook">, options?: Options<"createHook">): Promise<Answer<"createHook">> {
    return this.#call("createHook", [], body, options);
  }
  listHooks(options?: Options<"listHooks">): Promise<Answer<"listHooks">> {
    return this.#call("listHooks", [], undefined, options);
  }
  iterHooks(options?: Omit<Options<"listHooks">, "cursor">): AsyncGenerator<Item<"listHooks", "hooks">, void, undefined> {
    return this.#pages((cursor) => this.listHooks({ ...options, cursor }), "hooks");
  }
  /** A hook (never its secret). */
  getHook(name: string, options?: Options<"getHook">): Promise<Answer<"getHook">> {
    return this.#call("getHook", [name], undefined, options);
  }
  /** Deletes the hook (the server answers 204, so this answers nothing). */
  async deleteHook(name: string, options?: Options<"deleteHook">): Promise<Answer<"deleteHook">> {
    await this.#call("deleteHook", [name], undefined, options);
  }
  /** Replaces the hook's secret (made by the server without body.secret); answers the new one. */
  rotateHookSecret(name: string, body?: Body<"rotateHookSecret">, options?: Options<"rotateHookSecret">): Promise<Answer<"rotateHookSecret">> {
    return this.#call("rotateHookSecret", [name], body ?? {}, options);
  }
  /**
   * Sends a delivery to a hook as a sender would: body (bytes or text) signed with options.secret in
   * the hook's scheme ("weft": X-Weft-Signature at timestamp, default now; "github":
   * X-Hub-Signature-256), with an optional delivery id. No bearer token is needed.
   */
  async deliverHook(
    name: string,
    body: string | Uint8Array,
    options: Options<"deliverHook"> & { secret: string; scheme?: "weft" | "github"; deliveryId?: string; timestamp?: number },
  ): Promise<Answer<"deliverHook">> {
    const secret = options.secret;
    if (typeof name !== "string" || name === "") throw new TypeError("weft deliverHook: name must be a non-empty string");
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
    const headers: Record<string, string> = { accept: "application/json", "content-type": "application/octet-stream" };
    if (options.scheme === "github") {
      headers["x-hub-signature-256"] = "sha256=" + createHmac("sha256", secret).update(bytes).digest("hex");
      if (options.deliveryId !== undefined) headers["x-github-delivery"] = options.deliveryId;
    } else {
      const t = Math.floor(options?.timestamp ?? Date.now() / 1000);
      const mac = createHmac("sha256", secret).update(`${t}.`).update(bytes).digest("hex");
      headers["x-weft-signature"] = `t=${t},v1=${mac}`;
      if (options?.deliveryId !== undefined) headers["x-weft-delivery"] = options.deliveryId;
    }
    const ns = options?.namespace ?? this.namespace;
    const target = this.url + "/v1/hooks/" + encodeURIComponent(name) + (ns ? "?namespace=" + encodeURIComponent(ns) : "");
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const raw = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const answer = await this.#send("POST", target, headers, raw, timeoutMs, options?.signal, `POST ${target}`);
    return answer as Answer<"deliverHook">;
  }

  // ---- events and subscriptions --------------------------------------------------

  /** Publishes an event: each matching subscription's target starts once; an id published already answers 200 and does nothing more. */
  publishEvent(body: Body<"publishEvent">, options?: Options<"publishEvent">): Promise<Answer<"publishEvent">> {
    return this.#call("publishEvent", [], body, options);
  }
  listEvents(options?: Options<"listEvents">): Promise<Answer<"listEvents">> {
    return this.#call("listEvents", [], undefined, options);
  }
  iterEvents(options?: Omit<Options<"listEvents">, "cursor">): AsyncGenerator<Item<"listEvents", "events">, void, undefined> {
    return this.#pages((cursor) => this.listEvents({ ...options, cursor }), "events");
  }
  /** An event with its deliveries, each with its run's id and outcome. */
  getEvent(id: string, options?: Options<"getEvent">): Promise<Answer<"getEvent">> {
    return this.#call("getEvent", [id], undefined, options);
  }
  createSubscription(body: Body<"createSubscription">, options?: Options<"createSubscription">): Promise<Answer<"createSubscription">> {
    return this.#call("createSubscription", [], body, options);
  }
  listSubscriptions(options?: Options<"listSubscriptions">): Promise<Answer<"listSubscriptions">> {
    return this.#call("listSubscriptions", [], undefined, options);
  }
  iterSubscriptions(options?: Omit<Options<"listSubscriptions">, "cursor">): AsyncGenerator<Item<"listSubscriptions", "subscriptions">, void, undefined> {
    return this.#pages((cursor) => this.listSubscriptions({ ...options, cursor }), "subscriptions");
  }
  getSubscription(name: string, options?: Options<"getSubscription">): Promise<Answer<"getSubscription">> {
    return this.#call("getSubscription", [name], undefined, options);
  }
  /** Deletes the subscription (the server answers 204, so this answers nothing). */
  async deleteSubscription(name: string, options?: Options<"deleteSubscription">): Promise<Answer<"deleteSubscription">> {
    await this.#call("deleteSubscription", [name], undefined, options);
  }

  /** Registers a template version: 201 new; the same body again answers the stored version; another body is a conflict. */
  createTemplate(body: Body<"createTemplate">, options?: Options<"createTemplate">): Promise<Answer<"createTemplate">> {
    return this.#call("createTemplate", [], body, options);
  }
  listTemplates(options?: Options<"listTemplates">): Promise<Answer<"listTemplates">> {
    return this.#call("listTemplates", [], undefined, options);
  }
  /** One template version, with its body. */
  getTemplate(name: string, version: string, options?: Options<"getTemplate">): Promise<Answer<"getTemplate">> {
    return this.#call("getTemplate", [name, version], undefined, options);
  }
  /** Starts a run of a template version; a request of the same identity answers that run (created: false). */
  runTemplate(name: string, version: string, body: Body<"runTemplate">, options?: Options<"runTemplate">): Promise<Answer<"runTemplate">> {
    return this.#call("runTemplate", [name, version], body, options);
  }

  // ---- lists as async iterators ------------------------------------------------

  /** Every task matching the filters, page after page. */
  iterTasks(options?: Omit<Options<"listTasks">, "cursor">): AsyncGenerator<Item<"listTasks", "tasks">, void, undefined> {
    return this.#pages((cursor) => this.listTasks({ ...options, cursor }), "tasks");
  }
  /** A task's whole event trail, oldest first. */
  iterTaskEvents(id: string, options?: Omit<Options<"listTaskEvents">, "cursor">): AsyncGenerator<Item<"listTaskEvents", "events">, void, undefined> {
    return this.#pages((cursor) => this.listTaskEvents(id, { ...options, cursor }), "events");
  }
  /** A run's whole memo, in order. */
  iterWorkflowSteps(id: string, options?: Omit<Options<"listWorkflowSteps">, "cursor">): AsyncGenerator<Item<"listWorkflowSteps", "steps">, void, undefined> {
    return this.#pages((cursor) => this.listWorkflowSteps(id, { ...options, cursor }), "steps");
  }
  iterDeadLetters(options?: Omit<Options<"listDeadLetters">, "cursor">): AsyncGenerator<Item<"listDeadLetters", "dead_letters">, void, undefined> {
    return this.#pages((cursor) => this.listDeadLetters({ ...options, cursor }), "dead_letters");
  }
  iterAudit(options?: Omit<Options<"listAudit">, "cursor">): AsyncGenerator<Item<"listAudit", "entries">, void, undefined> {
    return this.#pages((cursor) => this.listAudit({ ...options, cursor }), "entries");
  }
  iterWorkers(options?: Omit<Options<"listWorkers">, "cursor">): AsyncGenerator<Item<"listWorkers", "workers">, void, undefined> {
    return this.#pages((cursor) => this.listWorkers({ ...options, cursor }), "workers");
  }
  iterRuns(options?: Omit<Options<"listRuns">, "cursor">): AsyncGenerator<Item<"listRuns", "runs">, void, undefined> {
    return this.#pages((cursor) => this.listRuns({ ...options, cursor }), "runs");
  }
  /** A run's tasks in submission order, with their results. */
  iterRunTasks(id: string, options?: Omit<Options<"listRunTasks">, "cursor">): AsyncGenerator<Item<"listRunTasks", "tasks">, void, undefined> {
    return this.#pages((cursor) => this.listRunTasks(id, { ...options, cursor }), "tasks");
  }
  iterQueues(options?: Omit<Options<"listQueues">, "cursor">): AsyncGenerator<Item<"listQueues", "queues">, void, undefined> {
    return this.#pages((cursor) => this.listQueues({ ...options, cursor }), "queues");
  }
  /** Every workflow run matching the filters, page after page. */
  iterWorkflows(options?: Omit<Options<"listWorkflows">, "cursor">): AsyncGenerator<Item<"listWorkflows", "workflows">, void, undefined> {
    return this.#pages((cursor) => this.listWorkflows({ ...options, cursor }), "workflows");
  }

  iterSchedules(options?: Omit<Options<"listSchedules">, "cursor">): AsyncGenerator<Item<"listSchedules", "schedules">, void, undefined> {
    return this.#pages((cursor) => this.listSchedules({ ...options, cursor }), "schedules");
  }

  /** Every template version of a namespace, newest first. */
  iterTemplates(options?: Omit<Options<"listTemplates">, "cursor">): AsyncGenerator<Item<"listTemplates", "templates">, void, undefined> {
    return this.#pages((cursor) => this.listTemplates({ ...options, cursor }), "templates");
  }

  async *#pages(
    page: (cursor: string | undefined) => Promise<object>,
    field: string,
  ): AsyncGenerator<any, void, undefined> {
    let cursor: string | undefined;
    do {
      const answer = await page(cursor);
      yield* (answer as Record<string, unknown[]>)[field]!;
      cursor = (answer as { next_cursor?: string | null }).next_cursor ?? undefined;
    } while (cursor);
  }

  // ---- the request ---------------------------------------------------------

  async #call<K extends OperationId>(
    id: K,
    pathArgs: string[],
    body: unknown,
    callOptions: Options<K> | undefined,
  ): Promise<Answer<K>> {
    const op: Op = OPERATIONS[id];
    const options = callOptions as (CallOptions & { idempotencyKey?: string } & Record<string, unknown>) | undefined;
    let path: string = op.path;
    op.pathParams.forEach((name, i) => {
      const v = pathArgs[i];
      if (typeof v !== "string" || v === "") throw new TypeError(`weft ${id}: ${name} must be a non-empty string`);
      path = path.replace(`{${name}}`, encodeURIComponent(v));
    });
    const query = new URLSearchParams();
    for (const name of op.query) {
      let v = options?.[name];
      if (v === undefined && name === "namespace") v = this.namespace;
      if (v === undefined || v === null) continue;
      query.append(name, Array.isArray(v) ? v.join(",") : String(v));
    }
    const qs = query.toString();
    const target = this.url + path + (qs ? "?" + qs : "");

    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token) headers.authorization = "Bearer " + this.#token;
    if (options?.idempotencyKey !== undefined && (op.headers as readonly string[]).includes("Idempotency-Key"))
      headers["idempotency-key"] = options.idempotencyKey;
    let payload: string | undefined;
    if (op.body !== "none" && body !== undefined) {
      if (op.bodyNamespace && this.namespace && body && typeof body === "object" && !("namespace" in body))
        body = { namespace: this.namespace, ...body };
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    } else if (op.body === "required") {
      throw new TypeError(`weft ${id}: a body is required`);
    }

    let timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const waitMs = id === "claimJobs" ? (body as { wait_ms?: number }).wait_ms : undefined;
    if (typeof waitMs === "number") timeoutMs += waitMs;
    const request = `${op.method} ${target}`;
    const answer = await this.#send(op.method, target, headers, payload, timeoutMs, options?.signal, request);
    return answer as Answer<K>;
  }

  async #send(
    method: string,
    target: string,
    headers: Record<string, string>,
    payload: string | ArrayBuffer | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    request: string,
  ): Promise<unknown> {
    signal?.throwIfAborted();
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    const onAbort = () => ctl.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let status: number;
    let text: string | null;
    let retryAfter: string | null;
    try {
      const res = await this.#fetch(target, { method, headers, body: payload, signal: ctl.signal });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      text = await readBounded(res, this.maxAnswerBytes);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut)
        throw new WeftConnectionError(
          "timeout",
          `no answer from the weft server at ${this.url} within ${timeoutMs} ms (${method} ${new URL(target).pathname})`,
          this.url,
          request,
        );
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new WeftConnectionError(
        "unreachable",
        `cannot reach the weft server at ${this.url} (${why}): is it running? Point WEFT_URL (or the url option) at it`,
        this.url,
        request,
      );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }

    if (text === null)
      throw new WeftError(
        status,
        "answer_too_large",
        `the server at ${this.url} answered ${request} with more than ${this.maxAnswerBytes} bytes`,
        [],
        request,
      );
    let json: unknown;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status >= 200 && status < 300) {
      if (json === undefined)
        throw new WeftError(status, "bad_answer", `the server at ${this.url} answered ${request} with non-JSON`, [], request);
      return json;
    }
    throw this.#error(status, json, text, retryAfter, request);
  }

  #error(status: number, json: unknown, text: string, retryAfter: string | null, request: string): WeftError {
    const e = (json as { error?: Partial<ErrorBody> } | undefined)?.error;
    const body: ErrorBody = {
      code: typeof e?.code === "string" ? e.code : `http_${status}`,
      message: typeof e?.message === "string" ? e.message : text.slice(0, 200) || `HTTP ${status}`,
      details: Array.isArray(e?.details) ? e.details.map(String) : [],
      current_status: typeof e?.current_status === "string" ? e.current_status : undefined,
    };
    const where = new URL(request.slice(request.indexOf(" ") + 1)).pathname;
    switch (status) {
      case 401:
        return new WeftAuthError(
          status,
          body.code,
          this.#token
            ? `the server at ${this.url} refused the token (${body.message}): set WEFT_TOKEN (or the token option) to a valid token`
            : `the server at ${this.url} needs a token (${body.message}): set WEFT_TOKEN (or the token option)`,
          body.details,
          request,
        );
      case 403:
        return new WeftForbiddenError(status, body.code, `${where}: ${body.message}`, body.details, request);
      case 404:
        return new WeftNotFoundError(status, body.code, `${where}: ${body.message}`, body.details, request);
      case 409:
        return new WeftConflictError(status, { ...body, message: `${where}: ${body.message}` }, request);
      case 429:
      case 503: {
        const secs = retryAfter === null ? NaN : Number(retryAfter);
        return new WeftUnavailableError(
          status,
          { ...body, message: `${where}: ${body.message}` },
          request,
          Number.isFinite(secs) ? secs * 1000 : undefined,
        );
      }
      default: {
        const details = body.details.length ? ` (${body.details.join("; ")})` : "";
        return new WeftError(status, body.code, `${where}: ${body.message}${details}`, body.details, request);
      }
    }
  }
}
