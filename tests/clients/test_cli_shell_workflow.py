"""`weft step` and `weft sleep` in a shell script run by `weft worker`: a
durable workflow whose steps are memoized across replays, with the
server's injected clock ending the sleep."""

import os
import signal
import subprocess
import time

import pytest


def wait_for(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("condition not met in %ss" % timeout)


def run_of(server, run_id):
    r = server.get("/v1/workflows/" + run_id)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def script(tmp_path, weft_bin):
    path = tmp_path / "flow.sh"
    path.write_text(
        "#!/bin/sh\n"
        "set -e\n"
        "cd '%s'\n"
        "W='%s'\n"
        "\"$W\" step a -- sh -c 'echo 1 >> counter; echo A'\n"
        "\"$W\" sleep nap 5s\n"
        "\"$W\" step b -- sh -c 'echo 1 >> counter_b; echo B'\n" % (tmp_path, weft_bin))
    path.chmod(0o755)
    return path


def test_steps_are_memoized_across_a_sleep(weft_factory, weft_bin, script, tmp_path):
    server = weft_factory.start()
    r = server.post("/v1/workflows", json={"type": "flow", "queue": "wf"})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen([weft_bin, "worker", "--url", server.base, "--queue", "wf", "--claim-wait", "1s",
                               "--", str(script)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: run_of(server, run_id)["status"] == "suspended")
        assert (tmp_path / "counter").read_text() == "1\n"
        assert not (tmp_path / "counter_b").exists()
        server.advance(6)
        run = wait_for(lambda: (lambda x: x if x["status"] == "completed" else None)(run_of(server, run_id)))
        assert (tmp_path / "counter").read_text() == "1\n"   # a was memoized, not run again
        assert (tmp_path / "counter_b").read_text() == "1\n"
        # The job's result is the script's stdout: the memoized step prints
        # its stored output as the step's command did.
        job = server.get("/v1/tasks/" + run_id).json()
        assert job["result"] == "A\nB", job
        # The run shows its job's end: the result as its output, its end time.
        assert run["output"] == "A\nB" and run["ended_at"][:23] == job["ended_at"][:23], run   # µs vs ms
        listed = server.get("/v1/workflows", params={"status": "completed"}).json()["workflows"]
        assert [(w["id"], w["output"]) for w in listed] == [(run_id, "A\nB")]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert "suspended" in text, text
    assert worker.returncode == 0, text


def test_step_refuses_outside_a_job(weft_bin):
    env = {k: v for k, v in os.environ.items() if k not in ("WEFT_JOB_ID", "WEFT_LEASE_TOKEN")}
    p = subprocess.run([weft_bin, "step", "a", "--", "true"], env=env, capture_output=True, text=True)
    assert p.returncode == 2 and "not inside a workflow job" in p.stderr
    p = subprocess.run([weft_bin, "sleep", "nap", "5x"], env=env, capture_output=True, text=True)
    assert p.returncode == 2 and "DURATION" in p.stderr


def write_script(tmp_path, weft_bin, body):
    path = tmp_path / "flow.sh"
    path.write_text("#!/bin/sh\nset -e\ncd '%s'\nW='%s'\n%s" % (tmp_path, weft_bin, body))
    path.chmod(0o755)
    return path


def start_worker(server, weft_bin, script, tmp_path):
    log = open(tmp_path / "worker.log", "w")
    p = subprocess.Popen([weft_bin, "worker", "--url", server.base, "--queue", "wf", "--claim-wait", "1s",
                          "--", str(script)], stdout=log, stderr=subprocess.STDOUT)
    return p, log


def stop_worker(p, log):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    log.close()


# The step's command fails on its first try: the step's retry suspends the
# run (weft step exits 75, nothing is reported), and the replay after the
# backoff runs the command again and completes.
def test_a_failed_step_is_retried_after_its_backoff(weft_factory, weft_bin, tmp_path):
    server = weft_factory.start()
    script = write_script(tmp_path, weft_bin,
                          "\"$W\" step flaky -- sh -c 'echo x >> tries; [ $(wc -l < tries) -ge 2 ] || exit 3; echo ok'\n")
    r = server.post("/v1/workflows", json={"type": "flow", "queue": "wf", "max_attempts": 2,
                                           "backoff": {"initial_ms": 1000, "jitter": 0}})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    p, log = start_worker(server, weft_bin, script, tmp_path)
    try:
        wait_for(lambda: run_of(server, run_id)["status"] == "suspended")
        assert run_of(server, run_id)["suspended"]["reason"] == "retry"
        assert (tmp_path / "tries").read_text() == "x\n"
        server.advance(1.5)
        wait_for(lambda: run_of(server, run_id)["status"] == "completed")
        assert (tmp_path / "tries").read_text() == "x\nx\n"
        assert server.get("/v1/tasks/" + run_id).json()["result"] == "ok"
    finally:
        stop_worker(p, log)


# A step failed for good: weft step exits with the command's code (1 for
# the command's own 75, which would read as a suspension), the script
# stops, and the worker fails the job.
@pytest.mark.parametrize("code,job_code", [(3, "exit_3"), (75, "exit_1")])
def test_a_step_failed_for_good_fails_the_job(weft_factory, weft_bin, tmp_path, code, job_code):
    server = weft_factory.start()
    script = write_script(tmp_path, weft_bin, "\"$W\" step once -- sh -c 'exit %d'\necho unreachable > after\n" % code)
    r = server.post("/v1/workflows", json={"type": "flow", "queue": "wf", "max_attempts": 1})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    p, log = start_worker(server, weft_bin, script, tmp_path)
    try:
        wait_for(lambda: run_of(server, run_id)["status"] == "failed")
        assert not (tmp_path / "after").exists()
        job = server.get("/v1/tasks/" + run_id).json()
        assert job["status"] == "failure", job
        assert job_code in str(job), job
    finally:
        stop_worker(p, log)


# `weft wait-signal`: suspends (exit 75) until the signal comes, then
# prints its payload on the replay; with --timeout, a wait that ended
# without the signal exits 124, which the script may handle (it must pass
# 75 on, to stop where the run suspends).
def test_wait_signal_in_a_script(weft_factory, weft_bin, tmp_path):
    server = weft_factory.start()
    script = write_script(tmp_path, weft_bin,
                          "\"$W\" step a -- sh -c 'echo x >> ca; echo A'\n"
                          "P=$(\"$W\" wait-signal approve)\n"
                          "echo \"$P\" > payload\n"
                          "\"$W\" wait-signal late --timeout 2s > late_out || { rc=$?; [ $rc -ne 75 ] || exit 75; "
                          "echo \"rc=$rc\" > late_result; }\n"
                          "echo done\n")
    r = server.post("/v1/workflows", json={"type": "flow", "queue": "wf"})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    p, log = start_worker(server, weft_bin, script, tmp_path)
    try:
        wait_for(lambda: run_of(server, run_id)["status"] == "suspended")
        assert run_of(server, run_id)["suspended"] == {"reason": "signal", "wake_at": None, "signal": "approve"}
        assert not (tmp_path / "payload").exists()
        r = server.post("/v1/workflows/%s/signals" % run_id, json={"name": "approve", "payload": {"by": "ann"}})
        assert r.status_code == 201 and r.json()["woke"] is True, r.text
        wait_for(lambda: (run_of(server, run_id).get("suspended") or {}).get("signal") == "late")
        assert (tmp_path / "payload").read_text() == '{"by":"ann"}\n'
        server.advance(3)
        wait_for(lambda: run_of(server, run_id)["status"] == "completed")
        assert (tmp_path / "late_result").read_text() == "rc=124\n"
        assert (tmp_path / "late_out").read_text() == ""
        assert (tmp_path / "ca").read_text() == "x\n"                # step a ran once
        assert server.get("/v1/tasks/" + run_id).json()["result"] == "A\ndone"
    finally:
        stop_worker(p, log)
    r = subprocess.run([weft_bin, "wait-signal"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr
    r = subprocess.run([weft_bin, "wait-signal", "x", "--timeout", "soon"], capture_output=True, text=True)
    assert r.returncode == 2 and "--timeout" in r.stderr
