"""The TypeScript SDK's durable workflows (src/workflow.ts) against a real
server, with a node worker importing @weft/client as installed in
build/sdk/ts-consumer: steps memoized across the replay after a sleep
(the server's injected clock ends it), a short sleep waking by itself,
signal waits answered by a signal and by their timeout, a step retried by
the run's policy and steps failing for good, a suspension swallowed by
the handler's catch (thrown again by the next call, its return ignored,
nothing completed), a cancel reaching the handler, calls whose answers
were lost sent again, and the installed example, examples/workflow.mjs."""

import json
import os
import signal
import subprocess
import threading

from harness import stays, wait_for
from test_sdk_typescript import INSTALLED, NODE, installed, node_env, scratch, write_script  # noqa: F401 (fixtures)

FAST_RETRY = {"initial_ms": 1, "max_ms": 1, "jitter": 0}

WORKFLOWS = r"""
import * as weft from '@weft/client';
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const calls = {};
const hit = (name) => { calls[name] = (calls[name] ?? 0) + 1; out({ call: name, n: calls[name] }); return calls[name]; };
const w = new weft.Worker({ queues: ['%(queue)s'], concurrency: 4, leaseMs: %(lease)d, claimWaitMs: 500, log: null });

w.workflow('memo', async (wf, input) => {
  const a = await wf.step('a', () => { hit('a'); return [input.n, 'x', undefined]; });
  await wf.sleep('nap', 60_000);
  const b = await wf.step('b', async () => { hit('b'); return a[0] + 1; });
  return { a, b, run: wf.runId, type: wf.type };
});

w.workflow('nap', async (wf) => { await wf.sleep('short', 300); return 'rested'; });

w.workflow('approve', async (wf, input) => {
  try {
    return { approved: await wf.waitSignal('approved', input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}) };
  } catch (e) {
    if (e instanceof weft.SignalTimeoutError && input.catch) return { approved: null };
    throw e;
  }
});

w.workflow('order', async (wf, input) => {
  const first = await wf.step('first', () => hit('first'));
  const reserved = await wf.step('reserve', () => {
    if (hit('reserve') === 1) throw Object.assign(new Error('the stock service is down'), { code: 'flaky_dep' });
    return { reserved: input };
  });
  return { first, reserved };
});

w.workflow('pay', async (wf, input) => {
  try {
    return await wf.step('charge', () => {
      hit(input.how);
      if (input.how === 'non_retryable') throw new weft.NonRetryableError('declined', 'card declined');
      if (input.how === 'listed_code') throw Object.assign(new Error('no such card'), { code: 'bad_input' });
      throw new Error('always');
    });
  } catch (e) {
    if (!(e instanceof weft.StepFailedError) || !input.compensate) throw e;
    return { refunded: await wf.step('refund', () => 'ok'), code: e.code, step: e.step };
  }
});

w.workflow('swallower', async (wf) => {
  try {
    await wf.sleep('nap', 60_000);
  } catch (e) {
    let again = 'no throw';
    try { await wf.step('after', () => hit('after')); } catch (e2) { again = e2.name + (e2 === e ? ' (the same)' : ''); }
    out({ swallowed: e.name, interrupt: weft.isWorkflowInterrupt(e), again, interrupted: wf.interrupted });
    return 'must not complete the run';
  }
  return 'woke';
});

w.workflow('long', async (wf) => {
  try {
    await wf.step('long', async () => {
      out({ started: wf.runId });
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 10_000);
        wf.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
      out({ aborted: wf.signal.aborted });
      return 'partial';
    });
    await wf.step('next', () => hit('next'));
  } catch (e) {
    out({ interrupted: e.name, status: e.status });
    throw e;
  }
  return 'finished';
});

out({ ready: w.workerId });
await w.run();
out({ stats: w.stats, calls });
"""


