"""`weft ls`, `weft get`, `weft tasks` and the operator's actions on a task
(cancel, pause, resume, retry, reset, resolve) against a real server, in
--json (values checked) and table output (header and rows checked)."""

import time

from cli_util import (UUID_RE, as_json, claim, enqueue, fail, fields, ok, rows_by, table, weft)


def test_ls_table_and_json(server):
    a, b = enqueue(server, "ls-q", {"n": 1}, {"n": 2})
    header, rows = rows_by(ok(server.base, "ls"), "ID")
    assert header == ["ID", "NAME", "EXECUTOR", "QUEUE", "STATUS", "ATTEMPT", "CREATED"]
    assert rows[a]["QUEUE"] == "ls-q" and rows[a]["STATUS"] == "pending" and rows[a]["EXECUTOR"] == "queue"
    assert rows[b]["CREATED"].endswith("s ago")
    doc = as_json(server.base, "ls")
    got = {t["id"]: t for t in doc["tasks"]}
    assert got[a]["queue"] == "ls-q" and got[a]["status"] == "pending"
    assert got[a]["created_at"].endswith("Z") and "T" in got[a]["created_at"]   # exact, not relative
    assert "next_cursor" in doc
    # the bare family runs its list too
    assert rows_by(ok(server.base, "tasks"), "ID")[1].keys() == rows.keys()
    assert rows_by(ok(server.base, "tasks", "ls"), "ID")[1].keys() == rows.keys()
    assert as_json(server.base, "tasks", "ls") == doc


def test_ls_filters(server):
    (p,) = enqueue(server, "f-a", 1)
    (q,) = enqueue(server, "f-b", 2)
    claim(server, "f-b")
    ids = lambda *args: [t["id"] for t in as_json(server.base, "ls", *args)["tasks"]]
    assert ids("--queue", "f-a") == [p]
    assert ids("--status", "running") == [q]
    assert ids("--executor", "webhook") == []
    assert set(ids("--executor", "queue")) >= {p, q}
    run = server.post("/v1/runs", json={"tasks": [{"ref": "a", "queue": "f-c"}]}).json()
    assert ids("--run", run["id"]) == [run["tasks"][0]["id"]]
    assert ids("--created-after", "2999-01-01T00:00:00Z") == []
    assert set(ids("--created-before", "2999-01-01T00:00:00Z")) == {p, q, run["tasks"][0]["id"]}
    _, rows = rows_by(ok(server.base, "ls", "--status", "running"), "ID")
    assert list(rows) == [q] and rows[q]["STATUS"] == "running"


def test_ls_paging_and_all(server):
    ids = set(enqueue(server, "page-q", *range(5)))
    first = as_json(server.base, "ls", "--queue", "page-q", "--limit", "2")
    assert len(first["tasks"]) == 2 and first["next_cursor"]
    second = as_json(server.base, "ls", "--queue", "page-q", "--limit", "2", "--cursor", first["next_cursor"])
    assert not {t["id"] for t in first["tasks"]} & {t["id"] for t in second["tasks"]}
    everything = as_json(server.base, "ls", "--queue", "page-q", "--limit", "2", "--all")
    assert isinstance(everything, list) and {t["id"] for t in everything} == ids
    r = weft(server.base, "ls", "--queue", "page-q", "--limit", "2")
    assert len(table(r.stdout)[1]) == 2 and "--cursor" in r.stderr
    assert len(table(ok(server.base, "ls", "--queue", "page-q", "--limit", "2", "--all"))[1]) == 5


def test_get_a_task_with_attempts_error_and_input(server):
    (tid,) = enqueue(server, "get-q", {"city": "Zürich"}, max_attempts=3)
    (job,) = claim(server, "get-q")
    fail(server, job, code="http_500", message="upstream down")
    doc = as_json(server.base, "get", tid)
    assert doc["id"] == tid and doc["input"] == {"city": "Zürich"} and doc["attempts"][0]["outcome"] == "failed"
    out = ok(server.base, "get", tid)
    f = fields(out)
    assert f["ID"] == tid and f["Queue"] == "get-q" and f["Status"] == "retrying"
    assert f["Error code"] == "http_500" and f["Error"] == "upstream down"
    assert "Attempts:" in out and "OUTCOME" in out and "failed" in out
    assert '"city": "Zürich"' in out
    assert as_json(server.base, "tasks", "show", tid)["id"] == tid
    assert fields(ok(server.base, "tasks", "show", tid))["ID"] == tid


def test_get_shows_a_lease(server):
    (tid,) = enqueue(server, "lease-q", 1)
    claim(server, "lease-q", worker="w-lease")
    f = fields(ok(server.base, "get", tid))
    assert f["Status"] == "running" and f["Lease holder"] == "w-lease" and f["Lease until"].startswith("in ")


