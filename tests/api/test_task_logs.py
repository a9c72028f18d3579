"""Per-execution logs: a worker appends lines to its held job over HTTP
(fenced by its lease token), the task's lines read back complete and
ordered (seq contiguous from 1) in keyset pages, the buffer's overflow
recorded as a system line, the search across executions by each filter,
and retention (archiving a task deletes its lines; LOG_RETENTION_* drops
old ones)."""

import time

import pytest

from harness import wait_for


def enqueue(api, queue="q", **extra):
    r = api.post("/v1/jobs", json={"jobs": [dict(queue=queue, **extra)]})
    assert r.status_code == 201, r.text
    return r.json()["jobs"][0]


def claim(api, queue="q"):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w1"})
    assert r.status_code == 200, r.text
    (job,) = r.json()["jobs"]
    return job


def append(api, job, lines, token=None):
    return api.post("/v1/jobs/%s/logs" % job["id"],
                    json={"lease_token": job["lease_token"] if token is None else token, "lines": lines})


def all_lines(api, task_id, **params):
    out, cursor = [], None
    while True:
        q = dict(params, limit=1000)
        if cursor:
            q["cursor"] = cursor
        r = api.get("/v1/tasks/%s/logs" % task_id, params=q)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["lines"]
        if not page["more"]:
            return out
        cursor = page["next_cursor"]


def wait_lines(api, task_id, n):
    wait_for(lambda: len(all_lines(api, task_id)) >= n, timeout=30)
    return all_lines(api, task_id)


def test_append_read_ordered_and_fenced(make_api):
    # A buffer that holds every line even if the engine falls behind.
    api = make_api(LOG_BUFFER_LINES="200000", LOG_BUFFER_BYTES="67108864")
    enqueue(api)
    job = claim(api)
    total = 100_000
    for start in range(0, total, 1000):
        lines = [{"text": "line %d" % i, "stream": "stderr" if i % 7 == 0 else "stdout"}
                 for i in range(start, start + 1000)]
        r = append(api, job, lines)
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 1000 and r.json()["dropped"] is False
    got = wait_lines(api, job["id"], total)
    assert len(got) == total
    assert [l["seq"] for l in got] == list(range(1, total + 1))
    assert [l["text"] for l in got] == ["line %d" % i for i in range(total)]
    assert all(l["attempt"] == 1 for l in got)
    assert got[7]["stream"] == "stderr" and got[7]["level"] == "warn"
    assert got[1]["stream"] == "stdout" and got[1]["level"] == "info"
    # Filters of the task's route.
    err = all_lines(api, job["id"], stream="stderr")
    assert len(err) == len([i for i in range(total) if i % 7 == 0])
    assert api.get("/v1/tasks/%s/logs" % job["id"], params={"stream": "nope"}).status_code == 400
    # A stale token is refused and writes nothing.
    r = append(api, job, [{"text": "late"}], token=str(int(job["lease_token"]) + 1))
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_lease", r.text
    # Bad input names its field.
    r = append(api, job, [])
    assert r.status_code == 400 and "lines" in r.text
    r = append(api, job, [{"text": "x", "stream": "system"}])
    assert r.status_code == 400 and "stream" in r.text
    r = append(api, job, [{"text": "x" * 70000}])
    assert r.status_code == 413, r.text
    # Once the job ended, its lease no longer admits lines.
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": 1})
    assert r.status_code == 200, r.text
    assert append(api, job, [{"text": "after"}]).status_code == 409
    assert api.get("/v1/tasks/00000000-0000-7000-8000-000000000000/logs").status_code == 404


def test_long_line_cut_and_marked(api):
    enqueue(api)
    job = claim(api)
    assert append(api, job, [{"text": "é" * 20000}]).status_code == 200
    (line,) = wait_lines(api, job["id"], 1)
    assert line["text"].endswith(" [cut]") and len(line["text"].encode()) <= 16384
    assert set(line["text"][:-6]) == {"é"}


