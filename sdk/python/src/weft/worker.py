"""weft.Worker: a pull worker that runs a Python function for each job.

Threads: one claims (max_jobs = the free handler slots, long-polling the
server for wait_ms), a pool of `concurrency` threads runs the handler,
one sends a single batched heartbeat for every lease held each
heartbeat_ms, and one reports outcomes in batched complete/fail calls.
Reports are never held back to make a batch: the reporter sends what has
finished as soon as it is idle, and what finishes while a request is in
flight joins the next one.

A lease the server answers `canceled` or `lost` (to a heartbeat) sets the
job's ``canceled`` event; the handler should stop, and nothing is
reported for it. A handler that raises fails the attempt: retryable,
unless it raised NonRetryable (or JobFailed(retryable=False)).

Stopping: stop() (from any thread), SIGTERM or SIGINT (when run() runs on
the main thread), or a heartbeat/claim answer with drain true: no new
claims, the claim waiting on the server is cut short, the jobs in hand
finish and are reported, run() returns. A second signal gives the leases
still held back and exits the process at once (status 128 + signal).
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .client import Client
# JobFailed and NonRetryable are also importable from here, where they were first.
from ._failure import JobFailed as JobFailed, NonRetryable as NonRetryable, clip as _clip, error_code as _error_code
from .errors import BadRequestError, RateLimitedError, ServerError, WeftConnectionError, WeftError
from .workflow import WorkflowHandler, run_workflow

log = logging.getLogger("weft.worker")

ITEMS_PER_REQUEST = 1000          # the API's limit on the items of one request
REPORT_BYTES_PER_REQUEST = 8 << 20  # well under the server's 16 MiB body limit
RETRY_MIN_S = 0.1
RETRY_MAX_S = 5.0
# A claim in flight longer than this is parked on the server waiting for a
# job, and a drain cuts it short; a younger one is let finish (its jobs are
# then given back) so that no job is handed to a connection being closed.
PARKED_AFTER_S = 0.5
# An empty claim answer quicker than this did not wait on the server; the
# next claim then waits EMPTY_PAUSE_S.
EMPTY_ANSWER_S = 0.1
EMPTY_PAUSE_S = 0.5


class Job:
    """A claimed job, as the handler sees it."""

    def __init__(self, claimed: Dict[str, Any], client: Optional[Client] = None) -> None:
        self.raw = claimed
        self._client = client
        self.id: str = claimed["id"]
        self.lease_token: str = str(claimed["lease_token"])
        self.run_id: Optional[str] = claimed.get("run_id")
        self.queue: Optional[str] = claimed.get("queue")
        self.name: Optional[str] = claimed.get("name")
        self.attempt: int = int(claimed.get("attempt") or 1)
        self.max_attempts: Optional[int] = claimed.get("max_attempts")
        self.input: Any = claimed.get("input")
        self.metadata: Any = claimed.get("metadata")
        self.parents: List[Dict[str, Any]] = claimed.get("parents") or []
        self.lease_until: Optional[str] = claimed.get("lease_until")
        self.timeout_at: Optional[str] = claimed.get("timeout_at")
        #: Set when the server took the lease back (the job was canceled,
        #: or the lease was lost): stop the work, its outcome is dropped.
        self.canceled = threading.Event()
        self._progress: Any = None
        self._has_progress = False

    def set_progress(self, value: Any) -> None:
        """JSON (at most 4 KiB) sent with the next heartbeat and kept on
        the job."""
        self._progress = value
        self._has_progress = True

    def log(self, *lines: str, stream: str = "stdout", level: Optional[str] = None) -> None:
        """Appends lines to this attempt's log (GET /v1/tasks/{id}/logs
        reads them), sent at once, at most 1,000 a call. stream: "stdout"
        or "stderr"; level: "debug", "info", "warn", "error" (default by
        stream)."""
        if self._client is None:
            raise RuntimeError("this job has no client to send its log lines with")
        items: List[Dict[str, Any]] = []
        for text in lines:
            item: Dict[str, Any] = {"text": str(text), "stream": stream}
            if level is not None:
                item["level"] = level
            items.append(item)
        for start in range(0, len(items), 1000):
            self._client.append_job_logs(self.id, self.lease_token, items[start:start + 1000])

    def __repr__(self) -> str:
        return "Job(%s, queue=%r, attempt=%d)" % (self.id, self.queue, self.attempt)


Handler = Callable[[Job], Any]


class _Held:
    """A job whose lease this worker holds, until its outcome is reported
    (or the lease is gone)."""

    __slots__ = ("job", "lost", "report", "size", "sending")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.lost = False
        self.report: Optional[Tuple[str, Dict[str, Any]]] = None   # ("complete"|"fail", item)
        self.size = 0
        self.sending = False


def _retryable(e: WeftError) -> bool:
    return isinstance(e, (WeftConnectionError, ServerError, RateLimitedError))


class Worker:
    """Runs handler(job) for the jobs of queues; see the module's text.
    A job whose name is a workflow type registered with workflow() or
    register_workflow() runs that workflow's handler instead (see
    weft.workflow); handler may then be left out.

    concurrency: handlers run at once (1..1000). lease_ms: each lease's
    length, renewed by heartbeats. wait_ms: how long a claim waits on the
    server for a job. worker_id defaults to host-pid-random; namespace to
    the client's.
    """

    def __init__(self, client: Client, queues: Sequence[str], handler: Optional[Handler] = None, *,
                 concurrency: int = 1, lease_ms: int = 30000, wait_ms: int = 20000,
                 worker_id: Optional[str] = None, hostname: Optional[str] = None,
                 namespace: Optional[str] = None) -> None:
        if isinstance(queues, str):
            queues = [queues]
        if not 1 <= len(queues) <= 16:
            raise ValueError("Worker: queues: give 1 to 16 queue names")
        if not 1 <= concurrency <= 1000:
            raise ValueError("Worker: concurrency must be 1..1000")
        if not 1000 <= lease_ms <= 3600000:
            raise ValueError("Worker: lease_ms must be 1000..3600000")
        if not 0 <= wait_ms <= 60000:
            raise ValueError("Worker: wait_ms must be 0..60000")
        self.client = client
        self.queues = list(queues)
        self.handler = handler
        self._workflows: Dict[str, WorkflowHandler] = {}
        self.concurrency = concurrency
        self.lease_ms = lease_ms
        self.wait_ms = wait_ms
        self.hostname = hostname or socket.gethostname() or "localhost"
        self.worker_id = worker_id or "%.100s-%d-%06x" % (self.hostname, os.getpid(), random.getrandbits(24))
        self.namespace = namespace
        self.completed = 0     # outcomes the server took, for the closing line
        self.failed = 0

        self._lock = threading.Lock()
        self._claim_cv = threading.Condition(self._lock)
        self._report_cv = threading.Condition(self._lock)
        self._beat_cv = threading.Condition(self._lock)
        self._held: Dict[str, _Held] = {}
        self._busy = 0
        self._to_report = 0
        self._heartbeat_s = lease_ms / 3000.0
        self._draining = False
        self._claims_done = False
        self._closing = False
        self._fatal: Optional[BaseException] = None
        self._claim_started: Optional[float] = None
        self._claim_thread: Optional[threading.Thread] = None
        self._wake_r, self._wake_w = -1, -1
        self._signals: List[int] = []
        self._ran = False

    # ---- workflows ---------------------------------------------------------

    def register_workflow(self, type: str, handler: WorkflowHandler) -> None:
        """Runs handler(wf, input) for the runs of workflow type (the jobs
        of this worker's queues named type); see weft.workflow."""
        if not isinstance(type, str) or not 1 <= len(type.encode("utf-8")) <= 255:
            raise ValueError("Worker.register_workflow: type must be a string of 1 to 255 bytes")
        if not callable(handler):
            raise TypeError("Worker.register_workflow: handler must be callable as handler(wf, input)")
        if type in self._workflows:
            raise ValueError("Worker.register_workflow: workflow type %r has a handler already" % type)
        self._workflows[type] = handler

    def workflow(self, type: str) -> Callable[[WorkflowHandler], WorkflowHandler]:
        """A decorator: ``@worker.workflow("order")`` on ``def order(wf,
        input)`` registers it for the runs of workflow type "order"."""
        def register(handler: WorkflowHandler) -> WorkflowHandler:
            self.register_workflow(type, handler)
            return handler
        return register

    # ---- control -----------------------------------------------------------

    def stop(self) -> None:
        """Drains: no new claims; the jobs in hand finish and are reported;
        run() then returns. Safe from any thread (not from a signal
        handler: run() installs its own)."""
        self._begin_drain("stop() called")

    def run(self) -> None:
        """Works until drained (stop(), SIGTERM/SIGINT, or the server's
        drain); raises the WeftError that made it stop, if one did (a bad
        token, say)."""
        if self.handler is None and not self._workflows:
            raise ValueError("Worker.run(): give a handler, or register a workflow")
        if self._ran:
            raise RuntimeError("Worker.run(): a worker runs once; make another")
        self._ran = True
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        old = self._install_signals()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="weft-handler")
        threads = [threading.Thread(target=self._claim_loop, args=(pool,), name="weft-claim", daemon=True),
                   threading.Thread(target=self._heartbeat_loop, name="weft-heartbeat", daemon=True),
                   threading.Thread(target=self._report_loop, name="weft-report", daemon=True)]
        self._claim_thread = threads[0]
        log.info("worker %s: %d slot(s) on %s, queues %s, lease %d ms", self.worker_id, self.concurrency,
                 self.client.url, ",".join(self.queues), self.lease_ms)
        for t in threads:
            t.start()
        try:
            self._supervise()
        finally:
            with self._lock:
                self._closing = True
                self._draining = True
                self._claim_cv.notify_all()
                self._report_cv.notify_all()
                self._beat_cv.notify_all()
            self._interrupt_claim()
            for t in threads:
                t.join(timeout=30)
            pool.shutdown(wait=self._fatal is None)
            self._restore_signals(old)
            wake_r, wake_w = self._wake_r, self._wake_w
            self._wake_r = self._wake_w = -1   # a late _wake() must not write to a reused descriptor
            os.close(wake_r)
            os.close(wake_w)
        if self._fatal is not None:
            raise self._fatal
        log.info("drained: %d completed, %d failed; stopped", self.completed, self.failed)

    # ---- the main thread ------------------------------------------------

    def _install_signals(self) -> Dict[Any, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        old: Dict[Any, Any] = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            old[sig] = signal.signal(sig, self._on_signal)
        # A signal the kernel hands to another thread only runs the Python
        # handler once the main thread wakes: the wakeup fd wakes it.
        old["wakeup_fd"] = signal.set_wakeup_fd(self._wake_w)
        return old

    @staticmethod
    def _restore_signals(old: Dict[Any, Any]) -> None:
        for sig, handler in old.items():
            if sig == "wakeup_fd":
                signal.set_wakeup_fd(handler)
            else:
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Only what is safe at any point of the main thread: no locks.
        self._signals.append(signum)
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass   # full pipe: the main thread has wake-ups pending anyway

    def _supervise(self) -> None:
        seen = 0
        while True:
            while seen < len(self._signals):
                seen += 1
                name = signal.Signals(self._signals[seen - 1]).name
                if seen == 1:
                    self._begin_drain(name)
                else:
                    self._exit_now(self._signals[seen - 1])
            with self._lock:
                if self._fatal is not None or self._finished():
                    return
            os.read(self._wake_r, 4096)

    def _finished(self) -> bool:
        return self._draining and self._claims_done and not self._held

    def _exit_now(self, signum: int) -> None:
        """The second signal: the leases still held go back, the process
        exits at once."""
        with self._lock:
            held = [h.job for h in self._held.values() if not h.lost]
        log.warning("second %s: giving %d lease(s) back and exiting", signal.Signals(signum).name, len(held))
        try:
            self._release(held)
        finally:
            logging.shutdown()
            os._exit(128 + signum)

    def _begin_drain(self, why: str) -> None:
        with self._lock:
            if self._draining:
                return
            self._draining = True
            self._claim_cv.notify_all()
            running = len(self._held)
            started = self._claim_started
        log.info("%s: draining: no new claims; %d job(s) in hand finish and are reported", why, running)
        if started is not None:
            delay = PARKED_AFTER_S - (time.monotonic() - started)
            if delay <= 0:
                self._interrupt_claim()
            else:
                t = threading.Timer(delay, self._interrupt_claim)
                t.daemon = True
                t.start()
        self._wake()

    def _interrupt_claim(self) -> None:
        """Cuts the claim in flight short (under the lock, so that it
        cannot reach a later request of the claim thread: that one clears
        _claim_started, then forgets the interrupt)."""
        t = self._claim_thread
        with self._lock:
            if t is not None and t.ident is not None and self._claim_started is not None:
                self.client._http.interrupt(t.ident)

    def _set_fatal(self, e: BaseException) -> None:
        log.error("%s: stopping", e)
        with self._lock:
            if self._fatal is None:
                self._fatal = e
            self._draining = True
            self._claim_cv.notify_all()
        self._wake()

    def _backoff(self, cv: threading.Condition, delay: float) -> float:
        """Waits delay (less when stopping) and returns the next delay."""
        with self._lock:
            if not self._closing:
                cv.wait(timeout=delay)
        return min(delay * 2, RETRY_MAX_S)

    # ---- claims ------------------------------------------------------------

    def _claim_loop(self, pool: ThreadPoolExecutor) -> None:
        delay = RETRY_MIN_S
        failing = False
        try:
            while True:
                with self._lock:
                    while not self._draining and self._busy >= self.concurrency:
                        self._claim_cv.wait()
                    if self._draining:
                        return
                    want = self.concurrency - self._busy
                    self._claim_started = asked = time.monotonic()
                try:
                    answer = self.client.claim(self.queues, self.worker_id, namespace=self.namespace,
                                               hostname=self.hostname, max_jobs=want, wait_ms=self.wait_ms,
                                               lease_ms=self.lease_ms)
                except WeftError as e:
                    with self._lock:
                        self._claim_started = None
                    self.client._http.forget_interrupt()
                    with self._lock:
                        if self._draining:
                            return
                    if not _retryable(e):
                        self._set_fatal(e)
                        return
                    if not failing:
                        log.warning("claim: %s (trying again until it answers)", e)
                    failing = True
                    delay = self._backoff(self._claim_cv, delay)
                    continue
                if failing:
                    log.info("claim: the server answers again")
                failing, delay = False, RETRY_MIN_S
                self._take(answer, want, pool)
                if not answer.get("jobs") and time.monotonic() - asked < EMPTY_ANSWER_S:
                    # nothing, at once (wait_ms 0, or a server that does not
                    # wait): pause rather than ask again and again
                    with self._lock:
                        if not self._draining:
                            self._claim_cv.wait(timeout=EMPTY_PAUSE_S)
        finally:
            with self._lock:
                self._claim_started = None
                self._claims_done = True
            self._wake()

    def _take(self, answer: Dict[str, Any], want: int, pool: ThreadPoolExecutor) -> None:
        jobs = [Job(j, self.client) for j in answer.get("jobs") or []]
        give_back: List[Job] = []
        with self._lock:
            self._claim_started = None
        self.client._http.forget_interrupt()
        with self._lock:
            if answer.get("drain") and not self._draining:
                log.info("the server asks this worker to drain: no new claims; %d job(s) in hand finish and are "
                         "reported", len(self._held))
                self._draining = True
                self._wake()
            for job in jobs:
                if self._draining or self._busy >= self.concurrency:
                    give_back.append(job)
                    continue
                self._held[job.id] = _Held(job)
                self._busy += 1
                hb = job.raw.get("heartbeat_ms")
                if isinstance(hb, int) and hb > 0:
                    self._heartbeat_s = min(self._heartbeat_s, hb / 1000.0)
                pool.submit(self._handle, job)
            if jobs:
                self._beat_cv.notify()
        if give_back:
            self._release(give_back)

    def _release(self, jobs: Sequence[Job]) -> None:
        for i in range(0, len(jobs), ITEMS_PER_REQUEST):
            part = jobs[i:i + ITEMS_PER_REQUEST]
            try:
                self.client.release([{"id": j.id, "lease_token": j.lease_token} for j in part])
                log.info("gave %d lease(s) back", len(part))
            except WeftError as e:
                log.warning("giving %d lease(s) back: %s (they will expire instead)", len(part), e)

    # ---- handlers ----------------------------------------------------------

    def _handle(self, job: Job) -> None:
        report = self._outcome(job)
        with self._lock:
            self._busy -= 1
            self._claim_cv.notify()
            held = self._held.get(job.id)
            if held is None:
                return
            if held.lost or report is None:
                del self._held[job.id]
                self._wake()
                return
            held.report, held.size = report
            self._to_report += 1
            self._report_cv.notify()

    def _outcome(self, job: Job) -> Optional[Tuple[Tuple[str, Dict[str, Any]], int]]:
        """The report of one run of the handler, and its size; None when
        there is nothing to report (a workflow reports its own end)."""
        workflow = self._workflows.get(job.name or "")
        if workflow is not None:
            ended = run_workflow(self.client, job, workflow, self.lease_ms / 1000.0)
            with self._lock:
                if ended == "completed":
                    self.completed += 1
                elif ended == "failed":
                    self.failed += 1
            return None
        if self.handler is None:
            unknown = JobFailed("this worker has no handler for jobs named %r" % job.name, code="unknown_workflow")
            return self._failure(job, unknown, unknown.code, unknown.message, True, None, None)
        try:
            result = self.handler(job)
        except JobFailed as e:
            return self._failure(job, e, e.code, e.message, e.retryable, e.details, e.retry_after_ms)
        except BaseException as e:  # a handler's SystemExit fails its job, not the worker
            return self._failure(job, e, _error_code(e), "%s: %s" % (type(e).__name__, e), True, None, None)
        try:
            size = len(json.dumps(result, separators=(",", ":")))
        except (TypeError, ValueError) as e:
            return self._failure(job, e, "result_not_json", "the handler's result is not JSON: %s" % e, False,
                                 None, None)
        return ("complete", {"id": job.id, "lease_token": job.lease_token, "result": result}), size

    @staticmethod
    def _failure(job: Job, e: BaseException, code: str, message: str, retryable: bool, details: Any,
                 retry_after_ms: Optional[int]) -> Tuple[Tuple[str, Dict[str, Any]], int]:
        if details is None and not isinstance(e, JobFailed):
            details = {"type": type(e).__name__,
                       "traceback": _clip("".join(traceback.format_exception(type(e), e, e.__traceback__)), 8000)}
        log.info("job %s (attempt %d): failed: %s: %.300s", job.id, job.attempt, code, message)
        error: Dict[str, Any] = {"code": code, "message": _clip(message, 4096), "retryable": retryable}
        if details is not None:
            error["details"] = details
        item: Dict[str, Any] = {"id": job.id, "lease_token": job.lease_token, "error": error}
        if retry_after_ms is not None:
            item["retry_after_ms"] = retry_after_ms
        return ("fail", item), 512 + len(message)

    # ---- heartbeats ------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        delay = RETRY_MIN_S
        failing = False
        due: Optional[float] = None     # the next beat, a period after the last (or the first claim)
        with self._lock:
            while not self._closing:
                if not self._held:
                    due = None
                    self._beat_cv.wait()
                    continue
                now = time.monotonic()
                if due is None:
                    due = now + self._heartbeat_s
                if now < due:
                    self._beat_cv.wait(timeout=due - now)   # woken early by a claim or the end: look again
                    continue
                due = now + (delay if failing else self._heartbeat_s)
                leases = []
                for h in self._held.values():
                    if h.lost:
                        continue
                    lease: Dict[str, Any] = {"id": h.job.id, "lease_token": h.job.lease_token}
                    if h.job._has_progress:
                        lease["progress"] = h.job._progress
                    leases.append(lease)
                if not leases:
                    continue
                self._lock.release()
                try:
                    answers, error = [], None
                    for i in range(0, len(leases), ITEMS_PER_REQUEST):
                        answers.append(self.client.heartbeat(self.worker_id, leases[i:i + ITEMS_PER_REQUEST],
                                                             lease_ms=self.lease_ms))
                except WeftError as e:
                    error = e
                finally:
                    self._lock.acquire()
                if error is not None:
                    if not _retryable(error):
                        self._lock.release()
                        try:
                            self._set_fatal(error)
                        finally:
                            self._lock.acquire()
                        return
                    if not failing:
                        log.warning("heartbeat: %s (trying again until it answers)", error)
                    delay = min(delay * 2, RETRY_MAX_S) if failing else RETRY_MIN_S
                    failing = True
                    due = time.monotonic() + delay
                    continue
                if failing:
                    log.info("heartbeat: the server answers again")
                failing = False
                drain = [self._heard(answer) for answer in answers]
                if any(drain) and not self._draining:
                    self._lock.release()
                    try:
                        self._begin_drain("the server asks this worker to drain")
                    finally:
                        self._lock.acquire()

    def _heard(self, answer: Dict[str, Any]) -> bool:
        """Takes a heartbeat's answer in (lock held); True when it asks
        this worker to drain."""
        for state in answer.get("leases") or []:
            if state.get("state") == "held":
                continue
            h = self._held.get(state.get("id"))
            if h is None or h.lost or h.sending:
                continue   # a report in flight ends the attempt: its answer tells
            log.info("job %s: the lease is %s: stopping it, nothing will be reported", h.job.id, state.get("state"))
            h.lost = True
            h.job.canceled.set()
            if h.report is not None:   # finished, not yet sent: dropped
                del self._held[h.job.id]
                self._to_report -= 1
                self._wake()
        return bool(answer.get("drain"))

    # ---- reports -----------------------------------------------------------

    def _report_loop(self) -> None:
        while True:
            with self._lock:
                while self._to_report == 0 and not self._closing:
                    self._report_cv.wait()
                if self._closing:
                    return
                batch = self._take_reports()
            fails = [h for h in batch if h.report is not None and h.report[0] == "fail"]
            completes = [h for h in batch if h.report is not None and h.report[0] == "complete"]
            ok = self._send(fails, "fail") and self._send(completes, "complete")
            if not ok:
                return
            with self._lock:
                for h in batch:
                    if self._held.get(h.job.id) is h:
                        del self._held[h.job.id]
                self._wake()

    def _take_reports(self) -> List[_Held]:
        """The finished jobs for one request of each kind (lock held)."""
        batch: List[_Held] = []
        counts = {"complete": 0, "fail": 0}
        size = 0
        for h in self._held.values():
            if h.report is None or h.lost or h.sending:
                continue
            kind = h.report[0]
            if counts[kind] >= ITEMS_PER_REQUEST or (batch and size + h.size > REPORT_BYTES_PER_REQUEST):
                continue
            counts[kind] += 1
            size += h.size
            h.sending = True
            batch.append(h)
        self._to_report -= len(batch)
        return batch

    def _send(self, batch: List[_Held], kind: str, alone: bool = False) -> bool:
        """One request with these outcomes, sent again while the failure
        may pass. False when the worker must stop. alone: a refusal as bad
        is raised (BadRequestError) rather than split."""
        if not batch:
            return True
        call = self.client.fail if kind == "fail" else self.client.complete
        items = [h.report[1] for h in batch if h.report is not None]
        delay, failing = RETRY_MIN_S, False
        while True:
            try:
                answer = call(items)
                break
            except BadRequestError as e:
                if alone:
                    raise
                return self._send_alone(batch, kind, e)
            except WeftError as e:
                if not _retryable(e):
                    self._set_fatal(e)
                    return False
                with self._lock:
                    if self._closing:
                        return False
                if not failing:
                    log.warning("%s: %s (trying again until it answers)", kind, e)
                failing = True
                delay = self._backoff(self._report_cv, delay)
        if failing:
            log.info("%s: the server answers again", kind)
        self._tally(kind, answer)
        return True

    def _send_alone(self, batch: List[_Held], kind: str, why: WeftError) -> bool:
        """The server refused a batch as bad: one outcome in it is at fault
        (a result it will not take, say). Each is sent alone; a result
        refused alone becomes a failure, result_rejected, not retryable,
        so that one job's output cannot stop the worker."""
        log.error("the server refused %s reports: %s; sending them one by one", kind, why)
        for h in batch:
            try:
                if not self._send([h], kind, alone=True):
                    return False
                continue
            except BadRequestError as e:
                why = e
            if kind == "complete":
                log.error("job %s: the server refused its result: %s; failing it", h.job.id, why)
                h.report = ("fail", {"id": h.job.id, "lease_token": h.job.lease_token,
                                     "error": {"code": "result_rejected", "retryable": False,
                                               "message": _clip("the server refused the result: %s" % why, 4000)}})
                try:
                    if not self._send([h], "fail", alone=True):
                        return False
                    continue
                except BadRequestError as e:
                    why = e
            log.error("job %s: the server refused its report: %s (its lease will expire)", h.job.id, why)
        return True

    def _tally(self, kind: str, answer: Dict[str, Any]) -> None:
        for r in answer.get("results") or []:
            outcome = r.get("outcome")
            if outcome in ("completed", "already_completed"):
                with self._lock:   # workflow handlers count their runs too
                    self.completed += 1
            elif outcome in ("retrying", "dead_lettered", "already_failed"):
                with self._lock:
                    self.failed += 1
            else:
                log.info("job %s: %s answered %s (the server had already ended this attempt)", r.get("id"), kind,
                         outcome)
