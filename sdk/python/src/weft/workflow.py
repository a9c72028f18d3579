"""Durable workflows on weft.Worker: the step API a workflow handler uses.

A workflow run is a job whose name is the workflow's type. A Worker with
a handler registered for that type (``@worker.workflow("order")``) runs
``handler(wf, input)`` for it, from the top on every attempt (a replay);
the server remembers what finished:

* ``wf.step(name, fn, *args)`` runs ``fn(*args)`` once: when the step
  completed in an earlier attempt it answers the stored output without
  calling fn. The output goes through JSON, on the first run as on a
  replay, so both see the same value (a tuple comes back a list).
* ``wf.sleep(name, seconds | timedelta)`` and ``wf.wait_signal(name,
  timeout=...)`` suspend the run: the server ends this attempt and claims
  the run again when it is due (or the signal comes).
* The handler's return value completes the run; an exception fails the
  attempt (retried under the run's policy unless it is NonRetryable, a
  JobFailed with retryable=False, or its code is non-retryable).

A suspension is a :class:`WorkflowInterrupt`, derived from BaseException
and not from Exception, so an ``except Exception:`` in the handler does
not catch it. Should a handler catch it anyway (``except BaseException:``
or a bare ``except:``), every later call of the step API raises it again,
whatever the handler returns is ignored, and the server refuses the
attempt's calls (409 stale_lease) in any case.

The handler must be deterministic between its step calls: the n-th call
of a name in an attempt maps to the same memo row on every replay. Steps
are not meant to be nested, and one handler's calls are made one after
another.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Union

from ._failure import ERROR_CODE, ERROR_MESSAGE_MAX, JobFailed, clip, error_code
from .client import Client
from .errors import (BadRequestError, ConflictError, NotFoundError, RateLimitedError, ServerError, WeftConnectionError,
                     WeftError)

if TYPE_CHECKING:
    from .worker import Job

log = logging.getLogger("weft.workflow")

Seconds = Union[int, float, datetime.timedelta]
DELAY_MAX_MS = 365 * 86400 * 1000   # the API's limit on a sleep and a signal wait's timeout
STEP_NAME_MAX = 255                 # bytes, the API's limit on a step's name
CALL_RETRY_MIN_S = 0.1
CALL_RETRY_MAX_S = 5.0


class WorkflowInterrupt(BaseException):
    """This attempt of the run is over: the handler must stop, and the
    runtime reports nothing for it. A BaseException, so that ``except
    Exception`` in a handler lets it through."""


class WorkflowSuspended(WorkflowInterrupt):
    """The run is suspended (``reason``: "sleep", "retry" or "signal")
    until ``wake_at`` (RFC 3339; None for a signal wait without timeout);
    the server claims it again then and the handler is replayed."""

    def __init__(self, run_id: str, reason: str, name: str, wake_at: Optional[str]) -> None:
        self.run_id = run_id
        self.reason = reason
        self.name = name
        self.wake_at = wake_at
        until = " until %s" % wake_at if wake_at else ""
        super().__init__("run %s suspended by %s %r%s" % (run_id, reason, name, until))


class WorkflowEnded(WorkflowInterrupt):
    """The run has ended outside this attempt (``status``: canceled,
    terminated, failed or completed)."""

    def __init__(self, run_id: str, status: Optional[str]) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__("run %s has ended: %s" % (run_id, status or "unknown status"))


class WorkflowCanceled(WorkflowEnded):
    """The run was canceled or terminated."""


class WorkflowLeaseLost(WorkflowInterrupt):
    """The run's job is no longer held under this attempt's lease (it
    expired, or the run was suspended and claimed again): the server
    refuses this attempt's calls."""

    def __init__(self, run_id: str, status: Optional[str]) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__("run %s: this attempt's lease is over (run status %s)" % (run_id, status or "unknown"))


class StepFailed(JobFailed):
    """Step ``name`` failed for good (a non-retryable error, or no retries
    left). Uncaught, it fails the run without a retry: a replay would meet
    the same failed step. ``code`` is the step's error code when this
    attempt saw it fail, else "step_failed". The handler may catch it to
    compensate."""

    def __init__(self, name: str, message: str, code: str = "step_failed") -> None:
        super().__init__("step %s failed: %s" % (name, message), code=code, retryable=False)
        self.name = name


class SignalTimeout(JobFailed):
    """``wf.wait_signal(name, timeout=...)`` ended without a signal. The
    timeout is memoized: a replay raises it again (uncaught, it fails the
    run without a retry)."""

    def __init__(self, name: str) -> None:
        super().__init__("no signal %r came within the timeout" % name, code="signal_timeout", retryable=False)
        self.name = name


def _millis(value: Seconds, what: str, minimum: int) -> int:
    secs = value.total_seconds() if isinstance(value, datetime.timedelta) else value
    if isinstance(secs, bool) or not isinstance(secs, (int, float)):
        raise TypeError("%s: give seconds (int or float) or a timedelta" % what)
    ms = int(round(secs * 1000))
    if not minimum <= ms <= DELAY_MAX_MS:
        raise ValueError("%s must be %g s to 365 days" % (what, minimum / 1000.0))
    return ms


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name.encode("utf-8")) <= STEP_NAME_MAX:
        raise ValueError("workflow step names are strings of 1 to %d bytes" % STEP_NAME_MAX)