def test_buffer_overflow_drop_recorded(make_api):
    api = make_api(LOG_BUFFER_LINES="1")
    enqueue(api)
    job = claim(api)
    # 1,000 lines in one call: the buffer keeps the newest only.
    r = append(api, job, [{"text": "n%d" % i} for i in range(1000)])
    assert r.status_code == 200 and r.json()["dropped"] is True, r.text
    got = wait_lines(api, job["id"], 2)
    assert got[0]["stream"] == "system" and got[0]["text"] == "999 lines dropped", got[:2]
    assert got[1]["text"] == "n999"
    assert [l["seq"] for l in got] == [1, 2]


def test_search_filters(api):
    enqueue(api, queue="alpha")
    a = claim(api, "alpha")
    r = api.post("/v1/jobs", json={"namespace": "other", "jobs": [{"queue": "beta"}]})
    assert r.status_code == 201, r.text
    r = api.post("/v1/jobs/claim", json={"queues": ["beta"], "worker_id": "w2", "namespace": "other"})
    (b,) = r.json()["jobs"]
    assert append(api, a, [{"text": "Hello Alpha"}, {"text": "boom", "stream": "stderr", "level": "error"}]).status_code == 200
    assert append(api, b, [{"text": "hello beta"}]).status_code == 200
    wait_lines(api, a["id"], 2)
    wait_lines(api, b["id"], 1)

    def search(**q):
        r = api.get("/v1/logs", params=q)
        assert r.status_code == 200, r.text
        return [l["text"] for l in r.json()["lines"]]

    assert sorted(search()) == ["Hello Alpha", "boom", "hello beta"]
    assert search(namespace="other") == ["hello beta"]
    assert sorted(search(task_id=a["id"])) == ["Hello Alpha", "boom"]
    assert sorted(search(run_id=a["run_id"])) == ["Hello Alpha", "boom"]
    assert search(queue="beta") == ["hello beta"]
    assert search(stream="stderr") == ["boom"]
    assert search(level="error") == ["boom"]
    assert sorted(search(q="HELLO")) == ["Hello Alpha", "hello beta"]
    assert search(since="2999-01-01T00:00:00Z") == []
    assert len(search(until="2999-01-01T00:00:00Z")) == 3
    # Newest first, in pages that neither repeat nor skip.
    r = api.get("/v1/logs", params={"limit": 2})
    page = r.json()
    assert len(page["lines"]) == 2 and page["next_cursor"]
    r = api.get("/v1/logs", params={"limit": 2, "cursor": page["next_cursor"]})
    rest = r.json()
    assert len(rest["lines"]) == 1 and rest["next_cursor"] is None
    assert sorted(l["text"] for l in page["lines"] + rest["lines"]) == ["Hello Alpha", "boom", "hello beta"]
    # A cursor of another search is refused; bad filters name themselves.
    assert api.get("/v1/logs", params={"cursor": page["next_cursor"], "queue": "x"}).status_code == 400
    assert "level" in api.get("/v1/logs", params={"level": "loud"}).text


def test_archiving_deletes_logs(make_api):
    api = make_api(RETENTION_ARCHIVE_AFTER_SECS="1", RETENTION_CLEANUP_INTERVAL_SECS="0.5")
    enqueue(api)
    job = claim(api)
    assert append(api, job, [{"text": "kept until archived"}]).status_code == 200
    wait_lines(api, job["id"], 1)
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": 1})
    assert r.status_code == 200
    api.advance(5)
    wait_for(lambda: api.get("/v1/logs", params={"task_id": job["id"]}).json()["lines"] == [], timeout=20)