def test_get_a_run_and_an_unknown_id(server):
    r = server.post("/v1/runs", json={"name": "nightly", "tasks": [{"ref": "a", "queue": "g-run"}]})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    assert as_json(server.base, "get", run_id)["name"] == "nightly"
    assert fields(ok(server.base, "get", run_id))["Name"] == "nightly"
    missing = "01a00000-0000-7000-8000-000000000000"
    r = weft(server.base, "get", missing)
    assert r.returncode == 5 and missing in r.stderr and "no task or run" in r.stderr


def test_task_events(server):
    (tid,) = enqueue(server, "ev-q", 1)
    ok(server.base, "cancel", tid, "--reason", "not needed")
    events = as_json(server.base, "tasks", "events", tid)["events"]
    assert [e["to"] for e in events] == ["pending", "canceled"]
    assert "not needed" in events[1]["reason"]
    header, rows = table(ok(server.base, "tasks", "events", tid))
    assert header == ["AT", "FROM", "TO", "ACTOR", "REASON"]
    assert rows[1][1:3] == ["pending", "canceled"] and "not needed" in rows[1][-1]


def test_cancel_pause_resume_in_both_outputs(server):
    a, b, c = enqueue(server, "act-q", 1, 2, 3, delay_ms=60000)
    doc = as_json(server.base, "pause", a, "--reason", "hold on")
    assert doc["id"] == a and doc["status"] == "paused"
    assert as_json(server.base, "resume", a)["status"] == "pending"
    header, rows = rows_by(ok(server.base, "pause", a), "ID")
    assert header == ["ID", "NAME", "STATUS", "ATTEMPT"] and rows[a]["STATUS"] == "paused"
    _, rows = rows_by(ok(server.base, "resume", a), "ID")
    assert rows[a]["STATUS"] == "pending"
    _, rows = rows_by(ok(server.base, "cancel", b), "ID")
    assert rows[b]["STATUS"] == "canceled"
    assert server.get("/v1/tasks/" + b).json()["status"] == "canceled"
    assert as_json(server.base, "cancel", c, "--reason", "dup")["status"] == "canceled"
    # an action the status does not allow: 409, exit 6, the current status named
    r = weft(server.base, "cancel", b)
    assert r.returncode == 6 and "current status: canceled" in r.stderr
    events = server.get("/v1/tasks/%s/events" % a).json()["events"]
    assert any("hold on" in (e["reason"] or "") for e in events)


def test_retry_reset_and_resolve(server):
    a, b, c = enqueue(server, "fix-q", 1, 2, 3, max_attempts=1)
    for job in claim(server, "fix-q", n=3):
        fail(server, job)
    assert server.get("/v1/tasks/" + a).json()["dead_letter"] is True
    doc = as_json(server.base, "retry", a)
    assert doc["status"] == "pending" and doc["attempt"] == 2
    _, rows = rows_by(ok(server.base, "reset", b, "--reason", "fixed upstream"), "ID")
    assert rows[b]["STATUS"] == "pending" and rows[b]["ATTEMPT"] == "2"
    # the other output of each: fail them again first
    for job in claim(server, "fix-q", n=2):
        fail(server, job)
    _, rows = rows_by(ok(server.base, "retry", b), "ID")
    assert rows[b]["STATUS"] == "pending" and rows[b]["ATTEMPT"] == "3"
    doc = as_json(server.base, "reset", a)
    assert doc["status"] == "pending" and doc["attempt"] == 3 and doc["dead_letter"] is False
    doc = as_json(server.base, "resolve", c, "--result", '{"done": true}')
    assert doc["status"] == "success"
    assert server.get("/v1/tasks/" + c).json()["result"] == {"done": True}
    (d,) = enqueue(server, "fix-q", 4)
    _, rows = rows_by(ok(server.base, "resolve", d), "ID")
    assert rows[d]["STATUS"] == "success"
    r = weft(server.base, "resolve", d, "--result", "{nope")
    assert r.returncode == 2 and "--result must be JSON" in r.stderr


def test_action_on_unknown_task_exits_5_naming_it(server):
    missing = "01a00000-0000-7000-8000-0000000000aa"
    r = weft(server.base, "retry", missing)
    assert r.returncode == 5 and missing in r.stderr
    assert UUID_RE.match(missing)


def test_an_idempotency_key_replays_the_first_answer(server):
    (tid,) = enqueue(server, "idem-q", 1)
    first = weft(server.base, "resolve", tid, "--result", "1", "--idempotency-key", "k-1", "--json")
    assert first.returncode == 0 and "earlier request" not in first.stderr
    again = weft(server.base, "resolve", tid, "--result", "1", "--idempotency-key", "k-1", "--json")
    assert again.returncode == 0 and "earlier request" in again.stderr
    assert again.stdout == first.stdout
    r = weft(server.base, "resolve", tid, "--result", "1")      # without the key: the task is done
    assert r.returncode == 6
