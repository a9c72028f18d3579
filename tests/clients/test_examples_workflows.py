"""The workflow examples (examples/workflows), each run against a real
server as a user would run it: built by `make` against the staged
install of libweft (mk/workflow-examples.mk adds them to
CLIENT_TEST_DEPS)."""

import datetime
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "build", "examples", "workflows")


def example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.path.exists(path):
        pytest.fail("%s is not built: run `make %s`" % (path, os.path.relpath(path, ROOT)))
    return path


def env_of(server):
    env = dict(os.environ, WEFT_URL=server.base)
    env.pop("WEFT_TOKEN", None)
    return env


def wait_for(pred, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("%s not met in %ss" % (what, timeout))


def run_of(server, run_id):
    r = server.get("/v1/workflows/" + run_id)
    assert r.status_code == 200, r.text
    return r.json()


def ended(server, run_id):
    run = run_of(server, run_id)
    return run if run["status"] in ("completed", "failed", "canceled", "terminated") else None


class Worker:
    """An example's worker process, its stdout kept in a file."""

    def __init__(self, server, tmp_path, name, queue, env=None):
        self.out_path = tmp_path / ("%s-%s.out" % (name, uuid.uuid4().hex[:6]))
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen([example(name), "worker", queue], env=dict(env_of(server), **(env or {})),
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def lines(self):
        return self.out_path.read_text().splitlines()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.proc.returncode


def start(server, name, *args):
    r = subprocess.run([example(name), "start"] + list(args), env=env_of(server), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_order_retries_the_charge_and_sleeps_durably(server, tmp_path):
    queue = "orders-" + uuid.uuid4().hex[:8]
    run_id = start(server, "order", queue, "A-17")
    w = Worker(server, tmp_path, "order", queue)
    try:
        run = wait_for(lambda: ended(server, run_id), what="the order run ended")
    finally:
        assert w.stop() == 0, w.lines()
    lines = w.lines()
    assert run["status"] == "completed", (run, lines)
    assert run["output"] == {"order": "A-17", "reservation": "R-A-17", "charge": "C-A-17", "tracking": "T-A-17"}
    # reserve memoized across the replays; charge failed once and ran again
    assert lines.count("ran reserve A-17") == 1, lines
    assert lines.count("ran charge: the gateway timed out") == 1, lines
    assert lines.count("ran charge A-17") == 1, lines
    assert lines.count("ran ship A-17") == 1, lines
    # an attempt for the first call, one after the charge's retry, one after the sleep
    assert run["replays"] == 3, run
    job = server.get("/v1/tasks/" + run_id).json()
    assert job["attempt"] == 1, job   # suspensions use no attempt of the run's job


def test_fanout_reuses_the_items_outputs_after_the_sleep(server, tmp_path):
    queue = "fanout-" + uuid.uuid4().hex[:8]
    run_id = start(server, "fanout", queue, "5", str(3600 * 1000))
    w = Worker(server, tmp_path, "fanout", queue)
    try:
        # the items ran, then the run sleeps for an hour of the server's clock
        run = wait_for(lambda: (lambda r: r if r["status"] == "suspended" else None)(run_of(server, run_id)),
                       what="the run suspended")
        assert run["suspended"]["reason"] == "sleep", run
        assert sorted(l for l in w.lines() if l.startswith("ran item")) == ["ran item %d" % i for i in range(1, 6)]
        server.advance(3601)
        run = wait_for(lambda: ended(server, run_id), what="the fan-out run ended")
    finally:
        assert w.stop() == 0, w.lines()
    assert run["status"] == "completed" and run["output"] == {"items": 5, "total": 55}, run
    items = [l for l in w.lines() if l.startswith("ran item")]
    assert items == ["ran item %d" % i for i in range(1, 6)], items   # none ran again on the replay
    assert run["replays"] == 2, run


def test_idempotent_start_gets_one_run(server):
    queue = "idem-" + uuid.uuid4().hex[:8]
    key = "greet-" + uuid.uuid4().hex[:8]
    cmd = [example("idempotent_start"), queue, "greet", key]
    r = subprocess.run(cmd, env=env_of(server), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    ids = {line.split()[1] for line in r.stdout.splitlines()}
    assert len(ids) == 1, r.stdout
    # and again: the run is still active, so the key still answers it
    again = subprocess.run(cmd, env=env_of(server), capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and {l.split()[1] for l in again.stdout.splitlines()} == ids, again.stdout
    runs = server.get("/v1/workflows", params={"queue": queue}).json()["workflows"]
    assert [w["id"] for w in runs] == list(ids) and runs[0]["idempotency_key"] == key, runs


def test_a_cron_schedule_starts_the_workflow(server, tmp_path):
    queue = "cron-" + uuid.uuid4().hex[:8]
    r = subprocess.run([example("cron"), "schedule", queue, queue, "0 * * * *", "Europe/Paris"],
                       env=env_of(server), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    next_fire = datetime.datetime.fromisoformat(json.loads(r.stdout)["next_fire_at"].replace("Z", "+00:00"))
    w = Worker(server, tmp_path, "cron", queue)
    try:
        time.sleep(0.3)
        assert server.get("/v1/workflows", params={"queue": queue}).json()["workflows"] == []
        # the server's clock to just past the next hour: the schedule fires
        # (on time, within the 60 s its catch-up "none" allows)
        now = datetime.datetime.now(datetime.timezone.utc)
        server.advance((next_fire - now).total_seconds() + 1)
        runs = wait_for(lambda: [x for x in server.get("/v1/workflows", params={"queue": queue}).json()["workflows"]
                                 if x["status"] == "completed"], what="a scheduled run completed")
    finally:
        assert w.stop() == 0, w.lines()
    assert len(runs) == 1 and runs[0]["type"] == "report", runs
    # started by the schedule itself (a workflow target), with its name as input
    assert runs[0]["input"] == {"schedule": queue}, runs
    assert runs[0]["output"] == {"report": "done", "schedule": queue}, runs
    s = server.get("/v1/schedules/" + queue).json()
    assert s["target"]["kind"] == "workflow" and s["overlap"] == "skip", s
    assert s["fires"] == 1 and s["last_run_id"] == runs[0]["id"], s
    assert w.lines().count("ran report") == 1, w.lines()
