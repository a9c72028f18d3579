"""`weft runs [ls|show|tasks|cancel|pause|resume]` and `weft cancel|pause|
resume` given a run's id, against a real server, in --json and tables."""

from cli_util import as_json, fields, ok, rows_by, table, weft


def submit(server, name, n=3, queue="runs-q"):
    tasks = [{"ref": "t%d" % i, "queue": queue, "delay_ms": 600000} for i in range(n)]
    r = server.post("/v1/runs", json={"name": name, "tasks": tasks})
    assert r.status_code == 201, r.text
    return r.json()


def test_runs_ls(server):
    run = submit(server, "nightly")
    header, rows = rows_by(ok(server.base, "runs", "ls"), "ID")
    assert header == ["ID", "NAME", "STATUS", "TASKS", "SUCCESS", "FAILURE", "SKIPPED", "CREATED"]
    assert rows[run["id"]]["NAME"] == "nightly" and rows[run["id"]]["STATUS"] == "active"
    assert rows[run["id"]]["TASKS"] == "3" and rows[run["id"]]["SKIPPED"] == "0"
    doc = as_json(server.base, "runs")
    (got,) = [r for r in doc["runs"] if r["id"] == run["id"]]
    assert got["counts"]["total"] == 3 and got["status"] == "active"
    assert [r["id"] for r in as_json(server.base, "runs", "ls", "--status", "success")["runs"]] == []
    assert as_json(server.base, "runs", "ls", "--created-after", "2999-01-01T00:00:00Z")["runs"] == []
    assert len(as_json(server.base, "runs", "ls", "--created-before", "2999-01-01T00:00:00Z", "--all")) == 1


def test_runs_show_and_tasks(server):
    run = submit(server, "weekly", n=2)
    out = ok(server.base, "runs", "show", run["id"])
    f = fields(out)
    assert f["ID"] == run["id"] and f["Name"] == "weekly" and f["Status"] == "active"
    assert f["Tasks"] == "2 total, 2 pending"
    assert "STATUS" in out and run["tasks"][0]["id"] in out
    assert as_json(server.base, "runs", "show", run["id"])["tasks_next_cursor"] is None
    header, rows = rows_by(ok(server.base, "runs", "tasks", run["id"]), "ID")
    assert header[0] == "ID" and set(rows) == {t["id"] for t in run["tasks"]}
    assert {t["name"] for t in as_json(server.base, "runs", "tasks", run["id"])["tasks"]} == {"t0", "t1"}


def test_runs_pause_resume_cancel(server):
    run = submit(server, "steer", n=2)
    doc = as_json(server.base, "runs", "pause", run["id"])
    assert doc == {"id": run["id"], "paused": 2, "unchanged": 0}
    header, rows = rows_by(ok(server.base, "runs", "resume", run["id"]), "RUN")
    assert header == ["RUN", "RESUMED", "UNCHANGED"] and rows[run["id"]]["RESUMED"] == "2"
    header, rows = rows_by(ok(server.base, "runs", "pause", run["id"]), "RUN")
    assert header == ["RUN", "PAUSED", "UNCHANGED"] and rows[run["id"]]["PAUSED"] == "2"
    assert as_json(server.base, "runs", "resume", run["id"]) == {"id": run["id"], "resumed": 2, "unchanged": 0}
    header, rows = rows_by(ok(server.base, "runs", "cancel", run["id"]), "RUN")
    assert header == ["RUN", "CANCELED", "ALREADY_ENDED"] and rows[run["id"]]["CANCELED"] == "2"
    assert as_json(server.base, "runs", "cancel", run["id"])["already_ended"] == 2


def test_top_level_actions_take_a_run_id(server):
    run = submit(server, "top", n=2)
    assert as_json(server.base, "pause", run["id"])["paused"] == 2
    assert as_json(server.base, "resume", run["id"])["resumed"] == 2
    _, rows = rows_by(ok(server.base, "cancel", run["id"]), "RUN")
    assert rows[run["id"]]["CANCELED"] == "2"
    assert server.get("/v1/runs/" + run["id"]).json()["status"] == "canceled"


def test_unknown_run_exits_5(server):
    missing = "01a00000-0000-7000-8000-0000000000bb"
    for args in (("runs", "show", missing), ("runs", "cancel", missing), ("runs", "tasks", missing)):
        r = weft(server.base, *args)
        assert r.returncode == 5 and missing in r.stderr, (args, r.stderr)
    assert table(ok(server.base, "runs"))[0][0] == "ID"
