"""`weft worker` end to end: jobs enqueued with `weft enqueue` against a real
server, run by a real worker process whose command is a shell script.

* a script reads its input on stdin and prints JSON: the job succeeds with
  the parsed result;
* a job with timeout_secs 1 whose script backgrounds a sleep is stopped at
  the timeout (the script and the sleep are gone) and fails with `timeout`;
* SIGTERM drains: the running job finishes and is reported, no new job is
  claimed, the worker exits 0;
* exit codes fail the job (exit_N, retried unless N is the permanent code,
  the message from stderr);
* heartbeats keep a 1 s lease alive under a 2.5 s job;
* a second signal kills the running job's group, gives its lease back and
  exits 143;
* a worker SIGKILLed mid-job: its job's process dies with it, and once the
  lease expires (the server's clock advanced) another worker runs the job
  again and completes it once.

The timeout and heartbeat cases wait in real time (2-3 s): a child's
timeout and the heartbeats run on the worker's own clock.
"""

import json
import os
import signal
import subprocess
import time

from harness import SANITIZER_MARKERS, wait_for, weft_bin

WORKER_EXIT_TIMEOUT = 15


def cli_env(server):
    env = dict(os.environ)
    env["WEFT_URL"] = server.base
    for name in ("WEFT_TOKEN", "WEFT_NAMESPACE"):
        env.pop(name, None)
    return env