def test_log_retention_age(make_api):
    api = make_api(LOG_RETENTION_AFTER_SECS="60", RETENTION_CLEANUP_INTERVAL_SECS="0.5")
    enqueue(api)
    job = claim(api)
    assert append(api, job, [{"text": "old"}]).status_code == 200
    wait_lines(api, job["id"], 1)
    api.advance(30)
    time.sleep(1)
    assert len(all_lines(api, job["id"])) == 1
    api.advance(60)
    wait_for(lambda: all_lines(api, job["id"]) == [], timeout=20)


# ---- `weft worker` captures its jobs' output; `weft logs -f` follows ----------------

import os
import signal
import subprocess

from harness import weft_bin


def cli_env(server):
    env = dict(os.environ)
    env["WEFT_URL"] = server.base
    for name in ("WEFT_TOKEN", "WEFT_NAMESPACE"):
        env.pop(name, None)
    return env


def start_worker(server, tmp_path, script, queue="q"):
    path = tmp_path / "job.sh"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    log = open(tmp_path / "worker.log", "w")
    return subprocess.Popen([weft_bin(), "worker", "--claim-wait", "1s", "--queue", queue, "--", str(path)],
                            env=cli_env(server), stdout=subprocess.DEVNULL, stderr=log, cwd=str(tmp_path))


