"""The crash test every client's example worker passes: a queue of jobs is
drained by a worker process that is killed (SIGKILL) part-way through, and
by a second one started after it; every job must end in success with
exactly one successful attempt and the result the handler computed, and
the second worker must stop cleanly on SIGTERM.

Every example worker follows one interface, so that this test and the
client benchmark drive them alike:

    <worker command> QUEUE      with WEFT_URL (and WEFT_TOKEN) set

It claims from QUEUE until SIGTERM or SIGINT, then finishes the jobs in
hand, reports them and exits 0. Its handler answers {"n": input.n,
"double": 2 * input.n}; when the input has "sleep_ms", it first sleeps
that long (so that a kill finds jobs in flight).
"""

import concurrent.futures
import signal
import subprocess
import time

import requests

SLEEP_MS = 3
LEASE_MS = 1500


def enqueue(base, queue, n, headers=None):
    """Enqueues n jobs {"n": i, "sleep_ms": SLEEP_MS}; returns their ids
    in order."""
    ids = []
    for start in range(0, n, 500):
        jobs = [{"queue": queue, "input": {"n": i, "sleep_ms": SLEEP_MS}, "max_attempts": -1}
                for i in range(start, min(n, start + 500))]
        r = requests.post(base + "/v1/jobs", json={"jobs": jobs}, headers=headers, timeout=30)
        assert r.status_code == 201, r.text
        ids.extend(j["id"] for j in r.json()["jobs"])
    return ids


def queue_depth(base, queue, headers=None):
    r = requests.get(base + "/v1/queues/" + queue, headers=headers, timeout=10)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json()["depth"]


def succeeded(base, queue, headers=None):
    """How many of the queue's jobs are in success (by paging the list)."""
    n, cursor = 0, None
    while True:
        params = {"queue": queue, "status": "success", "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        r = requests.get(base + "/v1/tasks", params=params, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        n += len(body["tasks"])
        cursor = body.get("next_cursor")
        if not cursor:
            return n


def _wait(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.1)


def _stop(proc, sig, timeout):
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("worker did not exit within %.0f s of signal %d" % (timeout, sig))


def drain_with_a_kill(base, queue, start_worker, n=1000, headers=None, timeout=120):
    """Runs the crash test. start_worker() starts one worker process on
    queue and returns its Popen. Returns what happened: the jobs done
    before the kill, the attempts the kill left to expire, the seconds."""
    t0 = time.monotonic()
    ids = enqueue(base, queue, n, headers)

    first = start_worker()
    try:
        _wait("the first worker to complete a third of the jobs",
              lambda: first.poll() is not None or succeeded(base, queue, headers) >= n // 3, timeout)
        assert first.poll() is None, "the first worker exited early with %r" % first.returncode
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
    before = succeeded(base, queue, headers)
    assert before < n, "the first worker drained everything before the kill; nothing was tested"

    second = start_worker()
    try:
        _wait("the second worker to drain the queue",
              lambda: second.poll() is not None or succeeded(base, queue, headers) == n, timeout)
        assert second.poll() is None, "the second worker exited early with %r" % second.returncode
        rc = _stop(second, signal.SIGTERM, 15)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    assert rc == 0, "the second worker exited with %r after SIGTERM" % rc

    def check(pair):
        """The job's result, and how many times it entered success (from
        its event trail) and how many of its attempts ended by a lease
        running out (the kill's mark)."""
        i, task_id = pair
        r = requests.get(base + "/v1/tasks/" + task_id, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        t = r.json()
        assert t["status"] == "success", (task_id, t["status"])
        assert t["result"] == {"n": i, "double": 2 * i}, (task_id, t["result"])
        r = requests.get(base + "/v1/tasks/%s/events" % task_id, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        wins = sum(1 for e in r.json()["events"] if e["to"] == "success")
        assert wins == 1, "job %s entered success %d times: %r" % (task_id, wins, r.json()["events"])
        return sum(1 for a in t.get("attempts", []) if a.get("outcome") == "lease_expired")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        expired = sum(pool.map(check, enumerate(ids)))
    depth = queue_depth(base, queue, headers)
    assert depth is not None and depth["ready"] == 0 and depth["running"] == 0, depth
    return {"before_kill": before, "lease_expired": expired, "seconds": time.monotonic() - t0}
