"""weft.Client: one method per operation of weft's /v1 API.

Every request-body property and query parameter of an operation is a
keyword argument of its method (None: left out, so the server's default
applies); answers are the server's JSON as dicts; errors are exceptions
(weft.errors). The ``@operation`` mark on each method names the
operationId it speaks, which the package's tests check against the
OpenAPI document the server serves.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union, cast

from ._operations import operation
from ._transport import Transport

JSON = Any
Answer = Dict[str, Any]

DEFAULT_URL = "http://127.0.0.1:8085"


class _Unset:
    """The default of a nullable property: 'leave it out', as opposed to
    None, which sends null."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _seg(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


def _body(**members: Any) -> Dict[str, Any]:
    """The members that were given (not None, not UNSET)."""
    return {k: v for k, v in members.items() if v is not None and v is not UNSET}


def _idem(key: Optional[str]) -> Optional[Dict[str, str]]:
    return {"Idempotency-Key": key} if key else None


class Client:
    """A client of one weft server.

    url, token and namespace default to WEFT_URL, WEFT_TOKEN and
    WEFT_NAMESPACE (url: http://127.0.0.1:8085). namespace, when set, is
    sent with every call that takes one and was not given one. timeout is
    the seconds one request may take (a claim's long poll gets its wait on
    top). The client may be shared by threads: each thread keeps its own
    keep-alive connection.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 namespace: Optional[str] = None, timeout: float = 30.0) -> None:
        self.url = (url or os.environ.get("WEFT_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("WEFT_TOKEN") or None)
        self.namespace = namespace if namespace is not None else (os.environ.get("WEFT_NAMESPACE") or None)
        self.timeout = timeout
        self._http = Transport(self.url, self.token, timeout)

    def __repr__(self) -> str:
        return "weft.Client(%r, namespace=%r)" % (self.url, self.namespace)

    def close(self) -> None:
        """Closes the calling thread's connection (others close with their
        threads)."""
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _ns(self, namespace: Optional[str]) -> Optional[str]:
        return namespace if namespace is not None else self.namespace

    def _get(self, path: str, **query: Any) -> Answer:
        return cast(Answer, self._http.request("GET", path, query=query))

    def _post(self, path: str, body: Any = None, idempotency_key: Optional[str] = None,
              query: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None,
              replay: bool = False) -> Answer:
        return cast(Answer, self._http.request("POST", path, query=query, body=body,
                                               headers=_idem(idempotency_key), timeout=timeout, replay=replay))

    @staticmethod
    def _pages(fetch: Callable[..., Answer], key: str, **params: Any) -> Iterator[Answer]:
        cursor = None
        while True:
            page = fetch(cursor=cursor, **params)
            yield from page.get(key) or []
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # ---- the document --------------------------------------------------

    @operation("getOpenApi")
    def openapi(self) -> Answer:
        """The OpenAPI document the server serves."""
        return self._get("/v1/openapi.json")

    # ---- jobs: enqueue ---------------------------------------------------

    @operation("enqueueJobs")
    def enqueue_many(self, jobs: Sequence[Mapping[str, Any]], namespace: Optional[str] = None,
                     idempotency_key: Optional[str] = None) -> Answer:
        """Enqueues 1 to 1,000 jobs (JobSpec dicts) in one request; answers
        {"jobs": [{"id", "run_id", "queue", "status", "duplicate"}...]} in
        order."""
        return self._post("/v1/jobs", _body(namespace=self._ns(namespace), jobs=list(jobs)), idempotency_key)

    @operation("enqueueJobs", each="jobs")
    def enqueue(self, queue: str, input: JSON = None, *, name: Optional[str] = None,
                priority: Optional[int] = None, run_at: Optional[str] = None, delay_ms: Optional[int] = None,
                max_attempts: Optional[int] = None, backoff: Optional[Mapping[str, Any]] = None,
                non_retryable_codes: Optional[Sequence[str]] = None, timeout_secs: Optional[int] = None,
                dedup: Optional[Mapping[str, Any]] = None, concurrency_key: Optional[str] = None,
                rate_key: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None,
                namespace: Optional[str] = None, idempotency_key: Optional[str] = None) -> Answer:
        """Enqueues one job on queue; answers its {"id", "run_id", "queue",
        "status", "duplicate"}."""
        job = _body(queue=queue, name=name, priority=priority, run_at=run_at, delay_ms=delay_ms,
                    max_attempts=max_attempts, backoff=backoff,
                    non_retryable_codes=list(non_retryable_codes) if non_retryable_codes is not None else None,
                    timeout_secs=timeout_secs, dedup=dedup, concurrency_key=concurrency_key, rate_key=rate_key,
                    metadata=metadata)
        job["input"] = input
        answer = self.enqueue_many([job], namespace=namespace, idempotency_key=idempotency_key)
        return cast(Answer, answer["jobs"][0])

    # ---- jobs: the pull worker's calls ------------------------------------
    # The lease calls (heartbeat, complete, fail, release) change nothing
    # more when repeated with the same lease token (already_completed,
    # already_failed, stale_lease), so a connection lost during one of them
    # sends it again (replay); a claim is never resent.

    @operation("claimJobs")
    def claim(self, queues: Sequence[str], worker_id: str, *, namespace: Optional[str] = None,
              hostname: Optional[str] = None, max_jobs: Optional[int] = None, wait_ms: Optional[int] = None,
              lease_ms: Optional[int] = None) -> Answer:
        """Claims up to max_jobs jobs from queues (in order), waiting up to
        wait_ms for a first one; answers {"jobs": [ClaimedJob...],
        "drain"}."""
        body = _body(namespace=self._ns(namespace), queues=list(queues), worker_id=worker_id, hostname=hostname,
                     max_jobs=max_jobs, wait_ms=wait_ms, lease_ms=lease_ms)
        return self._post("/v1/jobs/claim", body, timeout=self.timeout + (wait_ms or 0) / 1000.0)

    @operation("heartbeatJobs")
    def heartbeat(self, worker_id: str, leases: Sequence[Mapping[str, Any]],
                  lease_ms: Optional[int] = None) -> Answer:
        """Extends the leases [{"id", "lease_token", "progress"?}...];
        answers {"leases": [{"id", "state", "lease_until"?}...], "drain"}."""
        return self._post("/v1/jobs/heartbeat", _body(worker_id=worker_id, lease_ms=lease_ms, leases=list(leases)),
                          replay=True)

    @operation("completeJobs")
    def complete(self, items: Sequence[Mapping[str, Any]]) -> Answer:
        """Completes jobs: items [{"id", "lease_token", "result"}...];
        answers {"results": [{"id", "outcome"}...]}."""
        return self._post("/v1/jobs/complete", {"items": list(items)}, replay=True)

    @operation("failJobs")
    def fail(self, items: Sequence[Mapping[str, Any]]) -> Answer:
        """Fails jobs: items [{"id", "lease_token", "error": {"code",
        "message"?, "retryable"?, "details"?}, "retry_after_ms"?}...];
        answers {"results": [{"id", "outcome", "next_attempt_at"?}...]}."""
        return self._post("/v1/jobs/fail", {"items": list(items)}, replay=True)

    @operation("releaseJobs")
    def release(self, items: Sequence[Mapping[str, Any]]) -> Answer:
        """Gives leases back unfinished: items [{"id", "lease_token"}...]."""
        return self._post("/v1/jobs/release", {"items": list(items)}, replay=True)

    @operation("completeJob")
    def complete_job(self, id: str, lease_token: str, result: JSON = None) -> Answer:
        """Completes one job; answers {"id", "outcome"}. 409 stale_lease or
        canceled when the lease is no longer this one."""
        return self._post("/v1/jobs/%s/complete" % _seg(id), {"lease_token": lease_token, "result": result},
                          replay=True)

    @operation("failJob")
    def fail_job(self, id: str, lease_token: str, error: Mapping[str, Any],
                 retry_after_ms: Optional[int] = None) -> Answer:
        """Fails one job's attempt; error is {"code", "message"?,
        "retryable"?, "details"?}."""
        body = _body(lease_token=lease_token, error=dict(error), retry_after_ms=retry_after_ms)
        return self._post("/v1/jobs/%s/fail" % _seg(id), body, replay=True)

    # ---- tasks ---------------------------------------------------------------

    @operation("listTasks")
    def list_tasks(self, *, namespace: Optional[str] = None, queue: Optional[str] = None,
                   status: Union[str, Sequence[str], None] = None, executor: Optional[str] = None,
                   run_id: Optional[str] = None, created_after: Optional[str] = None,
                   created_before: Optional[str] = None, cursor: Optional[str] = None,
                   limit: Optional[int] = None) -> Answer:
        """One page of tasks, newest first: {"tasks", "next_cursor"}.
        status may be a list (sent comma-separated)."""
        return self._get("/v1/tasks", namespace=self._ns(namespace), queue=queue, status=status, executor=executor,
                         run_id=run_id, created_after=created_after, created_before=created_before, cursor=cursor,
                         limit=limit)

    def iter_tasks(self, *, namespace: Optional[str] = None, queue: Optional[str] = None,
                   status: Union[str, Sequence[str], None] = None, executor: Optional[str] = None,
                   run_id: Optional[str] = None, created_after: Optional[str] = None,
                   created_before: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every task matching, page after page (limit: the page size)."""
        return self._pages(self.list_tasks, "tasks", namespace=namespace, queue=queue, status=status,
                           executor=executor, run_id=run_id, created_after=created_after,
                           created_before=created_before, limit=limit)

    @operation("getTask")
    def get_task(self, id: str) -> Answer:
        """One task (a job or a run's task), with its attempts."""
        return self._get("/v1/tasks/%s" % _seg(id))

    @operation("listTaskEvents")
    def list_task_events(self, id: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of a task's status changes: {"events", "next_cursor"}."""
        return self._get("/v1/tasks/%s/events" % _seg(id), cursor=cursor, limit=limit)

    def iter_task_events(self, id: str, *, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every status change of a task, oldest first."""
        return self._pages(lambda **kw: self.list_task_events(id, **kw), "events", limit=limit)

    # ---- per-execution logs --------------------------------------------

    @operation("listTaskLogs")
    def list_task_logs(self, id: str, *, attempt: Optional[int] = None, stream: Optional[str] = None,
                       cursor: Optional[str] = None, limit: Optional[int] = None,
                       follow: Optional[bool] = None) -> Any:
        """One page of a task's log lines in (attempt, seq) order:
        {"task_id", "status", "attempt", "lines", "next_cursor", "more"}.
        Asking again with next_cursor gives the lines written since.

        follow=True answers instead an iterator of the lines (dicts) as
        they are written, from the server's event stream, which ends once
        the task has ended (see follow_task_logs)."""
        if follow:
            return self.follow_task_logs(id, attempt=attempt, stream=stream, cursor=cursor)
        return self._get("/v1/tasks/%s/logs" % _seg(id), attempt=attempt, stream=stream, cursor=cursor,
                         limit=limit, follow=None if follow is None else "false")

    def follow_task_logs(self, id: str, *, attempt: Optional[int] = None, stream: Optional[str] = None,
                         cursor: Optional[str] = None) -> Iterator[Answer]:
        """A task's log lines as they are written (the stored ones first),
        until the task has ended: GET /v1/tasks/{id}/logs?follow=true."""
        query = {"follow": "true", "attempt": attempt, "stream": stream, "cursor": cursor}
        for event, data in self._http.events("/v1/tasks/%s/logs" % _seg(id), query):
            if event == "line":
                yield cast(Answer, json.loads(data))
            elif event == "end":
                return

    @operation("appendJobLogs")
    def append_job_logs(self, id: str, lease_token: str, lines: Sequence[Union[str, Mapping[str, Any]]]) -> Answer:
        """Appends 1..1000 log lines to a held job's attempt; a line is its
        text, or {"text", "stream"?: "stdout"|"stderr", "level"?}. Answers
        {"accepted", "attempt", "dropped"}; 409 stale_lease when the lease
        is no longer this one."""
        items = [{"text": l} if isinstance(l, str) else dict(l) for l in lines]
        # Not sent again after a lost connection: the lines could be stored twice.
        return self._post("/v1/jobs/%s/logs" % _seg(id), {"lease_token": lease_token, "lines": items})

    @operation("searchLogs")
    def search_logs(self, *, namespace: Optional[str] = None, task_id: Optional[str] = None,
                    run_id: Optional[str] = None, queue: Optional[str] = None, stream: Optional[str] = None,
                    level: Optional[str] = None, q: Optional[str] = None, since: Optional[str] = None,
                    until: Optional[str] = None, cursor: Optional[str] = None,
                    limit: Optional[int] = None) -> Answer:
        """Log lines across executions, newest first: {"lines", "next_cursor"}."""
        return self._get("/v1/logs", namespace=namespace, task_id=task_id, run_id=run_id, queue=queue,
                         stream=stream, level=level, q=q, since=since, until=until, cursor=cursor, limit=limit)

    @operation("listTaskDeliveries")
    def list_task_deliveries(self, id: str) -> Answer:
        """A task's webhook calls (start, end, cancel), one per call with
        its attempts counted and the last outcome: {"task_id",
        "deliveries"}."""
        return self._get("/v1/tasks/%s/deliveries" % _seg(id))

    # ---- the metrics history ---------------------------------------------

    @operation("getMetricsHistory")
    def get_metrics_history(self, *, since: Optional[str] = None, until: Optional[str] = None) -> Answer:
        """What the server counted step by step (default the last hour):
        {"step_secs", "samples": [{"at", "created", "completed", "failed",
        "retried", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
        "queue_depth", "running"}]}."""
        return self._get("/v1/metrics/history", since=since, until=until)

    # ---- the change feed -------------------------------------------------

    @operation("listChanges")
    def list_changes(self, *, run: Optional[str] = None, namespace: Optional[str] = None, after: Optional[str] = None,
                follow: Optional[bool] = None) -> Any:
        """The tasks whose status changed after the cursor `after`, as the
        server keeps them now: {"tasks", "cursor", "reset"} (reset: the
        cursor was older than what is kept; reload). Without a cursor the
        answer is empty and its cursor marks now.

        follow=True answers instead an iterator of the stream's events,
        (event, data) with event "tasks" ({"tasks": [...]}) or "reset"
        ({}), which goes on until it is closed (see follow_changes)."""
        if follow:
            return self.follow_changes(run=run, namespace=namespace, after=after)
        return self._get("/v1/changes", run=run, namespace=namespace, after=after, follow="false")

    def follow_changes(self, *, run: Optional[str] = None, namespace: Optional[str] = None,
                       after: Optional[str] = None) -> Iterator[Tuple[str, Answer]]:
        """The change feed as it happens: (event, data) pairs of GET
        /v1/changes, event "tasks" (data {"tasks": [...]}) or "reset"
        (data {}: reload what is shown). It never ends by itself."""
        query = {"run": run, "namespace": namespace, "after": after}
        for event, data in self._http.events("/v1/changes", query):
            if event in ("tasks", "reset"):
                yield event, cast(Answer, json.loads(data))

    # ---- operator actions on tasks -------------------------------------

    def _act(self, id: str, action: str, body: Dict[str, Any], idempotency_key: Optional[str]) -> Answer:
        return self._post("/v1/tasks/%s/%s" % (_seg(id), action), body, idempotency_key)

    @operation("cancelTask")
    def cancel_task(self, id: str, reason: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> Answer:
        """Cancels a task; answers the task. ConflictError (current_status)
        when it has ended."""
        return self._act(id, "cancel", _body(reason=reason), idempotency_key)

    @operation("pauseTask")
    def pause_task(self, id: str, reason: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> Answer:
        """Pauses a task that has not started; answers the task."""
        return self._act(id, "pause", _body(reason=reason), idempotency_key)

    @operation("resumeTask")
    def resume_task(self, id: str, reason: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> Answer:
        """Resumes a paused task; answers the task."""
        return self._act(id, "resume", _body(reason=reason), idempotency_key)

    @operation("retryTask")
    def retry_task(self, id: str, reason: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> Answer:
        """Runs a failed or canceled task again; answers the task."""
        return self._act(id, "retry", _body(reason=reason), idempotency_key)

    @operation("resetTask")
    def reset_task(self, id: str, reason: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> Answer:
        """Puts a task back to its start, attempts cleared; answers the
        task."""
        return self._act(id, "reset", _body(reason=reason), idempotency_key)

    @operation("resolveTask")
    def resolve_task(self, id: str, reason: Optional[str] = None, result: JSON = UNSET, *,
                     idempotency_key: Optional[str] = None) -> Answer:
        """Ends a task in success by hand, with result (JSON; left out:
        null); answers the task."""
        body = _body(reason=reason)
        if result is not UNSET:
            body["result"] = result
        return self._act(id, "resolve", body, idempotency_key)

    @operation("taskComplete")
    def complete_task(self, id: str, result: JSON = None, *, idempotency_key: Optional[str] = None) -> Answer:
        """Reports the success of a webhook task started by its on_start
        call; answers {"id", "status"}."""
        return self._act(id, "complete", {"result": result}, idempotency_key)

    @operation("taskFail")
    def fail_task(self, id: str, error: JSON, *, idempotency_key: Optional[str] = None) -> Answer:
        """Reports the failure of a webhook task; answers {"id",
        "status"}."""
        return self._act(id, "fail", {"error": error}, idempotency_key)

    # ---- runs ---------------------------------------------------------------

    @operation("createRun")
    def create_run(self, tasks: Sequence[Mapping[str, Any]], *, namespace: Optional[str] = None,
                   name: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None,
                   idempotency_key: Optional[str] = None) -> Answer:
        """Creates a run (a DAG) of tasks [RunTaskSpec...]; answers {"id",
        "namespace", "name", "tasks": [{"ref", "id", ...}...]}."""
        body = _body(namespace=self._ns(namespace), name=name, metadata=metadata, tasks=list(tasks))
        return self._post("/v1/runs", body, idempotency_key)

    @operation("listRuns")
    def list_runs(self, *, namespace: Optional[str] = None, status: Optional[str] = None,
                  created_after: Optional[str] = None, created_before: Optional[str] = None,
                  cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of runs, newest first: {"runs", "next_cursor"}."""
        return self._get("/v1/runs", namespace=self._ns(namespace), status=status, created_after=created_after,
                         created_before=created_before, cursor=cursor, limit=limit)

    def iter_runs(self, *, namespace: Optional[str] = None, status: Optional[str] = None,
                  created_after: Optional[str] = None, created_before: Optional[str] = None,
                  limit: Optional[int] = None) -> Iterator[Answer]:
        """Every run matching, page after page."""
        return self._pages(self.list_runs, "runs", namespace=namespace, status=status, created_after=created_after,
                           created_before=created_before, limit=limit)

    @operation("getRun")
    def get_run(self, id: str, *, tasks: Optional[bool] = None) -> Answer:
        """One run with its status, task counts and first 1,000 tasks;
        tasks=False answers without the tasks (cheap for a large run)."""
        return self._get("/v1/runs/%s" % _seg(id), tasks=tasks)

    @operation("listRunTasks")
    def list_run_tasks(self, id: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of a run's tasks: {"tasks", "next_cursor"}."""
        return self._get("/v1/runs/%s/tasks" % _seg(id), cursor=cursor, limit=limit)

    @operation("getRunGraph")
    def get_run_graph(self, id: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of a run's graph: {"run_id", "total", "tasks", "edges",
        "next_cursor"}; an edge comes in the page of its child (to)."""
        return self._get("/v1/runs/%s/graph" % _seg(id), cursor=cursor, limit=limit)

    @operation("getRunCriticalPath")
    def get_run_critical_path(self, id: str) -> Answer:
        """The path through a run with the largest sum of task durations:
        {"tasks": [ids], "duration_ms", "by_depth"}."""
        return self._get("/v1/runs/%s/critical-path" % _seg(id))

    @operation("patchRunRules")
    def patch_run_rules(self, id: str, kind: str, rules: Sequence[Mapping[str, Any]]) -> Answer:
        """Replaces the rules of a run's unfinished tasks of one kind:
        {"run_id", "kind", "updated"}."""
        return cast(Answer, self._http.request("PATCH", "/v1/runs/%s/rules" % _seg(id),
                                               body={"kind": kind, "rules": list(rules)}))

    def iter_run_tasks(self, id: str, *, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every task of a run."""
        return self._pages(lambda **kw: self.list_run_tasks(id, **kw), "tasks", limit=limit)

    @operation("cancelRun")
    def cancel_run(self, id: str, *, idempotency_key: Optional[str] = None) -> Answer:
        """Cancels every unfinished task of a run: {"id", "canceled",
        "already_ended"}."""
        return self._post("/v1/runs/%s/cancel" % _seg(id), None, idempotency_key)

    @operation("pauseRun")
    def pause_run(self, id: str, *, idempotency_key: Optional[str] = None) -> Answer:
        """Pauses a run's tasks that have not started: {"id", "paused",
        "unchanged"}."""
        return self._post("/v1/runs/%s/pause" % _seg(id), None, idempotency_key)

    @operation("resumeRun")
    def resume_run(self, id: str, *, idempotency_key: Optional[str] = None) -> Answer:
        """Resumes a run's paused tasks: {"id", "resumed", "unchanged"}."""
        return self._post("/v1/runs/%s/resume" % _seg(id), None, idempotency_key)

    # ---- workflows: the client's calls -------------------------------------
    # A workflow run is a job of its queue whose handler reports its steps
    # (docs/internals/workflows.md). Start, signal and the stops honour an
    # Idempotency-Key header; the worker calls below need none.

    @operation("startWorkflow")
    def start_workflow(self, type: str, queue: str, input: JSON = None, *, namespace: Optional[str] = None,
                       idempotency_key: Optional[str] = None, priority: Optional[int] = None,
                       run_at: Optional[str] = None, delay_ms: Optional[int] = None,
                       max_attempts: Optional[int] = None, backoff: Optional[Mapping[str, Any]] = None,
                       non_retryable_codes: Optional[Sequence[str]] = None, timeout_secs: Optional[int] = None,
                       concurrency_key: Optional[str] = None, rate_key: Optional[str] = None,
                       metadata: Optional[Mapping[str, Any]] = None, request_key: Optional[str] = None) -> Answer:
        """Starts a run of workflow type on queue; answers the run.

        idempotency_key is the run's own key (the body property): while a
        run of the namespace holding it is active, the start answers that
        run instead of a new one, and get_workflow_by_key finds it.
        request_key is the Idempotency-Key header, which replays this one
        request's answer. max_attempts, backoff and non_retryable_codes are
        the retry policy of the run and of each of its steps."""
        body = _body(namespace=self._ns(namespace), type=type, queue=queue, idempotency_key=idempotency_key,
                     priority=priority, run_at=run_at, delay_ms=delay_ms, max_attempts=max_attempts,
                     backoff=backoff,
                     non_retryable_codes=list(non_retryable_codes) if non_retryable_codes is not None else None,
                     timeout_secs=timeout_secs, concurrency_key=concurrency_key, rate_key=rate_key,
                     metadata=metadata)
        body["input"] = input
        return self._post("/v1/workflows", body, request_key)

    @operation("listWorkflows")
    def list_workflows(self, *, namespace: Optional[str] = None, status: Optional[str] = None,
                       type: Optional[str] = None, queue: Optional[str] = None, created_after: Optional[str] = None,
                       created_before: Optional[str] = None, cursor: Optional[str] = None,
                       limit: Optional[int] = None) -> Answer:
        """One page of workflow runs, newest first: {"workflows",
        "next_cursor"}."""
        return self._get("/v1/workflows", namespace=self._ns(namespace), status=status, type=type, queue=queue,
                         created_after=created_after, created_before=created_before, cursor=cursor, limit=limit)

    def iter_workflows(self, *, namespace: Optional[str] = None, status: Optional[str] = None,
                       type: Optional[str] = None, queue: Optional[str] = None, created_after: Optional[str] = None,
                       created_before: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every workflow run matching, page after page (limit: the page
        size)."""
        return self._pages(self.list_workflows, "workflows", namespace=namespace, status=status, type=type,
                           queue=queue, created_after=created_after, created_before=created_before, limit=limit)

    @operation("getWorkflow")
    def get_workflow(self, id: str) -> Answer:
        """One workflow run."""
        return self._get("/v1/workflows/%s" % _seg(id))

    @operation("listWorkflowSteps")
    def list_workflow_steps(self, id: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of a run's memo (its steps, sleeps and signal waits in
        the order they were first reached): {"steps", "next_cursor"}."""
        return self._get("/v1/workflows/%s/steps" % _seg(id), cursor=cursor, limit=limit)

    def iter_workflow_steps(self, id: str, *, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every row of a run's memo, in order."""
        return self._pages(lambda **kw: self.list_workflow_steps(id, **kw), "steps", limit=limit)

    @operation("getWorkflowByKey")
    def get_workflow_by_key(self, key: str, *, namespace: Optional[str] = None) -> Answer:
        """The active run holding idempotency key key, else the newest
        finished one that held it."""
        return self._get("/v1/workflows/by-key/%s" % _seg(key), namespace=self._ns(namespace))

    @operation("cancelWorkflow")
    def cancel_workflow(self, id: str, reason: Optional[str] = None, *,
                        idempotency_key: Optional[str] = None) -> Answer:
        """Cancels a run (its job is canceled); answers the run.
        ConflictError (current_status) when it has ended."""
        return self._post("/v1/workflows/%s/cancel" % _seg(id), _body(reason=reason), idempotency_key)

    @operation("terminateWorkflow")
    def terminate_workflow(self, id: str, reason: Optional[str] = None, *,
                           idempotency_key: Optional[str] = None) -> Answer:
        """Terminates a run; answers the run. ConflictError
        (current_status) when it has ended."""
        return self._post("/v1/workflows/%s/terminate" % _seg(id), _body(reason=reason), idempotency_key)

    @operation("retryWorkflow")
    def retry_workflow(self, id: str, reason: Optional[str] = None, *,
                       idempotency_key: Optional[str] = None) -> Answer:
        """Runs a failed, canceled or terminated run again (its steps that
        failed for good reopen); answers the run."""
        return self._post("/v1/workflows/%s/retry" % _seg(id), _body(reason=reason), idempotency_key)

    @operation("signalWorkflow")
    def signal_workflow(self, id: str, name: str, payload: JSON = None, *,
                        idempotency_key: Optional[str] = None) -> Answer:
        """Sends signal name with payload to a run; a wait_signal of that
        name takes it."""
        return self._post("/v1/workflows/%s/signals" % _seg(id), {"name": name, "payload": payload},
                          idempotency_key)

    # ---- workflows: the handler's calls ------------------------------------
    # Each is fenced by the lease_token of the claim of the run's job and
    # answers {"run_status", "step", "memoized", "suspended", "wake_at"}.
    # Repeating one with the same token changes nothing more (the memo),
    # so a connection lost during one sends it again (replay).

    def _wf(self, id: str, call: str, body: Dict[str, Any]) -> Answer:
        return self._post("/v1/workflows/%s/%s" % (_seg(id), call), body, replay=True)

    @operation("workflowStepBegin")
    def workflow_step_begin(self, id: str, lease_token: str, name: str) -> Answer:
        """Begins step name; when it completed before ("memoized": true)
        the answer's step holds its output and the handler skips it."""
        return self._wf(id, "steps/begin", {"lease_token": lease_token, "name": name})

    @operation("workflowStepComplete")
    def workflow_step_complete(self, id: str, lease_token: str, name: str, seq: int,
                               output: JSON = None) -> Answer:
        """Completes step name (seq: from its begin) with output."""
        return self._wf(id, "steps/complete",
                        {"lease_token": lease_token, "name": name, "seq": seq, "output": output})

    @operation("workflowStepFail")
    def workflow_step_fail(self, id: str, lease_token: str, name: str, seq: int, error: Mapping[str, Any],
                           retryable: Optional[bool] = None) -> Answer:
        """Fails step name; error is {"code", "message"?}.
        The run retries it by its policy unless retryable is False."""
        body = _body(lease_token=lease_token, name=name, seq=seq, error=dict(error), retryable=retryable)
        return self._wf(id, "steps/fail", body)

    @operation("workflowSleep")
    def workflow_sleep(self, id: str, lease_token: str, name: str, duration_ms: int) -> Answer:
        """Sleeps durably: the run is suspended ("suspended": true) until
        wake_at, then claimed again; the replay's sleep answers at once."""
        return self._wf(id, "sleep", {"lease_token": lease_token, "name": name, "duration_ms": duration_ms})

    @operation("workflowWaitSignal")
    def workflow_wait_signal(self, id: str, lease_token: str, name: str,
                             timeout_ms: Optional[int] = None) -> Answer:
        """Takes the oldest signal name not yet taken, or suspends the run
        until one is sent or timeout_ms ends."""
        return self._wf(id, "wait-signal", _body(lease_token=lease_token, name=name, timeout_ms=timeout_ms))

    @operation("workflowComplete")
    def workflow_complete(self, id: str, lease_token: str, output: JSON = None) -> Answer:
        """Ends the run in success with output."""
        return self._wf(id, "complete", {"lease_token": lease_token, "output": output})

    @operation("workflowFail")
    def workflow_fail(self, id: str, lease_token: str, error: Mapping[str, Any],
                      retryable: Optional[bool] = None) -> Answer:
        """Fails the run's attempt; error is {"code", "message"?}.
        retryable False ends it for good."""
        return self._wf(id, "fail", _body(lease_token=lease_token, error=dict(error), retryable=retryable))

    # ---- dead letters -----------------------------------------------------

    @operation("listDeadLetters")
    def list_dead_letters(self, *, namespace: Optional[str] = None, queue: Optional[str] = None,
                          cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of jobs that failed for good: {"dead_letters",
        "next_cursor"}."""
        return self._get("/v1/dead-letters", namespace=self._ns(namespace), queue=queue, cursor=cursor, limit=limit)

    def iter_dead_letters(self, *, namespace: Optional[str] = None, queue: Optional[str] = None,
                          limit: Optional[int] = None) -> Iterator[Answer]:
        """Every dead letter matching."""
        return self._pages(self.list_dead_letters, "dead_letters", namespace=namespace, queue=queue, limit=limit)

    @operation("getDeadLetter")
    def get_dead_letter(self, id: str) -> Answer:
        """One dead letter (the task)."""
        return self._get("/v1/dead-letters/%s" % _seg(id))

    @operation("requeueDeadLetters")
    def requeue_dead_letters(self, ids: Optional[Sequence[str]] = None, *, namespace: Optional[str] = None,
                             queue: Optional[str] = None, limit: Optional[int] = None, reason: Optional[str] = None,
                             idempotency_key: Optional[str] = None) -> Answer:
        """Requeues dead letters, by ids or by a selection (namespace,
        queue, limit: the newest); answers {"requeued", "skipped"}."""
        if ids is not None:
            body = _body(ids=list(ids), namespace=namespace, queue=queue, limit=limit, reason=reason)
        else:
            body = _body(namespace=self._ns(namespace), queue=queue, limit=limit, reason=reason)
        return self._post("/v1/dead-letters/requeue", body, idempotency_key)

    # ---- workers ---------------------------------------------------------

    @operation("listWorkers")
    def list_workers(self, *, namespace: Optional[str] = None, queue: Optional[str] = None,
                     cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of the workers seen lately: {"workers", "next_cursor"}."""
        return self._get("/v1/workers", namespace=self._ns(namespace), queue=queue, cursor=cursor, limit=limit)

    def iter_workers(self, *, namespace: Optional[str] = None, queue: Optional[str] = None,
                     limit: Optional[int] = None) -> Iterator[Answer]:
        """Every worker matching."""
        return self._pages(self.list_workers, "workers", namespace=namespace, queue=queue, limit=limit)

    @operation("getWorker")
    def get_worker(self, id: str, *, namespace: Optional[str] = None) -> Answer:
        """One worker by its worker_id."""
        return self._get("/v1/workers/%s" % _seg(id), namespace=self._ns(namespace))

    @operation("drainWorker")
    def drain_worker(self, id: str, *, namespace: Optional[str] = None,
                     idempotency_key: Optional[str] = None) -> Answer:
        """Asks a worker to stop claiming and exit after its jobs (it hears
        it in its next claim or heartbeat answer)."""
        return self._post("/v1/workers/%s/drain" % _seg(id), None, idempotency_key,
                          query={"namespace": self._ns(namespace)})

    # ---- queues ----------------------------------------------------------

    @operation("listQueues")
    def list_queues(self, *, namespace: Optional[str] = None, cursor: Optional[str] = None,
                    limit: Optional[int] = None) -> Answer:
        """One page of queues with their depth: {"queues", "next_cursor"}."""
        return self._get("/v1/queues", namespace=self._ns(namespace), cursor=cursor, limit=limit)

    def iter_queues(self, *, namespace: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every queue."""
        return self._pages(self.list_queues, "queues", namespace=namespace, limit=limit)

    @operation("getQueue")
    def get_queue(self, name: str, *, namespace: Optional[str] = None) -> Answer:
        """One queue: limits, depth, throughput."""
        return self._get("/v1/queues/%s" % _seg(name), namespace=self._ns(namespace))

    @operation("configureQueue")
    def configure_queue(self, name: str, *, namespace: Optional[str] = None,
                        concurrency_limit: Optional[int] = UNSET, key_concurrency_limit: Optional[int] = UNSET,
                        rate_limit: Optional[Mapping[str, Any]] = UNSET,
                        idempotency_key: Optional[str] = None) -> Answer:
        """Changes a queue's limits: a limit left out is kept, None removes
        it; answers the queue."""
        body = {k: v for k, v in (("concurrency_limit", concurrency_limit),
                                  ("key_concurrency_limit", key_concurrency_limit),
                                  ("rate_limit", rate_limit)) if v is not UNSET}
        if not body:
            raise ValueError("configure_queue: give concurrency_limit, key_concurrency_limit or rate_limit")
        return cast(Answer, self._http.request("PATCH", "/v1/queues/%s" % _seg(name),
                                               query={"namespace": self._ns(namespace)}, body=body,
                                               headers=_idem(idempotency_key)))

    @operation("pauseQueue")
    def pause_queue(self, name: str, *, namespace: Optional[str] = None,
                    idempotency_key: Optional[str] = None) -> Answer:
        """Stops claims from a queue; answers the queue."""
        return self._post("/v1/queues/%s/pause" % _seg(name), None, idempotency_key,
                          query={"namespace": self._ns(namespace)})

    @operation("resumeQueue")
    def resume_queue(self, name: str, *, namespace: Optional[str] = None,
                     idempotency_key: Optional[str] = None) -> Answer:
        """Lets claims take from a paused queue again; answers the queue."""
        return self._post("/v1/queues/%s/resume" % _seg(name), None, idempotency_key,
                          query={"namespace": self._ns(namespace)})

    # ---- schedules ---------------------------------------------------------

    @operation("createSchedule")
    def create_schedule(self, name: str, cron: str, target: Mapping[str, Any], *,
                        namespace: Optional[str] = None, timezone: Optional[str] = None,
                        catchup: Optional[str] = None, catchup_max: Optional[int] = None,
                        overlap: Optional[str] = None, paused: Optional[bool] = None) -> Answer:
        """Creates a cron schedule; answers the schedule. target is what
        each firing starts: {"kind": "job", "queue", ...} (a job, as
        enqueue), {"kind": "workflow", "type", "queue", "input", ...} (a
        workflow run, as start_workflow) or {"kind": "template",
        "template": "name@version", "context"} (a template run). overlap:
        "queue" (default), "skip" or "cancel_previous"."""
        body = _body(namespace=self._ns(namespace), name=name, cron=cron, timezone=timezone, target=dict(target),
                     catchup=catchup, catchup_max=catchup_max, overlap=overlap, paused=paused)
        return self._post("/v1/schedules", body)

    @operation("listSchedules")
    def list_schedules(self, *, namespace: Optional[str] = None, cursor: Optional[str] = None,
                       limit: Optional[int] = None) -> Answer:
        """One page of schedules by name: {"schedules", "next_cursor"}."""
        return self._get("/v1/schedules", namespace=self._ns(namespace), cursor=cursor, limit=limit)

    def iter_schedules(self, *, namespace: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every schedule of a namespace."""
        return self._pages(self.list_schedules, "schedules", namespace=namespace, limit=limit)

    @operation("getSchedule")
    def get_schedule(self, name: str, *, namespace: Optional[str] = None, next: Optional[int] = None) -> Answer:
        """One schedule, with its next fire times (next: how many)."""
        return self._get("/v1/schedules/%s" % _seg(name), namespace=self._ns(namespace), next=next)

    @operation("deleteSchedule")
    def delete_schedule(self, name: str, *, namespace: Optional[str] = None) -> None:
        """Deletes a schedule (its jobs stay)."""
        self._http.request("DELETE", "/v1/schedules/%s" % _seg(name), query={"namespace": self._ns(namespace)})

    def _sched(self, name: str, action: str, namespace: Optional[str]) -> Answer:
        return self._post("/v1/schedules/%s/%s" % (_seg(name), action), None,
                          query={"namespace": self._ns(namespace)})

    @operation("pauseSchedule")
    def pause_schedule(self, name: str, *, namespace: Optional[str] = None) -> Answer:
        """Stops a schedule firing; answers the schedule."""
        return self._sched(name, "pause", namespace)

    @operation("resumeSchedule")
    def resume_schedule(self, name: str, *, namespace: Optional[str] = None) -> Answer:
        """Fires a paused schedule again, from the cron's next time after
        now (times missed while paused are not fired)."""
        return self._sched(name, "resume", namespace)

    @operation("triggerSchedule")
    def trigger_schedule(self, name: str, *, namespace: Optional[str] = None) -> Answer:
        """Starts the schedule's job now, paused or not; the answer's
        last_job_id is the job started."""
        return self._sched(name, "trigger", namespace)

    # ---- incoming webhooks -------------------------------------------------

    @operation("createHook")
    def create_hook(self, name: str, target: Mapping[str, Any], *, namespace: Optional[str] = None,
                    scheme: Optional[str] = None, secret: Optional[str] = None,
                    replay_window_secs: Optional[int] = None) -> Answer:
        """Creates an incoming webhook that starts target (as a schedule's)
        with each delivery's body as input. scheme: "weft" (default) or
        "github". The answer carries the secret (made by the server when
        not given): it is answered only here and by rotate_hook_secret."""
        body = _body(namespace=self._ns(namespace), name=name, target=dict(target), scheme=scheme, secret=secret,
                     replay_window_secs=replay_window_secs)
        return self._post("/v1/hooks", body)

    @operation("listHooks")
    def list_hooks(self, *, namespace: Optional[str] = None, cursor: Optional[str] = None,
                   limit: Optional[int] = None) -> Answer:
        """One page of hooks by name: {"hooks", "next_cursor"}."""
        return self._get("/v1/hooks", namespace=self._ns(namespace), cursor=cursor, limit=limit)

    def iter_hooks(self, *, namespace: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Answer]:
        """Every hook of a namespace."""
        return self._pages(self.list_hooks, "hooks", namespace=namespace, limit=limit)

    @operation("getHook")
    def get_hook(self, name: str, *, namespace: Optional[str] = None) -> Answer:
        """One hook (never its secret)."""
        return self._get("/v1/hooks/%s" % _seg(name), namespace=self._ns(namespace))

    @operation("deleteHook")
    def delete_hook(self, name: str, *, namespace: Optional[str] = None) -> None:
        """Deletes a hook (the runs it started stay)."""
        self._http.request("DELETE", "/v1/hooks/%s" % _seg(name), query={"namespace": self._ns(namespace)})

    @operation("rotateHookSecret")
    def rotate_hook_secret(self, name: str, *, namespace: Optional[str] = None,
                           secret: Optional[str] = None) -> Answer:
        """Replaces a hook's secret (made by the server when not given);
        answers the hook with its new secret."""
        return self._post("/v1/hooks/%s/rotate" % _seg(name), _body(secret=secret),
                          query={"namespace": self._ns(namespace)})

    @operation("deliverHook")
    def deliver_hook(self, name: str, body: bytes, secret: str, *, namespace: Optional[str] = None,
                     scheme: str = "weft", delivery_id: Optional[str] = None,
                     timestamp: Optional[int] = None) -> Answer:
        """Sends a delivery to a hook, signed with secret in its scheme
        ("weft": X-Weft-Signature at timestamp, default now; "github":
        X-Hub-Signature-256): {"run_id", "duplicate", ...}."""
        import hashlib
        import hmac
        import time
        headers: Dict[str, str] = {"Content-Type": "application/octet-stream"}
        if scheme == "github":
            mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = "sha256=" + mac
            if delivery_id is not None:
                headers["X-GitHub-Delivery"] = delivery_id
        else:
            t = int(time.time()) if timestamp is None else int(timestamp)
            mac = hmac.new(secret.encode("utf-8"), b"%d." % t + body, hashlib.sha256).hexdigest()
            headers["X-Weft-Signature"] = "t=%d,v1=%s" % (t, mac)
            if delivery_id is not None:
                headers["X-Weft-Delivery"] = delivery_id
        ns = namespace if namespace is not None else self.namespace
        return cast(Answer, self._http.request("POST", "/v1/hooks/%s" % _seg(name), query={"namespace": ns},
                                               headers=headers, raw_body=body))

    # ---- events and subscriptions ------------------------------------------

    @operation("publishEvent")
    def publish_event(self, topic: str, payload: Any = UNSET, *, namespace: Optional[str] = None,
                      id: Optional[str] = None) -> Answer:
        """Publishes an event: each matching subscription's target starts
        once. id is the event's idempotency key: published again, the
        recorded event is answered and nothing more is done."""
        body = _body(namespace=self._ns(namespace), topic=topic, id=id)
        if payload is not UNSET:
            body["payload"] = payload
        return self._post("/v1/events", body)

    @operation("listEvents")
    def list_events(self, *, namespace: Optional[str] = None, topic: Optional[str] = None,
                    cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of events, newest first: {"events", "next_cursor"}."""
        return self._get("/v1/events", namespace=self._ns(namespace), topic=topic, cursor=cursor, limit=limit)

    def iter_events(self, *, namespace: Optional[str] = None, topic: Optional[str] = None,
                    limit: Optional[int] = None) -> Iterator[Answer]:
        """Every event of a namespace (of one topic when given), newest first."""
        return self._pages(self.list_events, "events", namespace=namespace, topic=topic, limit=limit)

    @operation("getEvent")
    def get_event(self, id: str, *, namespace: Optional[str] = None) -> Answer:
        """An event with its deliveries, each with its run's id and outcome."""
        return self._get("/v1/events/%s" % _seg(id), namespace=self._ns(namespace))

    @operation("createSubscription")
    def create_subscription(self, name: str, topic: str, target: Mapping[str, Any], *,
                            namespace: Optional[str] = None) -> Answer:
        """Subscribes target to topic: exact ("orders.paid"), a prefix
        ("orders.*") or every topic ("*")."""
        body = _body(namespace=self._ns(namespace), name=name, topic=topic, target=dict(target))
        return self._post("/v1/subscriptions", body)

    @operation("listSubscriptions")
    def list_subscriptions(self, *, namespace: Optional[str] = None, cursor: Optional[str] = None,
                           limit: Optional[int] = None) -> Answer:
        """One page of subscriptions by name: {"subscriptions", "next_cursor"}."""
        return self._get("/v1/subscriptions", namespace=self._ns(namespace), cursor=cursor, limit=limit)

    def iter_subscriptions(self, *, namespace: Optional[str] = None,
                           limit: Optional[int] = None) -> Iterator[Answer]:
        """Every subscription of a namespace."""
        return self._pages(self.list_subscriptions, "subscriptions", namespace=namespace, limit=limit)

    @operation("getSubscription")
    def get_subscription(self, name: str, *, namespace: Optional[str] = None) -> Answer:
        """One subscription."""
        return self._get("/v1/subscriptions/%s" % _seg(name), namespace=self._ns(namespace))

    @operation("deleteSubscription")
    def delete_subscription(self, name: str, *, namespace: Optional[str] = None) -> None:
        """Deletes a subscription (the runs it started stay)."""
        self._http.request("DELETE", "/v1/subscriptions/%s" % _seg(name), query={"namespace": self._ns(namespace)})

    # ---- templates ---------------------------------------------------------

    @operation("createTemplate")
    def create_template(self, name: str, version: str, steps: Sequence[Mapping[str, Any]], *,
                        namespace: Optional[str] = None, description: Optional[str] = None) -> Answer:
        """Registers a template version (steps: tasks of a run); the same
        body again answers the stored version, another body raises a
        conflict."""
        body = _body(namespace=self._ns(namespace), name=name, version=version, description=description,
                     steps=list(steps))
        return self._post("/v1/templates", body)

    @operation("listTemplates")
    def list_templates(self, *, namespace: Optional[str] = None, name: Optional[str] = None,
                       cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of template versions, newest first: {"templates", "next_cursor"}."""
        return self._get("/v1/templates", namespace=self._ns(namespace), name=name, cursor=cursor, limit=limit)

    def iter_templates(self, *, namespace: Optional[str] = None, name: Optional[str] = None,
                       limit: Optional[int] = None) -> Iterator[Answer]:
        """Every template version of a namespace (of one name when given)."""
        return self._pages(self.list_templates, "templates", namespace=namespace, name=name, limit=limit)

    @operation("getTemplate")
    def get_template(self, name: str, version: str, *, namespace: Optional[str] = None) -> Answer:
        """One template version, with its body."""
        return self._get("/v1/templates/%s/%s" % (_seg(name), _seg(version)), namespace=self._ns(namespace))

    @operation("runTemplate")
    def run_template(self, name: str, version: str, *, context: Any = None, namespace: Optional[str] = None,
                     idempotency_key: Optional[str] = None, identity: Optional[str] = None) -> Answer:
        """Starts a run of a template version with a context; a request of
        the same identity ("context", "key" or "none") answers the run it
        started ({"id", ..., "created": false})."""
        body = _body(namespace=self._ns(namespace), idempotency_key=idempotency_key, identity=identity)
        body["context"] = context
        return self._post("/v1/templates/%s/%s/runs" % (_seg(name), _seg(version)), body)

    # ---- tokens (admin) ----------------------------------------------------

    @operation("listTokens")
    def list_tokens(self) -> Answer:
        """Every token the server knows, by name: {"tokens": [...]} (never
        their secrets)."""
        return self._get("/v1/tokens")

    @operation("createToken")
    def create_token(self, name: str, namespaces: Sequence[str], role: str, *,
                     expires_at: Optional[str] = None, idempotency_key: Optional[str] = None) -> Answer:
        """Creates a token (role "admin" or "client"; namespaces, or
        ["*"]); the answer's "secret" is shown only here."""
        body = _body(name=name, namespaces=list(namespaces), role=role, expires_at=expires_at)
        return self._post("/v1/tokens", body, idempotency_key)

    @operation("getToken")
    def get_token(self, name: str) -> Answer:
        """One token by name."""
        return self._get("/v1/tokens/%s" % _seg(name))

    @operation("revokeToken")
    def revoke_token(self, name: str) -> Answer:
        """Revokes a token made through the API; answers it with
        revoked_at."""
        return cast(Answer, self._http.request("DELETE", "/v1/tokens/%s" % _seg(name)))

    @operation("whoami")
    def whoami(self) -> Answer:
        """The client's own token, for any token: {"token": name or None,
        "admin", "namespaces": [...] or ["*"], "default_namespace"}."""
        return self._get("/v1/whoami")

    # ---- the audit log ---------------------------------------------------------

    @operation("listAudit")
    def list_audit(self, *, since: Optional[str] = None, until: Optional[str] = None, actor: Optional[str] = None,
                   action: Optional[str] = None, object_kind: Optional[str] = None,
                   object_id: Optional[str] = None, namespace: Optional[str] = None,
                   cursor: Optional[str] = None, limit: Optional[int] = None) -> Answer:
        """One page of the audit log, newest first: {"entries",
        "next_cursor"} (admin tokens). since and until are RFC 3339 times;
        namespace is only the one given (not the client's default: the log
        spans namespaces)."""
        return self._get("/v1/audit", since=since, until=until, actor=actor, action=action,
                         object_kind=object_kind, object_id=object_id, namespace=namespace, cursor=cursor,
                         limit=limit)

    def iter_audit(self, *, since: Optional[str] = None, until: Optional[str] = None, actor: Optional[str] = None,
                   action: Optional[str] = None, object_kind: Optional[str] = None,
                   object_id: Optional[str] = None, namespace: Optional[str] = None,
                   limit: Optional[int] = None) -> Iterator[Answer]:
        """Every audit entry matching, newest first."""
        return self._pages(self.list_audit, "entries", since=since, until=until, actor=actor, action=action,
                           object_kind=object_kind, object_id=object_id, namespace=namespace, limit=limit)


__all__: List[str] = ["Client", "UNSET", "DEFAULT_URL"]
