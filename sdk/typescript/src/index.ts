// @weft/client: a client for weft's /v1 API and a pull-worker runtime.
export { WeftClient, DEFAULT_URL, type WeftClientOptions, type ApiMethods } from "./client.js";
export {
  WeftError,
  WeftAuthError,
  WeftForbiddenError,
  WeftNotFoundError,
  WeftConflictError,
  WeftUnavailableError,
  WeftConnectionError,
  NonRetryableError,
  type ErrorBody,
} from "./errors.js";
export * from "./types.js";
export { OPERATIONS } from "./operations.gen.js";
export {
  Worker,
  LeaseLostError,
  type Job,
  type Handler,
  type WorkerOptions,
  type WorkerStats,
  type WorkerLog,
} from "./worker.js";
export {
  WorkflowInterrupt,
  WorkflowSuspended,
  WorkflowEnded,
  WorkflowCanceled,
  WorkflowLeaseLost,
  StepFailedError,
  SignalTimeoutError,
  isWorkflowInterrupt,
  type WorkflowContext,
  type WorkflowHandler,
} from "./workflow.js";
