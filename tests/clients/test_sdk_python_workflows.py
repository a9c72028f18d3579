"""The Python SDK's durable workflows (weft.workflow) against a real
server, with the worker in a thread of the test (and the example,
examples/workflow.py, in a process of its own): steps memoized across
the replay after a sleep (the server's injected clock ends it), signal
waits answered by a signal and by their timeout, a step retried by the
run's policy and steps failing for good, a handler's failure retried, a
suspension that `except Exception` in the handler cannot swallow (and one
swallowed by `except BaseException`, which changes nothing on the
server), a cancel reaching the handler, and calls whose answers were
lost sent again."""

import json
import os
import signal
import subprocess
import threading
from datetime import timedelta

import pytest

from harness import stays, wait_for
from test_sdk_python import ROOT, VENV_PYTHON, running, weft

FAST_RETRY = {"initial_ms": 1, "max_ms": 1, "jitter": 0}


class Calls:
    """How many times each step function ran (the worker's threads call
    them; the test reads them)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def hit(self, name, value=None):
        """Counts a call of name; answers value."""
        self.bump(name)
        return value

    def bump(self, name):
        """Counts a call of name; answers how many there were."""
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            return self.counts[name]

    def __getitem__(self, name):
        with self.lock:
            return self.counts.get(name, 0)


def make_worker(server, queue, **kw):
    kw.setdefault("wait_ms", 1000)
    kw.setdefault("concurrency", 2)
    return weft.Worker(weft.Client(server.base), [queue], **kw)


def wait_run(client, run_id, status, timeout=15):
    return wait_for(lambda: (lambda r: r if r["status"] == status else None)(client.get_workflow(run_id)),
                    timeout=timeout, interval=0.05, desc="run %s to be %s" % (run_id, status))


def test_steps_are_memoized_across_a_sleep(server):
    c = weft.Client(server.base)
    calls = Calls()
    worker = make_worker(server, "wf-memo")
    attempts = []

    @worker.workflow("memo")
    def memo(wf, input):
        attempts.append(wf.job.attempt)
        a = wf.step("a", calls.hit, "a", (input["n"], "x"))     # a tuple: JSON makes it a list
        wf.sleep("nap", timedelta(minutes=1))
        b = wf.step("b", calls.hit, "b", a[0] + 1)
        return {"a": a, "b": b, "run": wf.run_id, "type": wf.type}

    run = c.start_workflow("memo", "wf-memo", {"n": 41})
    with running(worker):
        suspended = wait_run(c, run["id"], "suspended")
        assert suspended["suspended"]["reason"] == "sleep" and suspended["suspended"]["wake_at"]
        assert (calls["a"], calls["b"]) == (1, 0)
        server.advance(61)
        done = wait_run(c, run["id"], "completed")
    assert done["output"] == {"a": [41, "x"], "b": 42, "run": run["id"], "type": "memo"}
    assert (calls["a"], calls["b"]) == (1, 1)      # a answered from the memo on the replay
    assert len(attempts) == 2 and attempts[0] == attempts[1]   # a suspension is not a failed attempt
    assert worker.completed == 1 and worker.failed == 0


def test_a_short_sleep_wakes_by_itself(server):
    c = weft.Client(server.base)
    worker = make_worker(server, "wf-nap")
    worker.register_workflow("nap", lambda wf, input: (wf.sleep("short", 0.3), "rested")[1])
    run = c.start_workflow("nap", "wf-nap")
    with running(worker):
        assert wait_run(c, run["id"], "completed")["output"] == "rested"


def test_wait_signal_with_a_signal_and_with_a_timeout(server):
    c = weft.Client(server.base)
    worker = make_worker(server, "wf-sig")

    @worker.workflow("approve")
    def approve(wf, input):
        try:
            return {"approved": wf.wait_signal("approved", timeout=input.get("timeout"))}
        except weft.SignalTimeout:
            if input.get("catch"):
                return {"approved": None}
            raise

    signaled = c.start_workflow("approve", "wf-sig", {})
    timed = c.start_workflow("approve", "wf-sig", {"timeout": 30, "catch": True})
    uncaught = c.start_workflow("approve", "wf-sig", {"timeout": 30})
    with running(worker):
        for r in (signaled, timed, uncaught):
            assert wait_run(c, r["id"], "suspended")["suspended"]["reason"] == "signal"
        assert c.signal_workflow(signaled["id"], "approved", {"by": "ops"})["woke"] is True
        assert wait_run(c, signaled["id"], "completed")["output"] == {"approved": {"by": "ops"}}
        server.advance(31)
        assert wait_run(c, timed["id"], "completed")["output"] == {"approved": None}
        failed = wait_run(c, uncaught["id"], "failed")
    assert failed["error"]["code"] == "signal_timeout"
    # the timeout is memoized and fails the run for good: one attempt, no retry
    assert c.get_task(uncaught["id"])["attempt"] == 1


def test_a_failed_step_is_retried_then_memoized(server):
    c = weft.Client(server.base)
    calls = Calls()
    worker = make_worker(server, "wf-retry")

    class Flaky(Exception):
        code = "flaky_dep"

    def reserve(n):
        if calls.bump("reserve") == 1:
            raise Flaky("the stock service is down")
        return {"reserved": n}

    @worker.workflow("order")
    def order(wf, input):
        first = wf.step("first", calls.hit, "first", 1)
        return {"first": first, "reserve": wf.step("reserve", reserve, input)}

    run = c.start_workflow("order", "wf-retry", 7, max_attempts=3, backoff=FAST_RETRY)
    with running(worker):
        done = wait_run(c, run["id"], "completed")
    assert done["output"] == {"first": 1, "reserve": {"reserved": 7}}
    assert (calls["first"], calls["reserve"]) == (1, 2)
    # a step's retry is a suspension, not a failed attempt of the run's job
    assert c.get_task(run["id"])["attempt"] == 1


def test_steps_that_fail_for_good(server):
    c = weft.Client(server.base)
    calls = Calls()
    worker = make_worker(server, "wf-bad")

    class BadInput(Exception):
        code = "bad_input"   # listed in non_retryable_codes at the start

    def charge(how):
        calls.hit(how)
        if how == "non_retryable":
            raise weft.NonRetryable("card declined", code="declined")
        if how == "listed_code":
            raise BadInput("no such card")
        raise ValueError("always")

    @worker.workflow("pay")
    def pay(wf, input):
        try:
            return wf.step("charge", charge, input["how"])
        except weft.StepFailed as e:
            if not input.get("compensate"):
                raise
            return {"refunded": wf.step("refund", lambda: "ok"), "code": e.code, "step": e.name}

    runs = {how: c.start_workflow("pay", "wf-bad", {"how": how}, max_attempts=3, backoff=FAST_RETRY,
                                  non_retryable_codes=["bad_input"])
            for how in ("non_retryable", "listed_code", "exhausted")}
    compensated = c.start_workflow("pay", "wf-bad", {"how": "non_retryable", "compensate": True})
    with running(worker):
        ended = {how: wait_run(c, r["id"], "failed") for how, r in runs.items()}
        done = wait_run(c, compensated["id"], "completed")
    assert ended["non_retryable"]["error"]["code"] == "declined"
    assert ended["listed_code"]["error"]["code"] == "bad_input"
    assert ended["exhausted"]["error"]["code"] == "value_error"
    assert done["output"] == {"refunded": "ok", "code": "declined", "step": "charge"}
    # max_attempts 3: two retries of the step, then no more
    assert (calls["non_retryable"], calls["listed_code"], calls["exhausted"]) == (2, 1, 3)
    for r in runs.values():   # a step failed for good fails the run without a retry of its job
        assert c.get_task(r["id"])["attempt"] == 1


def test_a_failing_handler_is_replayed_with_its_steps_memoized(server):
    c = weft.Client(server.base)
    calls = Calls()
    worker = make_worker(server, "wf-crash")

    @worker.workflow("crashy")
    def crashy(wf, input):
        wf.step("once", calls.hit, "once")
        if wf.job.attempt == 1:
            raise RuntimeError("handler bug on the first attempt")
        return "recovered"

    run = c.start_workflow("crashy", "wf-crash", max_attempts=2, backoff=FAST_RETRY)
    with running(worker):
        assert wait_run(c, run["id"], "completed")["output"] == "recovered"
    job = c.get_task(run["id"])
    assert job["attempt"] == 2 and job["attempts"][0]["error"]["code"] == "runtime_error"
    assert calls["once"] == 1
    assert worker.completed == 1 and worker.failed == 1


def test_except_exception_cannot_swallow_a_suspension(server):
    c = weft.Client(server.base)
    calls = Calls()
    caught = []
    worker = make_worker(server, "wf-wrap")

    @worker.workflow("wrapped")
    def wrapped(wf, input):
        try:
            wf.step("a", calls.hit, "a")
            wf.sleep("nap", 60)
            wf.step("b", calls.hit, "b")
            return "done"
        except Exception as e:   # what a careless handler does
            caught.append(repr(e))
            return "swallowed"

    run = c.start_workflow("wrapped", "wf-wrap")
    with running(worker):
        wait_run(c, run["id"], "suspended")
        server.advance(61)
        done = wait_run(c, run["id"], "completed")
    assert done["output"] == "done" and caught == []
    assert (calls["a"], calls["b"]) == (1, 1)


def test_a_suspension_caught_anyway_is_raised_again_and_its_return_ignored(server):
    c = weft.Client(server.base)
    calls = Calls()
    seen = []
    worker = make_worker(server, "wf-swallow")

    @worker.workflow("swallower")
    def swallower(wf, input):
        try:
            wf.sleep("nap", 60)
        except BaseException as e:   # noqa: B036 - the misuse under test
            seen.append(type(e).__name__)
            try:
                wf.step("after", calls.hit, "after")
            except BaseException as again:   # noqa: B036
                seen.append(type(again).__name__)
            return "must not complete the run"
        return "woke"

    run = c.start_workflow("swallower", "wf-swallow")
    with running(worker):
        wait_run(c, run["id"], "suspended")
        wait_for(lambda: len(seen) == 2, timeout=5, desc="the handler to catch its suspension")
        # the handler returns next: its answer must not complete the run
        stays(lambda: c.get_workflow(run["id"])["status"] == "suspended", duration=0.5, desc="the run suspended")
        server.advance(61)
        done = wait_run(c, run["id"], "completed")
    assert seen == ["WorkflowSuspended", "WorkflowSuspended"]
    assert calls["after"] == 0
    assert done["output"] == "woke"


def test_a_cancel_reaches_the_handler(server):
    c = weft.Client(server.base)
    worker = make_worker(server, "wf-cancel", lease_ms=1000)   # a heartbeat every 333 ms
    started = threading.Event()
    seen = []

    def long_step(wf):
        started.set()
        seen.append(("stopped early", wf.canceled.wait(10)))
        return "partial"

    @worker.workflow("long")
    def long(wf, input):
        try:
            wf.step("long", long_step, wf)
            wf.step("next", lambda: seen.append("next ran"))
        except weft.WorkflowInterrupt as e:
            seen.append((type(e).__name__, getattr(e, "status", None)))
            raise
        return "finished"

    run = c.start_workflow("long", "wf-cancel")
    with running(worker):
        assert started.wait(10)
        c.cancel_workflow(run["id"], "no longer wanted")
        wait_for(lambda: len(seen) == 2, timeout=10, desc="the handler to see the cancel")
    assert seen == [("stopped early", True), ("WorkflowCanceled", "canceled")]
    assert c.get_workflow(run["id"])["status"] == "canceled"
    assert worker.completed == 0 and worker.failed == 0


def test_a_worker_without_a_plain_handler(server):
    c = weft.Client(server.base)
    with pytest.raises(ValueError, match="register a workflow"):
        weft.Worker(c, ["q"]).run()
    worker = make_worker(server, "wf-mixed")
    worker.register_workflow("known", lambda wf, input: "ok")
    with pytest.raises(ValueError, match="has a handler already"):
        worker.register_workflow("known", lambda wf, input: "again")
    job = c.enqueue("wf-mixed", None, name="other", max_attempts=1)
    impostor = c.enqueue("wf-mixed", None, name="known", max_attempts=3)   # named like the type, no run
    run = c.start_workflow("known", "wf-mixed")

    def failed(task_id):
        return wait_for(lambda: (lambda t: t if t["status"] == "failure" else None)(c.get_task(task_id)),
                        timeout=10, desc="job %s to fail" % task_id)
    with running(worker):
        assert wait_run(c, run["id"], "completed")["output"] == "ok"
        unknown, not_a_run = failed(job["id"]), failed(impostor["id"])
    assert unknown["attempts"][0]["error"]["code"] == "unknown_workflow"
    assert not_a_run["attempt"] == 1 and not_a_run["attempts"][0]["error"]["code"] == "not_a_workflow_run"


def test_the_example_workflow(server, weft_bin):
    """sdk/python/examples/workflow.py, driven by the CLI commands its
    text gives: one order approved by a signal, one whose approval times
    out (the injected clock); each step runs once across the replays."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env["WEFT_URL"] = server.base

    def cli(*args):
        p = subprocess.run([weft_bin, "workflows", *args, "--json"], env=env, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    c = weft.Client(server.base)
    proc = subprocess.Popen([VENV_PYTHON, os.path.join(ROOT, "sdk", "python", "examples", "workflow.py"), "wf-ex"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        approved = cli("start", "order", "--queue", "wf-ex", "--input", '{"sku": "A-1", "qty": 2, "cool_down_ms": 200}')
        lapsed = cli("start", "order", "--queue", "wf-ex", "--input", '{"sku": "B-2", "qty": 1, "cool_down_ms": 200}')
        for run in (approved, lapsed):
            wait_for(lambda: (c.get_workflow(run["id"])["suspended"] or {}).get("reason") == "signal", timeout=15,
                     interval=0.05, desc="the order to wait for its approval")
        cli("signal", approved["id"], "approved", '{"by": "ops"}')
        assert wait_run(c, approved["id"], "completed")["output"] == {"approved": True, "by": "ops",
                                                                     "charged": "R-A-1-2"}
        server.advance(3601)
        assert wait_run(c, lapsed["id"], "completed")["output"] == {"approved": False, "reservation": "R-B-2-1"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert sorted(out.splitlines()) == ["charging R-A-1-2 (approved by ops)", "releasing R-B-2-1",
                                        "reserving 1 x B-2", "reserving 2 x A-1"]


def test_calls_whose_answer_was_lost_are_sent_again(server):
    """The first answer of each kind of call is lost after the server
    applied the call: the runtime sends it again, and the lease token and
    the memo make the repeat harmless (the step runs once, the run
    completes)."""
    lost = Calls()

    class LossyClient(weft.Client):
        def _lose_first(self, what, send):
            sent = lost.bump(what)
            answer = send()
            if sent == 1:
                raise weft.WeftConnectionError(self.url, "connection reset (test)")
            return answer

        def workflow_step_begin(self, *a, **kw):
            return self._lose_first("begin", lambda: super(LossyClient, self).workflow_step_begin(*a, **kw))

        def workflow_step_complete(self, *a, **kw):
            return self._lose_first("step complete",
                                    lambda: super(LossyClient, self).workflow_step_complete(*a, **kw))

        def workflow_complete(self, *a, **kw):
            return self._lose_first("complete", lambda: super(LossyClient, self).workflow_complete(*a, **kw))

    calls = Calls()
    worker = weft.Worker(LossyClient(server.base), ["wf-lossy"], wait_ms=1000)
    worker.register_workflow("lossy", lambda wf, input: wf.step("once", calls.hit, "once", "out"))
    c = weft.Client(server.base)
    run = c.start_workflow("lossy", "wf-lossy")
    with running(worker):
        assert wait_run(c, run["id"], "completed")["output"] == "out"
    assert calls["once"] == 1
    assert (lost["begin"], lost["step complete"], lost["complete"]) == (2, 2, 2)
    assert c.get_task(run["id"])["attempt"] == 1 and worker.completed == 1
