"""`weft workflows [ls|show|steps|key|start|cancel|terminate|retry|signal]`
against a real server, in --json and tables; runs are moved along by
claiming their jobs over HTTP."""

from cli_util import UUID_RE, as_json, fields, ok, rows_by, weft

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def claim_run(api, queue):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w1", "wait_ms": 0})
    assert r.status_code == 200, r.text
    (job,) = r.json()["jobs"]
    return job["lease_token"]


def call(api, run_id, what, token, **body):
    r = api.post("/v1/workflows/%s/%s" % (run_id, what), json=dict(body, lease_token=token))
    assert r.status_code == 200, r.text
    return r.json()


def test_start_json_and_table(api):
    run = as_json(api.server.base, "workflows", "start", "order",
                  "--queue", "wf", "--input", '{"order": 7}', "--key", "o-7", "--max-attempts", "3")
    assert UUID_RE.match(run["id"]) and run["status"] == "pending" and run["type"] == "order"
    assert run["input"] == {"order": 7} and run["idempotency_key"] == "o-7" and run["queue"] == "wf"
    r = api.post("/v1/jobs/claim", json={"queues": ["wf"], "worker_id": "w1", "wait_ms": 0})
    assert r.json()["jobs"][0]["max_attempts"] == 3
    base = api.server.base
    # the same key while the run is active answers the same run
    header, rows = rows_by(ok(base, "workflows", "start", "order", "--queue", "wf", "--key", "o-7"), "ID")
    assert header == ["ID", "TYPE", "QUEUE", "STATUS", "REPLAYS", "KEY", "CREATED", "ENDED"]
    assert list(rows) == [run["id"]] and rows[run["id"]]["STATUS"] == "running"


def test_start_usage_errors(server):
    r = weft(server.base, "workflows", "start", "order")
    assert r.returncode == 2 and "--queue" in r.stderr
    r = weft(server.base, "workflows", "start", "order", "--queue", "wf", "--input", "{nope")
    assert r.returncode == 2 and "--input is not JSON" in r.stderr
    r = weft(server.base, "workflows", "start", "order", "--queue", "wf", "--max-attempts", "0")
    assert r.returncode == 2 and "--max-attempts" in r.stderr
    r = weft(server.base, "workflows", "start", "order", "--queue", "wf", "--max-attempts", "1001")
    assert r.returncode == 2 and "--max-attempts" in r.stderr
    assert as_json(server.base, "workflows")["workflows"] == []


def test_ls_filters(server):
    a = as_json(server.base, "workflows", "start", "order", "--queue", "wf-a")
    b = as_json(server.base, "workflows", "start", "refund", "--queue", "wf-b")
    header, rows = rows_by(ok(server.base, "workflows"), "ID")
    assert header[:4] == ["ID", "TYPE", "QUEUE", "STATUS"] and set(rows) == {a["id"], b["id"]}
    assert rows[a["id"]]["TYPE"] == "order" and rows[b["id"]]["QUEUE"] == "wf-b"
    assert rows[a["id"]]["STATUS"] == "pending" and rows[a["id"]]["KEY"] == "-"

    def ids(*args):
        return [w["id"] for w in as_json(server.base, "workflows", "ls", *args)["workflows"]]
    assert ids("--type", "refund") == [b["id"]]
    assert ids("--queue", "wf-a") == [a["id"]]
    assert ids("--status", "pending", "--type", "order") == [a["id"]]
    assert ids("--status", "completed") == []
    assert ids("--created-after", "2999-01-01T00:00:00Z") == []
    assert set(ids("--created-before", "2999-01-01T00:00:00Z")) == {a["id"], b["id"]}
    page = as_json(server.base, "workflows", "ls", "--limit", "1")
    assert len(page["workflows"]) == 1 and page["next_cursor"]
    rest = as_json(server.base, "workflows", "ls", "--limit", "1", "--cursor", page["next_cursor"])
    assert {page["workflows"][0]["id"], rest["workflows"][0]["id"]} == {a["id"], b["id"]}
    every = as_json(server.base, "workflows", "ls", "--limit", "1", "--all")
    assert sorted(w["id"] for w in every) == sorted([a["id"], b["id"]])
    r = weft(server.base, "workflows", "ls", "--status", "bogus")
    assert r.returncode == 2 and "status" in r.stderr


def test_show_and_key(api):
    base = api.server.base
    run = as_json(base, "workflows", "start", "order", "--queue", "wf", "--input", '{"n": 1}', "--key", "k-1")
    token = claim_run(api, "wf")
    call(api, run["id"], "wait-signal", token, name="approve")
    f = fields(ok(base, "workflows", "show", run["id"]))
    assert f["ID"] == run["id"] and f["Type"] == "order" and f["Status"] == "suspended"
    assert f["Suspended"] == "signal" and f["Awaits"] == "approve" and f["Key"] == "k-1" and f["Replays"] == "1"
    got = as_json(base, "workflows", "show", run["id"])
    assert got["suspended"] == {"reason": "signal", "wake_at": None, "signal": "approve"}
    assert as_json(base, "workflows", "key", "k-1")["id"] == run["id"]
    assert fields(ok(base, "workflows", "key", "k-1"))["ID"] == run["id"]
    for args in (("show", UNKNOWN), ("key", "no-such-key")):
        r = weft(base, "workflows", *args)
        assert r.returncode == 5, (args, r.returncode, r.stderr)


