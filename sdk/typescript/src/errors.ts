// Errors of the client: every failed call throws a WeftError; the
// subclasses let callers catch the cases they handle (not found, conflict)
// and tell them what to do in the others (set the token, check the URL).

/** The server's error body: {"error": {code, message, details, current_status?}}. */
export interface ErrorBody {
  code: string;
  message: string;
  details: string[];
  current_status?: string;
}

/** A call that failed. status is the HTTP status (0 when there was no
 * answer); code the server's error code ("not_found", "conflict", …) or
 * the client's ("unreachable", "timeout", "bad_answer"). */
export class WeftError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string[];
  /** The method and URL of the request. */
  readonly request: string;

  constructor(status: number, code: string, message: string, details: string[] = [], request = "") {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = details;
    this.request = request;
  }

  /** True when the same request may succeed later: no answer, 429, 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** 401: no token, or one the server does not know. */
export class WeftAuthError extends WeftError {}

/** 403: the token does not allow this (its role or namespaces). */
export class WeftForbiddenError extends WeftError {}

/** 404: no such object, or one of a namespace the token may not see. */
export class WeftNotFoundError extends WeftError {}

/** 409: the object's state does not allow the action; currentStatus is the
 * task's status when the server names it. */
export class WeftConflictError extends WeftError {
  readonly currentStatus: string | undefined;

  constructor(status: number, body: ErrorBody, request: string) {
    super(status, body.code, body.message, body.details, request);
    this.currentStatus = body.current_status;
  }
}

/** 429 or 503: the server is overloaded or its database unreachable;
 * retryAfterMs is its Retry-After, when given. */
export class WeftUnavailableError extends WeftError {
  readonly retryAfterMs: number | undefined;

  constructor(status: number, body: ErrorBody, request: string, retryAfterMs: number | undefined) {
    super(status, body.code, body.message, body.details, request);
    this.retryAfterMs = retryAfterMs;
  }
}

/** No answer: the server could not be reached, or did not answer in time.
 * url is the server's base URL. */
export class WeftConnectionError extends WeftError {
  readonly url: string;

  constructor(code: "unreachable" | "timeout", message: string, url: string, request: string) {
    super(0, code, message, [], request);
    this.url = url;
  }
}

/** Thrown by a job handler to fail the job without retries: the server
 * dead-letters it at once. code becomes the job error's code. */
export class NonRetryableError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = "NonRetryableError";
    this.code = code;
    this.details = details;
  }
}