def stop_worker(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def task_status(api, task_id):
    return api.get("/v1/tasks/%s" % task_id).json()["status"]


def test_worker_captures_100k_lines(api, tmp_path):
    # The default buffer: the worker is slowed down rather than its lines dropped.
    # 100,000 stdout lines (6 digits each: the result stays under 1 MiB)
    # and every thousandth also on stderr.
    script = ("awk 'BEGIN { for (i = 0; i < 100000; i++) { printf \"%06d\\n\", i; "
              "if (i % 1000 == 0) printf \"err %d\\n\", i > \"/dev/stderr\" } }'\n")
    job = enqueue(api)
    w = start_worker(api.server, tmp_path, script)
    try:
        wait_for(lambda: task_status(api, job["id"]) in ("success", "failure"), timeout=120)
    finally:
        stop_worker(w)
    assert task_status(api, job["id"]) == "success"
    got = all_lines(api, job["id"])
    out = [l["text"] for l in got if l["stream"] == "stdout"]
    err = [l["text"] for l in got if l["stream"] == "stderr"]
    assert out == ["%06d" % i for i in range(100000)]
    assert err == ["err %d" % i for i in range(0, 100000, 1000)]
    assert [l["seq"] for l in got] == list(range(1, len(got) + 1))
    assert len(got) == 100100


def test_logs_follow_shows_lines_live(api, tmp_path):
    gate = tmp_path / "gate"
    # The job prints a line, then waits for the test to have seen it.
    script = ("echo first line\nwhile [ ! -e %s ]; do sleep 0.05; done\necho second line >&2\necho '{\"ok\":1}'\n"
              % gate)
    job = enqueue(api)
    follow = subprocess.Popen([weft_bin(), "logs", "-f", job["id"]], env=cli_env(api.server),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    w = start_worker(api.server, tmp_path, script)
    try:
        assert follow.stdout.readline() == "first line\n"
        # Seen while the job still runs (it waits for the gate).
        assert task_status(api, job["id"]) == "running"
        gate.write_text("")
        assert follow.stderr.readline() == "second line\n"
        assert follow.wait(timeout=30) == 0   # ended with the task
        assert task_status(api, job["id"]) == "success"
        assert follow.stdout.read() == '{"ok":1}\n'
    finally:
        if follow.poll() is None:
            follow.kill()
        stop_worker(w)


def read_events(resp):
    """(event, data) pairs of a server-sent event stream, as they arrive."""
    event, data = None, []
    for raw in resp.iter_lines(decode_unicode=True):
        if raw == "":
            if event is not None:
                yield event, "\n".join(data)
            event, data = None, []
        elif raw.startswith(":"):
            continue
        elif raw.startswith("event: "):
            event = raw[7:]
        elif raw.startswith("data: "):
            data.append(raw[6:])


def test_sse_follows_until_the_end(api):
    import json
    import requests
    enqueue(api)
    job = claim(api)
    assert append(api, job, [{"text": "before"}]).status_code == 200
    wait_lines(api, job["id"], 1)
    url = api.server.base + "/v1/tasks/%s/logs" % job["id"]
    with requests.get(url, headers={"Accept": "text/event-stream"}, stream=True, timeout=30) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events = read_events(resp)
        ev, data = next(events)
        assert ev == "line" and json.loads(data)["text"] == "before"
        # A line appended while the stream is open arrives on it.
        assert append(api, job, [{"text": "during", "stream": "stderr"}]).status_code == 200
        ev, data = next(events)
        line = json.loads(data)
        assert ev == "line" and line["text"] == "during" and line["seq"] == 2 and line["stream"] == "stderr"
        r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": 1})
        assert r.status_code == 200
        ev, data = next(events)
        assert ev == "end" and json.loads(data)["status"] == "success"
    # follow=true does the same without the header; a bad value names itself.
    with requests.get(url, params={"follow": "true"}, stream=True, timeout=30) as resp:
        got = list(read_events(resp))
    assert [e for e, _ in got] == ["line", "line", "end"]
    r = api.get("/v1/tasks/%s/logs" % job["id"], params={"follow": "yes"})
    assert r.status_code == 400 and "follow" in r.text


def test_sse_streams_are_bounded(make_api):
    import requests
    api = make_api(LOG_STREAMS_MAX="1")
    enqueue(api)
    job = claim(api)
    url = api.server.base + "/v1/tasks/%s/logs?follow=true" % job["id"]
    with requests.get(url, stream=True, timeout=30) as first:
        assert first.status_code == 200
        r = api.get("/v1/tasks/%s/logs" % job["id"], params={"follow": "true"})
        assert r.status_code == 503, r.text
    # The first one closed: room again (its end is noticed by a write, so
    # the server may need a moment).
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": 1})
    assert r.status_code == 200
    wait_for(lambda: api.get("/v1/tasks/%s/logs" % job["id"], params={"follow": "true"}).status_code == 200,
             timeout=10)


def test_seq_continues_after_a_restart(api):
    from harness import Api
    enqueue(api)
    job = claim(api)
    assert append(api, job, [{"text": "a%d" % i} for i in range(5)]).status_code == 200
    wait_lines(api, job["id"], 5)
    api2 = Api(api.server.restart(same_port=True), api.mock)
    # The lease survives the restart; the numbers go on from the stored ones.
    assert append(api2, job, [{"text": "b%d" % i} for i in range(3)]).status_code == 200
    got = wait_lines(api2, job["id"], 8)
    assert [l["seq"] for l in got] == list(range(1, 9))
    assert [l["text"] for l in got] == ["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2"]


@pytest.mark.postgres_only
def test_two_nodes_number_one_execution(weft_factory, mock):
    """A worker's requests reaching two nodes of one database: each node
    numbers the lines it takes, a key taken by the other makes it number
    them again after the stored ones, and no line is lost."""
    from harness import Api
    first = weft_factory.start()
    second = weft_factory.start(db=first.db)
    a, b = Api(first, mock), Api(second, mock)
    enqueue(a)
    job = claim(a)
    sent = []
    for k in range(20):
        node = a if k % 2 == 0 else b
        lines = ["n%d-%d" % (k, i) for i in range(50)]
        assert append(node, job, [{"text": t} for t in lines]).status_code == 200
        sent += lines
    got = wait_lines(a, job["id"], len(sent))
    assert [l["seq"] for l in got] == list(range(1, len(sent) + 1))
    assert sorted(l["text"] for l in got) == sorted(sent)


def test_worker_splits_long_lines(api, tmp_path):
    # 40,000 bytes then exactly 16,384, without a trailing newline at the end.
    script = ("awk 'BEGIN { s = \"\"; for (i = 0; i < 40000; i++) s = s \"x\"; print s; "
              "t = \"\"; for (i = 0; i < 16384; i++) t = t \"y\"; print t; printf \"tail\" }' >&2\n")
    job = enqueue(api)
    w = start_worker(api.server, tmp_path, script)
    try:
        wait_for(lambda: task_status(api, job["id"]) == "success", timeout=60)
    finally:
        stop_worker(w)
    got = [l["text"] for l in all_lines(api, job["id"])]
    assert got == ["x" * 16384, "x" * 16384, "x" * 7232, "y" * 16384, "tail"]


def test_namespaces_of_a_scoped_token(make_api):
    a_tok, root = "token-of-team-a-0123", "admin-token-0123456789"
    api = make_api(WEFT_TOKENS="a %s a client; root %s * admin" % (a_tok, root))
    ha, hr = {"Authorization": "Bearer " + a_tok}, {"Authorization": "Bearer " + root}
    r = api.post("/v1/jobs", json={"namespace": "b", "jobs": [{"queue": "q"}]}, headers=hr)
    assert r.status_code == 201, r.text
    (jb,) = api.post("/v1/jobs/claim", json={"namespace": "b", "queues": ["q"], "worker_id": "w"},
                     headers=hr).json()["jobs"]
    r = api.post("/v1/jobs/%s/logs" % jb["id"], json={"lease_token": jb["lease_token"], "lines": [{"text": "b's"}]},
                 headers=hr)
    assert r.status_code == 200, r.text
    wait_for(lambda: len(api.get("/v1/tasks/%s/logs" % jb["id"], headers=hr).json()["lines"]) == 1, timeout=10)
    # Team a sees neither the task's lines nor them in a search, and cannot append.
    assert api.get("/v1/tasks/%s/logs" % jb["id"], headers=ha).status_code == 404
    assert api.get("/v1/tasks/%s/logs" % jb["id"], headers=ha, params={"follow": "true"}).status_code == 404
    assert api.get("/v1/logs", headers=ha).json()["lines"] == []
    assert api.get("/v1/logs", headers=ha, params={"namespace": "b"}).json()["lines"] == []
    r = api.post("/v1/jobs/%s/logs" % jb["id"], json={"lease_token": jb["lease_token"], "lines": [{"text": "x"}]},
                 headers=ha)
    assert r.status_code == 404
    assert [l["text"] for l in api.get("/v1/logs", headers=hr).json()["lines"]] == ["b's"]


def test_cli_logs_and_search(api):
    import json
    enqueue(api, queue="cli-q")
    job = claim(api, "cli-q")
    assert append(api, job, [{"text": "out one"}, {"text": "err one", "stream": "stderr", "level": "error"},
                             {"text": "out two"}]).status_code == 200
    wait_lines(api, job["id"], 3)

    def weft(*args):
        return subprocess.run([weft_bin(), *args], env=cli_env(api.server), capture_output=True, text=True,
                              timeout=30)

    r = weft("logs", job["id"])
    assert r.returncode == 0 and r.stdout == "out one\nout two\n" and r.stderr == "err one\n", r
    r = weft("logs", job["id"], "--stream", "stderr", "--json")
    assert r.returncode == 0
    (line,) = [json.loads(t) for t in r.stdout.splitlines()]
    assert line["text"] == "err one" and line["seq"] == 2 and line["level"] == "error"
    r = weft("logs", "search", "--queue", "cli-q", "--level", "error", "--json")
    assert r.returncode == 0, r.stderr
    assert [l["text"] for l in json.loads(r.stdout)["lines"]] == ["err one"]
    r = weft("logs", "search", "--text", "OUT")
    assert r.returncode == 0 and "out one" in r.stdout and "out two" in r.stdout and "err one" not in r.stdout
    assert weft("logs", "00000000-0000-7000-8000-000000000000").returncode == 5