def enqueue(server, *args):
    """Runs `weft enqueue ARGS`; the ids it printed."""
    r = subprocess.run([weft_bin(), "enqueue", *args], env=cli_env(server), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, (r.returncode, r.stderr)
    return [line.split()[0] for line in r.stdout.splitlines()]


class Worker:
    """One `weft worker` process; its stderr goes to a file in tmp_path."""

    def __init__(self, server, tmp_path, args, cmd):
        self.log_path = tmp_path / ("worker-%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "w")
        # a drain lets the claim waiting on the server end: keep that short
        self.proc = subprocess.Popen([weft_bin(), "worker", "--claim-wait", "1s", *args, "--", *cmd],
                                     env=cli_env(server),
                                     stdout=subprocess.DEVNULL, stderr=self.log, cwd=str(tmp_path))

    def log_text(self):
        return self.log_path.read_text()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=WORKER_EXIT_TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the worker did not exit within %ss:\n%s" % (timeout, self.log_text()))
        finally:
            self.log.close()
            # under build/asan/weft the worker is checked as the server is
            text = self.log_text()
            for marker in SANITIZER_MARKERS:
                assert marker not in text, "the worker wrote a sanitizer report:\n" + text

    def stop(self):
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            self.wait()


def job(server, job_id):
    r = server.get("/v1/tasks/" + job_id)
    assert r.status_code == 200, r.text
    return r.json()


def wait_job(server, job_id, statuses, timeout=10.0):
    return wait_for(lambda: (lambda j: j if j["status"] in statuses else None)(job(server, job_id)),
                    timeout=timeout, desc="job %s in %s" % (job_id, statuses))


def pid_gone(pid):
    """No such process, or only a zombie waiting for its new parent."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def script(tmp_path, name, text):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return str(path)


def test_script_result_is_parsed_json(server, tmp_path):
    run = script(tmp_path, "echo.sh",
                 'read -r input\n'
                 'printf \'{"got":%s,"attempt":%s,"queue":"%s","same_id":%s}\\n\' "$input" "$WEFT_ATTEMPT" '
                 '"$WEFT_QUEUE" "$([ "$WEFT_JOB_ID" = "$1" ] && echo true || echo false)"\n')
    [job_id] = enqueue(server, "cli-echo", '{"x":[1,"two"]}')
    # the script compares WEFT_JOB_ID with its first argument
    w = Worker(server, tmp_path, ["--queue", "cli-echo"], [run, job_id])
    try:
        done = wait_job(server, job_id, ("success", "failure"))
        assert done["status"] == "success", done
        assert done["result"] == {"got": {"x": [1, "two"]}, "attempt": 1, "queue": "cli-echo", "same_id": True}
        assert done["attempt"] == 1
    finally:
        w.stop()
    assert w.proc.returncode == 0, w.log_text()


def test_timeout_kills_the_group(server, tmp_path):
    pids = tmp_path / "pids"
    # the script records its pid and its background sleep's, then waits
    cmd = ["sh", "-c", 'echo $$ > "$0"; sleep 60 & echo $! >> "$0"; wait', str(pids)]
    [job_id] = enqueue(server, "--timeout", "1s", "--max-attempts", "1", "cli-timeout", "{}")
    w = Worker(server, tmp_path, ["--queue", "cli-timeout", "--kill-grace", "1s", "--lease", "30s"], cmd)
    try:
        wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, timeout=10, desc="both pids")
        sh_pid, sleep_pid = (int(p) for p in pids.read_text().split())
        done = wait_job(server, job_id, ("failure", "success"), timeout=10)
        assert done["status"] == "failure", done
        assert done["error"]["code"] == "timeout", done
        # the timeout reached the whole group: the script and its sleep
        wait_for(lambda: pid_gone(sh_pid) and pid_gone(sleep_pid), timeout=5, desc="the job's processes gone")
    finally:
        w.stop()
    assert w.proc.returncode == 0, w.log_text()


def test_sigterm_drains(server, tmp_path):
    started = tmp_path / "started"
    run = script(tmp_path, "slow.sh",
                 'read -r input\n'
                 'touch "%s"\n'
                 'sleep 1\n'
                 'echo \'{"slow":"done"}\'\n' % started)
    [first] = enqueue(server, "cli-drain", '"first"')
    w = Worker(server, tmp_path, ["--queue", "cli-drain", "--concurrency", "1"], [run])
    wait_for(started.exists, timeout=10, desc="the first job running")
    w.signal(signal.SIGTERM)
    # enqueued after the signal: a draining worker claims nothing
    [second] = enqueue(server, "cli-drain", '"second"')
    assert w.wait() == 0, w.log_text()
    done = job(server, first)
    assert done["status"] == "success", done
    assert done["result"] == {"slow": "done"}
    left = job(server, second)
    assert left["status"] == "pending", left
    assert left.get("started_at") is None, left
    assert "draining" in w.log_text()


def test_exit_codes_fail_the_job(server, tmp_path):
    run = script(tmp_path, "fail.sh",
                 'read -r input\n'
                 'echo "boom on attempt $WEFT_ATTEMPT" >&2\n'
                 'exit "$input"\n')
    [retried] = enqueue(server, "--max-attempts", "2", "--backoff", "100ms,1,100ms", "cli-fail", "3")
    [permanent] = enqueue(server, "--max-attempts", "5", "cli-fail", "100")
    w = Worker(server, tmp_path, ["--queue", "cli-fail", "--concurrency", "2"], [run])
    try:
        a = wait_job(server, retried, ("failure", "success"))
        b = wait_job(server, permanent, ("failure", "success"))
    finally:
        w.stop()
    # exit 3 is retried until the attempts run out; the message is stderr's end
    assert a["status"] == "failure" and a["attempt"] == 2, a
    assert a["error"]["code"] == "exit_3", a
    assert "boom on attempt 2" in a["error"]["message"], a
    assert a["dead_letter"] is True
    # exit 100, the permanent code, is not retried
    assert b["status"] == "failure" and b["attempt"] == 1, b
    assert b["error"]["code"] == "exit_100", b


def test_heartbeats_keep_a_job_past_its_lease(server, tmp_path):
    # a 1 s lease renewed every third of a second, for a job of 2.5 s
    run = script(tmp_path, "long.sh", 'read -r input\nsleep 2.5\necho \'"done"\'\n')
    [job_id] = enqueue(server, "cli-long", "null")
    w = Worker(server, tmp_path, ["--queue", "cli-long", "--lease", "1s"], [run])
    try:
        done = wait_job(server, job_id, ("success", "failure"), timeout=15)
    finally:
        w.stop()
    assert done["status"] == "success", done
    assert done["result"] == "done"
    assert done["attempt"] == 1, done   # the lease never lapsed
    assert "lost" not in w.log_text()


def test_second_signal_kills_and_releases(server, tmp_path):
    pids = tmp_path / "pids"
    cmd = ["sh", "-c", 'read -r input; echo $$ > "$0"; sleep 60 & echo $! >> "$0"; wait', str(pids)]
    [job_id] = enqueue(server, "cli-force", "{}")
    w = Worker(server, tmp_path, ["--queue", "cli-force"], cmd)
    wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, timeout=10, desc="the job running")
    sh_pid, sleep_pid = (int(p) for p in pids.read_text().split())
    w.signal(signal.SIGTERM)   # drain: the job would run for a minute
    wait_for(lambda: "draining" in w.log_text(), timeout=5, desc="the drain")
    w.signal(signal.SIGTERM)
    assert w.wait() == 143, w.log_text()
    # the job's processes are gone, and its lease was given back at once
    wait_for(lambda: pid_gone(sh_pid) and pid_gone(sleep_pid), timeout=5, desc="the job's processes gone")
    back = job(server, job_id)
    assert back["status"] == "pending", back
    assert back["attempts"][-1]["outcome"] == "released", back


def test_sigkilled_worker_job_runs_again_after_its_lease(server, tmp_path):
    """A worker SIGKILLed mid-job loses nothing: once the lease it held
    expires, another worker claims the job again (attempt 2) and completes
    it, once."""
    runs = tmp_path / "runs"
    cmd = script(tmp_path, "slow.sh",
                 'echo "$WEFT_ATTEMPT $$" >> %s\n'
                 '[ "$WEFT_ATTEMPT" = 1 ] && exec sleep 60\n'
                 'echo \'{"done": true}\'\n' % runs)
    (job_id,) = enqueue(server, "q-kill", "--max-attempts", "3", '{"n": 1}')
    first = Worker(server, tmp_path, ["--queue", "q-kill", "--lease", "30s"], [cmd])
    wait_for(lambda: runs.exists() and runs.read_text().startswith("1 "), desc="the first attempt runs")
    child = int(runs.read_text().split()[1])
    first.proc.kill()
    first.proc.wait()
    first.log.close()
    wait_for(lambda: pid_gone(child), desc="the job's process dies with its worker")
    assert job(server, job_id)["status"] == "running"

    server.advance(31)                  # the lease expires: the job is claimable again
    second = Worker(server, tmp_path, ["--queue", "q-kill"], [cmd])
    try:
        done = wait_job(server, job_id, ("success", "failure", "canceled"))
    finally:
        second.stop()
    assert done["status"] == "success" and done["result"] == {"done": True}
    assert done["attempt"] == 2
    assert [a["outcome"] for a in done["attempts"]] == ["lease_expired"]
    assert [line.split()[0] for line in runs.read_text().splitlines()] == ["1", "2"]
    trail = server.get("/v1/tasks/%s/events" % job_id).json()["events"]
    assert sum(1 for e in trail if e["to"] == "success") == 1, trail


def test_json_prints_each_answered_report(server, tmp_path):
    """--json: a line of JSON per answered report on stdout, for scripts;
    a failing job's report says so, and the job's retry is its own line."""
    ok = script(tmp_path, "ok.sh", 'cat >/dev/null\nif [ "$WEFT_JOB_ID" = "$1" ]; then exit 3; fi\necho 1\n')
    ids = enqueue(server, "cli-json", "1", "2", "3", "--max-attempts", "2")
    out = tmp_path / "out.ndjson"
    with open(out, "w") as f:
        proc = subprocess.Popen([weft_bin(), "worker", "--json", "--queue", "cli-json", "--", ok, ids[0]],
                                env=cli_env(server), stdout=f, stderr=subprocess.DEVNULL, cwd=str(tmp_path))
        try:
            for i in ids:
                wait_job(server, i, ("success", "failure"))
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=WORKER_EXIT_TIMEOUT) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(set(line) == {"id", "attempt", "report", "outcome"} for line in lines), lines
    by_job = {}
    for line in lines:
        by_job.setdefault(line["id"], []).append((line["attempt"], line["report"], line["outcome"]))
    assert by_job[ids[1]] == [(1, "complete", "completed")]
    assert by_job[ids[2]] == [(1, "complete", "completed")]
    assert by_job[ids[0]] == [(1, "fail", "retrying"), (2, "fail", "dead_lettered")]
