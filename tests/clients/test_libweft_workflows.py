"""libweft's workflow runtime against a real server: the C test program's
scenarios (tests/clients/test_libweft_workflows.c, in its ASan+UBSan
build and its normal one), and a worker killed in the middle of a step
whose run a second worker finishes.

Everything here is built by `make` (mk/workflow-examples.mk adds it to
CLIENT_TEST_DEPS)."""

import os
import signal
import subprocess
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_BINS = [os.path.join(ROOT, "build", "asan", "tests", "libweft_workflows"),
             os.path.join(ROOT, "build", "tests", "libweft_workflows")]


def built(path):
    if not os.path.exists(path):
        pytest.fail("%s is not built: run `make %s` (CLIENT_TEST_DEPS)" % (path, os.path.relpath(path, ROOT)))
    return path


def program_env():
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    env.pop("WEFT_TOKEN", None)
    return env


@pytest.mark.parametrize("scenario", ["register", "steps", "failed", "cancel", "swallow", "unknown",
                                      "heartbeat", "run-retry"])
def test_the_workflow_runtime(server, scenario):
    for binary in TEST_BINS:
        r = subprocess.run([built(binary), server.base, scenario], capture_output=True, text=True, timeout=90,
                           env=program_env())
        assert r.returncode == 0 and r.stdout.strip() == "ok " + scenario, \
            "%s %s: exit %d\n%s%s" % (binary, scenario, r.returncode, r.stdout, r.stderr)


def wait_for(pred, timeout=30.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("%s not met in %ss" % (what, timeout))


def test_a_worker_killed_in_step_3_of_5_is_resumed_by_another(server, tmp_path):
    """SIGKILL while step 3 runs: after the 1 s lease the run's job is
    claimed again, by a second worker, which answers steps 1 and 2 from
    the memo and runs 3 (again), 4 and 5."""
    binary = built(TEST_BINS[1])
    queue = "five-" + uuid.uuid4().hex[:8]
    r = server.post("/v1/workflows", json={"type": "five", "queue": queue, "max_attempts": 3})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    (tmp_path / "block").touch()
    logs = []

    def worker():
        logs.append(open(tmp_path / ("worker-%d.log" % len(logs)), "w"))
        return subprocess.Popen([binary, server.base, "five-steps", queue, str(tmp_path)], env=program_env(),
                                stdout=logs[-1], stderr=subprocess.STDOUT)

    first = worker()
    second = None
    try:
        wait_for(lambda: (tmp_path / "in-step-3").exists(), what="the first worker in step 3")
        first.kill()
        first.wait(timeout=10)
        (tmp_path / "block").unlink()
        second = worker()
        server.advance(2)   # past the killed worker's 1 s lease
        run = wait_for(lambda: (lambda x: x if x["status"] == "completed" else None)(
            server.get("/v1/workflows/" + run_id).json()), what="the run completed")
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=15)
        for f in logs:
            f.close()
    assert second.returncode == 0, (tmp_path / "worker-1.log").read_text()
    assert run["output"] == {"sum": 1 + 4 + 9 + 16 + 25}, run
    steps = (tmp_path / "log").read_text().split("\n")[:-1]
    assert steps == ["step 1", "step 2", "step 3", "step 3", "step 4", "step 5"], steps
    job = server.get("/v1/tasks/" + run_id).json()
    assert job["attempt"] == 2, job   # the lost lease used an attempt