class WorkflowWorker:
    """The node worker above, its printed lines collected as they come."""

    def __init__(self, scratch, base, queue, lease=30000, script=WORKFLOWS):
        path = write_script(scratch, script % dict(queue=queue, lease=lease))
        self.proc = subprocess.Popen([NODE, path], env=node_env(base), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_line(lambda l: "ready" in l)

    def _read(self):
        for text in self.proc.stdout:
            with self.lock:
                self.lines.append(json.loads(text))

    def seen(self, pred):
        with self.lock:
            return [l for l in self.lines if pred(l)]

    def wait_line(self, pred, timeout=15):
        def found():
            if self.proc.poll() is not None and not self.seen(pred):
                raise AssertionError("the worker exited: %s" % self.proc.stderr.read())
            got = self.seen(pred)
            return got[0] if got else None
        return wait_for(found, timeout=timeout, interval=0.05, desc="a line from the worker")

    def calls(self, name):
        return len(self.seen(lambda l: l.get("call") == name))

    def stop(self, timeout=15):
        """SIGTERM: the worker drains; answers its last line (stats, calls)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the worker did not exit within %d s" % timeout)
        self.reader.join(5)
        assert self.proc.returncode == 0, self.proc.stderr.read()
        return self.lines[-1]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start(api, type, queue, input=None, **spec):
    r = api.post("/v1/workflows", json=dict(spec, type=type, queue=queue, input=input))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run_of(api, run_id):
    r = api.get("/v1/workflows/" + run_id)
    assert r.status_code == 200, r.text
    return r.json()


def wait_run(api, run_id, status, timeout=15):
    return wait_for(lambda: (lambda r: r if r["status"] == status else None)(run_of(api, run_id)),
                    timeout=timeout, interval=0.05, desc="run %s to be %s" % (run_id, status))


def job_of(api, run_id):
    return api.get("/v1/tasks/" + run_id).json()


def test_steps_are_memoized_across_a_sleep(server, api, scratch):
    run = start(api, "memo", "tswf-memo", {"n": 41})
    w = WorkflowWorker(scratch, server.base, "tswf-memo")
    try:
        suspended = wait_run(api, run, "suspended")
        assert suspended["suspended"]["reason"] == "sleep"
        assert (w.calls("a"), w.calls("b")) == (1, 0)
        server.advance(61)
        done = wait_run(api, run, "completed")
        # undefined in an array is null in JSON: the first run sees what a replay sees
        assert done["output"] == {"a": [41, "x", None], "b": 42, "run": run, "type": "memo"}
        assert (w.calls("a"), w.calls("b")) == (1, 1)
        assert job_of(api, run)["attempt"] == 1     # a suspension is not a failed attempt
        assert w.stop()["stats"]["completed"] == 1
    finally:
        w.close()


def test_a_short_sleep_wakes_by_itself(server, api, scratch):
    run = start(api, "nap", "tswf-nap")
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "tswf-nap", "name": "nap", "max_attempts": 3}]})
    assert r.status_code == 201, r.text
    impostor = r.json()["jobs"][0]["id"]     # named like the type, but no workflow run
    w = WorkflowWorker(scratch, server.base, "tswf-nap")
    try:
        assert wait_run(api, run, "completed")["output"] == "rested"
        job = wait_for(lambda: (lambda t: t if t["status"] == "failure" else None)(job_of(api, impostor)),
                       timeout=10, desc="the job that is no run to fail")
        assert job["attempt"] == 1 and job["attempts"][0]["error"]["code"] == "not_a_workflow_run"
    finally:
        w.close()


def test_wait_signal_with_a_signal_and_with_a_timeout(server, api, scratch):
    signaled = start(api, "approve", "tswf-sig", {})
    timed = start(api, "approve", "tswf-sig", {"timeoutMs": 30000, "catch": True})
    uncaught = start(api, "approve", "tswf-sig", {"timeoutMs": 30000})
    w = WorkflowWorker(scratch, server.base, "tswf-sig")
    try:
        for r in (signaled, timed, uncaught):
            assert wait_run(api, r, "suspended")["suspended"]["reason"] == "signal"
        sent = api.post("/v1/workflows/%s/signals" % signaled, json={"name": "approved", "payload": {"by": "ops"}})
        assert sent.status_code in (200, 201) and sent.json()["woke"] is True, sent.text
        assert wait_run(api, signaled, "completed")["output"] == {"approved": {"by": "ops"}}
        server.advance(31)
        assert wait_run(api, timed, "completed")["output"] == {"approved": None}
        assert wait_run(api, uncaught, "failed")["error"]["code"] == "signal_timeout"
        assert job_of(api, uncaught)["attempt"] == 1    # memoized: failed for good, not retried
    finally:
        w.close()


def test_a_failed_step_is_retried_then_memoized(server, api, scratch):
    run = start(api, "order", "tswf-retry", 7, max_attempts=3, backoff=FAST_RETRY)
    w = WorkflowWorker(scratch, server.base, "tswf-retry")
    try:
        assert wait_run(api, run, "completed")["output"] == {"first": 1, "reserved": {"reserved": 7}}
        assert (w.calls("first"), w.calls("reserve")) == (1, 2)
        assert job_of(api, run)["attempt"] == 1
    finally:
        w.close()


def test_steps_that_fail_for_good(server, api, scratch):
    spec = dict(max_attempts=3, backoff=FAST_RETRY, non_retryable_codes=["bad_input"])
    runs = {how: start(api, "pay", "tswf-bad", {"how": how}, **spec)
            for how in ("non_retryable", "listed_code", "exhausted")}
    compensated = start(api, "pay", "tswf-bad", {"how": "non_retryable", "compensate": True})
    w = WorkflowWorker(scratch, server.base, "tswf-bad")
    try:
        ended = {how: wait_run(api, r, "failed") for how, r in runs.items()}
        done = wait_run(api, compensated, "completed")
        assert ended["non_retryable"]["error"]["code"] == "declined"
        assert ended["listed_code"]["error"]["code"] == "bad_input"
        assert ended["exhausted"]["error"]["code"] == "handler_error"
        assert done["output"] == {"refunded": "ok", "code": "declined", "step": "charge"}
        assert (w.calls("non_retryable"), w.calls("listed_code"), w.calls("exhausted")) == (2, 1, 3)
        for r in runs.values():
            assert job_of(api, r)["attempt"] == 1
    finally:
        w.close()


def test_a_swallowed_suspension_is_thrown_again_and_completes_nothing(server, api, scratch):
    run = start(api, "swallower", "tswf-swallow")
    w = WorkflowWorker(scratch, server.base, "tswf-swallow")
    try:
        line = w.wait_line(lambda l: "swallowed" in l)
        assert line == {"swallowed": "WorkflowSuspended", "interrupt": True,
                        "again": "WorkflowSuspended (the same)", "interrupted": True}
        # the handler returns next: its answer must not complete the run
        stays(lambda: run_of(api, run)["status"] == "suspended", duration=0.5, desc="the run suspended")
        assert w.calls("after") == 0
        server.advance(61)
        assert wait_run(api, run, "completed")["output"] == "woke"
        stats = w.stop()["stats"]
        assert stats["completed"] == 1 and stats["failed"] == 0
    finally:
        w.close()


def test_a_cancel_reaches_the_handler(server, api, scratch):
    run = start(api, "long", "tswf-cancel")
    w = WorkflowWorker(scratch, server.base, "tswf-cancel", lease=1000)   # a heartbeat every 333 ms
    try:
        w.wait_line(lambda l: l.get("started") == run)
        r = api.post("/v1/workflows/%s/cancel" % run, json={"reason": "no longer wanted"})
        assert r.status_code == 200, r.text
        assert w.wait_line(lambda l: "aborted" in l) == {"aborted": True}
        assert w.wait_line(lambda l: "interrupted" in l) == {"interrupted": "WorkflowCanceled", "status": "canceled"}
        assert run_of(api, run)["status"] == "canceled" and w.calls("next") == 0
        stats = w.stop()["stats"]
        assert stats["completed"] == 0 and stats["failed"] == 0
    finally:
        w.close()


LOSSY = r"""
import * as weft from '@weft/client';
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
// The first answer of each kind of call is lost after the server applied it.
const sent = {};
const lossy = async (url, init) => {
  const path = new URL(url).pathname;
  const what = path.endsWith('/steps/begin') ? 'begin' : path.endsWith('/steps/complete') ? 'step complete'
    : /^\/v1\/workflows\/[^/]+\/complete$/.test(path) ? 'complete' : null;
  const res = await fetch(url, init);
  if (what && (sent[what] = (sent[what] ?? 0) + 1) === 1) {
    await res.arrayBuffer();
    throw new TypeError('fetch failed (the answer is lost)');
  }
  return res;
};
let once = 0;
const w = new weft.Worker({ client: new weft.WeftClient({ fetch: lossy }), queues: ['%(queue)s'], leaseMs: %(lease)d,
                            claimWaitMs: 500, log: null });
w.workflow('lossy', async (wf) => wf.step('once', () => { once++; return 'out'; }));
out({ ready: w.workerId });
await w.run();
out({ stats: w.stats, sent, once });
"""


def test_calls_whose_answer_was_lost_are_sent_again(server, api, scratch):
    """The runtime sends a call again when its answer is lost; the lease
    token and the memo make the repeat harmless."""
    run = start(api, "lossy", "tswf-lossy")
    w = WorkflowWorker(scratch, server.base, "tswf-lossy", script=LOSSY)
    try:
        assert wait_run(api, run, "completed")["output"] == "out"
        last = w.stop()
        assert last["sent"] == {"begin": 2, "step complete": 2, "complete": 2} and last["once"] == 1
        assert last["stats"]["completed"] == 1 and job_of(api, run)["attempt"] == 1
    finally:
        w.close()


def test_the_example_workflow(server, api, weft_bin):
    """examples/workflow.mjs as installed, driven by the CLI commands its
    text gives: one order approved by a signal, one whose approval times
    out (the injected clock); each step runs once across the replays."""
    env = node_env(server.base)

    def cli(*args):
        p = subprocess.run([weft_bin, "workflows", *args, "--json"], env=env, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    proc = subprocess.Popen([NODE, os.path.join(INSTALLED, "examples", "workflow.mjs"), "tswf-ex"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        approved = cli("start", "order", "--queue", "tswf-ex", "--input",
                       '{"sku": "A-1", "qty": 2, "cool_down_ms": 200}')["id"]
        lapsed = cli("start", "order", "--queue", "tswf-ex", "--input",
                     '{"sku": "B-2", "qty": 1, "cool_down_ms": 200}')["id"]
        for run in (approved, lapsed):
            wait_for(lambda: (run_of(api, run)["suspended"] or {}).get("reason") == "signal", timeout=15,
                     interval=0.05, desc="the order to wait for its approval")
        cli("signal", approved, "approved", '{"by": "ops"}')
        assert wait_run(api, approved, "completed")["output"] == {"approved": True, "by": "ops", "charged": "R-A-1-2"}
        server.advance(3601)
        assert wait_run(api, lapsed, "completed")["output"] == {"approved": False, "reservation": "R-B-2-1"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert sorted(out.splitlines()) == ['charging R-A-1-2 (approved by "ops")', "releasing R-B-2-1",
                                        "reserving 1 x B-2", "reserving 2 x A-1"]