def describe_error(e: BaseException) -> Tuple[str, str, bool]:
    """The (code, message, retryable) a step's or a run's failure sends:
    a JobFailed's own; else the exception's ``code`` attribute when it is
    a valid error code (so that codes listed as non-retryable apply), or
    its class name."""
    if isinstance(e, JobFailed):
        code = e.code if ERROR_CODE.match(e.code or "") else "failed"
        return code, clip(e.message or str(e), ERROR_MESSAGE_MAX), e.retryable
    own = getattr(e, "code", None)
    code = own if isinstance(own, str) and ERROR_CODE.match(own) else error_code(e)
    return code, clip("%s: %s" % (type(e).__name__, e), ERROR_MESSAGE_MAX), True


def _json_copy(value: Any) -> Any:
    """value as a replay will see it (TypeError/ValueError when it is not
    JSON)."""
    return json.loads(json.dumps(value, separators=(",", ":"), allow_nan=False))


class Workflow:
    """What a workflow handler gets: the run (``run_id``, ``type``,
    ``input``, ``job``) and its step API. ``canceled`` is set when the
    server takes the lease back (a cancel seen by a heartbeat), for a long
    step to poll."""

    def __init__(self, client: Client, job: "Job", lease_s: float) -> None:
        self.client = client
        self.job = job
        self.run_id: str = job.id
        self.type: Optional[str] = job.name
        self.input: Any = job.input
        self.canceled: threading.Event = job.canceled
        self._lease_s = lease_s
        self._interrupt: Optional[WorkflowInterrupt] = None
        self._in_step: Optional[str] = None

    @property
    def interrupted(self) -> bool:
        """True once this attempt is over (suspended, ended or its lease
        lost)."""
        return self._interrupt is not None

    # ---- the step API ------------------------------------------------------

    def step(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` as step name, memoized: its output (JSON)
        is stored, and a replay answers it without calling fn. An
        exception from fn fails the step: when the run's step policy
        retries it, the run is suspended until the retry (the replay calls
        fn again); else StepFailed is raised."""
        _check_name(name)
        token = self.job.lease_token
        begun = self._call("step %s" % name, lambda: self.client.workflow_step_begin(self.run_id, token, name),
                           step=name)
        if begun.get("memoized"):
            return (begun.get("step") or {}).get("output")
        if begun.get("suspended"):
            raise self._suspended(begun, "retry", name)
        seq = int(begun["step"]["seq"])
        self._in_step = name
        try:
            output = fn(*args, **kwargs)
        except Exception as e:
            self._in_step = None
            code, message, retryable = describe_error(e)
            self._fail_step(name, seq, code, message, retryable, e)
        finally:
            self._in_step = None
        try:
            output = _json_copy(output)
        except (TypeError, ValueError) as e:
            self._fail_step(name, seq, "output_not_json", "the step's output is not JSON: %s" % e, False, e)
        self._call("step %s" % name, lambda: self.client.workflow_step_complete(self.run_id, token, name, seq, output))
        return output

    def sleep(self, name: str, duration: Seconds) -> None:
        """Sleeps durably for duration (seconds or a timedelta): the run is
        suspended and claimed again when it is due. Once the sleep is over
        a replay passes it at once."""
        _check_name(name)
        ms = _millis(duration, "sleep %s: duration" % name, 0)
        token = self.job.lease_token
        answer = self._call("sleep %s" % name, lambda: self.client.workflow_sleep(self.run_id, token, name, ms))
        if answer.get("suspended"):
            raise self._suspended(answer, "sleep", name)

    def wait_signal(self, name: str, timeout: Optional[Seconds] = None) -> Any:
        """The payload of the oldest signal name sent to the run and not yet
        taken; when there is none the run is suspended until one is sent
        (or timeout, seconds or a timedelta, ends: SignalTimeout)."""
        _check_name(name)
        timeout_ms = None if timeout is None else _millis(timeout, "wait_signal %s: timeout" % name, 1)
        token = self.job.lease_token
        answer = self._call("wait_signal %s" % name,
                            lambda: self.client.workflow_wait_signal(self.run_id, token, name, timeout_ms))
        if answer.get("suspended"):
            raise self._suspended(answer, "signal", name)
        if answer.get("timed_out"):
            raise SignalTimeout(name)
        return (answer.get("step") or {}).get("output")

    # ---- the calls ---------------------------------------------------------

    def _fail_step(self, name: str, seq: int, code: str, message: str, retryable: bool, cause: BaseException) -> None:
        token = self.job.lease_token
        error = {"code": code, "message": message}
        answer = self._call("step %s" % name, lambda: self.client.workflow_step_fail(self.run_id, token, name, seq, error,
                                                                                    retryable=retryable))
        if answer.get("suspended"):
            log.info("run %s: step %s failed (%s: %.200s); it will be retried", self.run_id, name, code, message)
            raise self._suspended(answer, "retry", name) from cause
        raise StepFailed(name, message, code) from cause

    def _suspended(self, answer: Dict[str, Any], reason: str, name: str) -> WorkflowSuspended:
        self._interrupt = WorkflowSuspended(self.run_id, reason, name, answer.get("wake_at"))
        return self._interrupt

    def _call(self, what: str, send: Callable[[], Dict[str, Any]], step: Optional[str] = None) -> Dict[str, Any]:
        """One call of the step API. A call refused because the attempt is
        over raises (and remembers) the interrupt; one without an answer is
        sent again (the lease token and the memo make that safe) until the
        lease would have run out."""
        if self._interrupt is not None:
            raise self._interrupt
        if self._in_step is not None:
            # a mistake in the handler's code, which no retry mends
            raise JobFailed("%s: called inside step %s; steps do not nest" % (what, self._in_step),
                            code="step_nested", retryable=False)
        delay = CALL_RETRY_MIN_S
        give_up = time.monotonic() + self._lease_s
        while True:
            try:
                return send()
            except ConflictError as e:
                if e.code == "stale_lease":
                    self._interrupt = WorkflowLeaseLost(self.run_id, e.current_status)
                elif e.code == "workflow_ended":
                    ended = WorkflowCanceled if e.current_status in ("canceled", "terminated") else WorkflowEnded
                    self._interrupt = ended(self.run_id, e.current_status)
                elif e.code == "step_failed" and step is not None:
                    raise StepFailed(step, e.message) from None
                else:
                    raise
                raise self._interrupt from None
            except (WeftConnectionError, ServerError, RateLimitedError) as e:
                if time.monotonic() + delay > give_up or self.canceled.is_set():
                    raise
                log.warning("run %s: %s: %s (trying again)", self.run_id, what, e)
                time.sleep(delay)
                delay = min(delay * 2, CALL_RETRY_MAX_S)


WorkflowHandler = Callable[[Workflow, Any], Any]


def run_workflow(client: Client, job: "Job", handler: WorkflowHandler, lease_s: float) -> Optional[str]:
    """Runs handler for the claimed job of a workflow run and reports its
    end: "completed", "failed" (the run's attempt failed; it may be
    retried), or None when nothing was reported (the attempt was
    suspended or is over)."""
    wf = Workflow(client, job, lease_s)
    try:
        output = handler(wf, job.input)
    except WorkflowInterrupt as e:
        log.info("run %s (attempt %d): %s", job.id, job.attempt, e)
        return None
    except BaseException as e:   # a handler's SystemExit fails its run, not the worker
        if wf.interrupted:
            log.warning("run %s: the handler raised %s after this attempt ended; nothing is reported", job.id,
                        type(e).__name__)
            return None
        code, message, retryable = describe_error(e)
        log.info("run %s (attempt %d): failed: %s: %.300s", job.id, job.attempt, code, message, exc_info=True)
        return _report(wf, "fail", {"code": code, "message": message}, retryable)
    if wf.interrupted:
        log.warning("run %s: the handler caught the end of its attempt and returned; its result is ignored", job.id)
        return None
    try:
        output = _json_copy(output)
    except (TypeError, ValueError) as e:
        return _report(wf, "fail", {"code": "result_not_json", "message": "the handler's result is not JSON: %s" % e},
                       False)
    return _report(wf, "complete", output, None)


def _report(wf: Workflow, kind: str, value: Any, retryable: Optional[bool]) -> Optional[str]:
    run, token = wf.run_id, wf.job.lease_token
    ending = "completed" if kind == "complete" else "failed"
    try:
        if kind == "complete":
            try:
                wf._call("complete", lambda: wf.client.workflow_complete(run, token, value))
                return ending
            except BadRequestError as e:
                log.error("run %s: the server refused its output: %s; failing it", run, e)
                value = {"code": "result_rejected", "message": clip("the server refused the output: %s" % e, 4000)}
                retryable, ending = False, "failed"
        wf._call("fail", lambda: wf.client.workflow_fail(run, token, value, retryable=retryable))
        return ending
    except WorkflowEnded as e:
        if e.status == ending:
            # a call sent again after its answer was lost: the first one ended the run so
            return ending
        log.info("run %s: %s; nothing more is reported", run, e)
    except WorkflowInterrupt as e:
        log.info("run %s: %s; nothing more is reported", run, e)
    except NotFoundError:
        # A job named like a registered workflow type that is no workflow
        # run: failed for good as a job, rather than left to its lease.
        log.error("job %s is named %r like a workflow type but is no workflow run; failing it", run, wf.type)
        error = {"code": "not_a_workflow_run", "retryable": False,
                 "message": "job %s is named %r like a workflow type but is no workflow run" % (run, wf.type)}
        try:
            wf.client.fail_job(run, token, error)
            return "failed"
        except WeftError as e:
            log.error("job %s: failing it: %s (its lease will expire)", run, e)
    except WeftError as e:
        log.error("run %s: reporting its end: %s (its lease will expire and the run be replayed)", run, e)
    return None
