// The SDK's view of the generated typings (api.gen.ts): what each
// operation takes and answers, looked up by operationId, so that a method's
// signature follows the server's document and a field the document adds or
// drops shows up as a compile error in code that uses it.
import type { components, operations } from "./api.gen.js";

export type { components, operations, paths } from "./api.gen.js";

/** Every operationId of the /v1 API. */
export type OperationId = keyof operations;

type JsonContent<T> = T extends { content: { "application/json": infer B } } ? B : never;
type Success<K extends OperationId> = Extract<keyof operations[K]["responses"], 200 | 201>;
type OrEmpty<T> = [T] extends [never] ? {} : T;

/** The JSON an operation answers on success (200 or 201); void for an
 * operation that answers 204 with no body. */
export type Answer<K extends OperationId> = [Success<K>] extends [never]
  ? void
  : JsonContent<operations[K]["responses"][Success<K>]>;

/** The JSON body an operation takes (never when it takes none). */
export type Body<K extends OperationId> = JsonContent<NonNullable<operations[K]["requestBody"]>>;

/** The query parameters of an operation ({} when it has none). */
export type Query<K extends OperationId> = OrEmpty<NonNullable<operations[K]["parameters"]["query"]>>;

type HeaderParams<K extends OperationId> = NonNullable<operations[K]["parameters"]["header"]>;

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /** This request's timeout in ms (default: the client's timeoutMs). */
  timeoutMs?: number;
}

/** The Idempotency-Key header, for operations that take one: a repeated
 * request with the same key gets the first one's answer. */
export type IdempotencyOption<K extends OperationId> = "Idempotency-Key" extends keyof HeaderParams<K>
  ? { idempotencyKey?: string }
  : {};

/** The last argument of every method: the operation's query parameters
 * (named as on the wire), its headers, and the call options. */
export type Options<K extends OperationId> = Query<K> & IdempotencyOption<K> & CallOptions;

type Schemas = components["schemas"];
export type Task = Schemas["Task"];
export type TaskSummary = Schemas["TaskSummary"];
export type TaskStatus = Schemas["TaskStatus"];
export type TaskEvent = Schemas["TaskEvent"];
export type JobSpec = Schemas["JobSpec"];
export type ClaimedJob = Schemas["ClaimedJob"];
export type JobError = Schemas["JobError"];
export type Run = Schemas["Run"];
export type RunSummary = Schemas["RunSummary"];
export type RunTask = Schemas["RunTask"];
export type RunTaskSpec = Schemas["RunTaskSpec"];
/** A worker as the registry lists it (the runtime is the Worker class). */
export type WorkerInfo = Schemas["Worker"];
export type Queue = Schemas["Queue"];
export type Token = Answer<"getToken">;
export type CreatedToken = Answer<"createToken">;
export type Workflow = Schemas["Workflow"];
export type WorkflowStatus = Schemas["WorkflowStatus"];
export type WorkflowStep = Schemas["WorkflowStep"];
export type WorkflowStart = Schemas["WorkflowStart"];
export type WorkflowCallResult = Schemas["WorkflowCallResult"];
export type WorkflowSignalSent = Schemas["WorkflowSignalSent"];
export type Schedule = Schemas["Schedule"];
export type ScheduleCreate = Schemas["ScheduleCreate"];