def test_steps(api):
    base = api.server.base
    run = as_json(base, "workflows", "start", "order", "--queue", "wf")
    token = claim_run(api, "wf")
    for name, out in (("reserve", {"r": 1}), ("charge", "paid")):
        b = call(api, run["id"], "steps/begin", token, name=name)
        call(api, run["id"], "steps/complete", token, name=name, seq=b["step"]["seq"], output=out)
    call(api, run["id"], "sleep", token, name="nap", duration_ms=60000)
    got = as_json(base, "workflows", "steps", run["id"])
    assert [(s["kind"], s["name"], s["status"]) for s in got["steps"]] == [
        ("step", "reserve", "completed"), ("step", "charge", "completed"), ("sleep", "nap", "sleeping")]
    header, rows = rows_by(ok(base, "workflows", "steps", run["id"]), "NAME")
    assert header[:5] == ["KIND", "NAME", "SEQ", "STATUS", "ATTEMPTS"]
    assert rows["reserve"]["OUTPUT"] == '{"r":1}' and rows["nap"]["STATUS"] == "sleeping"
    page = as_json(base, "workflows", "steps", run["id"], "--limit", "2")
    assert len(page["steps"]) == 2 and page["next_cursor"]
    every = as_json(base, "workflows", "steps", run["id"], "--limit", "1", "--all")
    assert [s["name"] for s in every] == ["reserve", "charge", "nap"]
    assert weft(base, "workflows", "steps", UNKNOWN).returncode == 5


def test_signal_wakes_a_waiting_run(api):
    base = api.server.base
    run = as_json(base, "workflows", "start", "order", "--queue", "wf")
    token = claim_run(api, "wf")
    call(api, run["id"], "wait-signal", token, name="approve")
    s = as_json(base, "workflows", "signal", run["id"], "other")
    assert s["name"] == "other" and s["woke"] is False and s["run_status"] == "suspended"
    header, rows = rows_by(ok(base, "workflows", "signal", run["id"], "approve", '{"by": "ann"}'), "NAME")
    assert header == ["SIGNAL", "NAME", "WOKE", "RUN_STATUS"] and rows["approve"]["WOKE"] == "yes"
    # the woken run's job is claimable, and its wait answers the payload
    token = claim_run(api, "wf")
    w = call(api, run["id"], "wait-signal", token, name="approve")
    assert w["step"]["output"] == {"by": "ann"}
    r = weft(base, "workflows", "signal", run["id"], "approve", "{bad")
    assert r.returncode == 2 and "PAYLOAD" in r.stderr
    assert weft(base, "workflows", "signal", UNKNOWN, "approve").returncode == 5


def test_cancel_terminate_retry(api):
    base = api.server.base
    a = as_json(base, "workflows", "start", "order", "--queue", "wf-c")
    got = as_json(base, "workflows", "cancel", a["id"], "--reason", "not needed")
    assert got["status"] == "canceled" and got["error"]["message"] == "not needed"
    # an ended run: 409, exit 6, for cancel, terminate and signal
    for args in (("cancel", a["id"]), ("terminate", a["id"]), ("signal", a["id"], "x")):
        r = weft(base, "workflows", *args)
        assert r.returncode == 6, (args, r.returncode, r.stderr)
    header, rows = rows_by(ok(base, "workflows", "retry", a["id"], "--reason", "again"), "ID")
    assert header[0] == "ID" and rows[a["id"]]["STATUS"] == "pending"
    # a run still going is not retried
    r = weft(base, "workflows", "retry", a["id"])
    assert r.returncode == 6 and "pending" in r.stderr
    _, rows = rows_by(ok(base, "workflows", "terminate", a["id"], "--reason", "stuck"), "ID")
    assert rows[a["id"]]["STATUS"] == "terminated"
    assert as_json(base, "workflows", "show", a["id"])["error"] == {"code": "terminated", "message": "stuck"}
    # a failed run, retried
    b = as_json(base, "workflows", "start", "order", "--queue", "wf-f", "--max-attempts", "1")
    token = claim_run(api, "wf-f")
    call(api, b["id"], "fail", token, error={"code": "declined"})
    assert as_json(base, "workflows", "show", b["id"])["status"] == "failed"
    assert as_json(base, "workflows", "retry", b["id"])["status"] == "pending"
    for what in ("cancel", "terminate", "retry"):
        r = weft(base, "workflows", what, UNKNOWN)
        assert r.returncode == 5, (what, r.returncode, r.stderr)


def test_help(server):
    out = ok(None, "workflows", "--help")
    for verb in ("ls", "show", "steps", "key", "start", "cancel", "terminate", "retry", "signal"):
        assert "\n  %s " % verb in out
    assert "--max-attempts" in ok(None, "workflows", "start", "--help")
    assert "--type" in ok(None, "workflows", "ls", "--help")
    assert "workflows" in ok(None, "--help")
