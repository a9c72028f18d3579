"""`weft schedules [ls|show|create|delete|pause|resume|trigger|next]`
against a real server, in --json and tables; firings are made with
`trigger` and checked over HTTP."""

from cli_util import as_json, fields, ok, rows_by, weft


def test_create_show_next_and_ls(api):
    base = api.server.base
    s = as_json(base, "schedules", "create", "nightly", "--cron", "30 2 * * *", "--tz", "America/New_York",
                "--queue", "reports", "--job-name", "report", "--input", '{"kind": "daily"}',
                "--catchup", "all", "--catchup-max", "3", "--overlap", "skip")
    assert s["name"] == "nightly" and s["timezone"] == "America/New_York" and s["overlap"] == "skip"
    assert s["target"] == {"kind": "job", "queue": "reports", "name": "report", "input": {"kind": "daily"}}
    assert s["catchup"] == "all" and s["catchup_max"] == 3 and s["paused"] is False
    as_json(base, "schedules", "create", "sync", "--cron", "*/15 * * * *", "--workflow", "sync", "--queue", "wf",
            "--overlap", "cancel_previous")
    header, rows = rows_by(ok(base, "schedules", "ls"), "NAME")
    assert header[:5] == ["NAME", "CRON", "ZONE", "TARGET", "OVERLAP"]
    assert set(rows) == {"nightly", "sync"}
    assert rows["sync"]["TARGET"] == "workflow" and rows["sync"]["OVERLAP"] == "cancel_previous"
    assert [x["name"] for x in as_json(base, "schedules", "ls")["schedules"]] == ["nightly", "sync"]
    view = ok(base, "schedules", "show", "nightly")
    f = fields(view)
    assert f["Cron"] == "30 2 * * *" and f["Zone"] == "America/New_York" and f["Overlap"] == "skip"
    assert "Next fire times:" in view
    times = ok(base, "schedules", "next", "nightly", "3").split()
    assert len(times) == 3
    # 02:30 in New York is 07:30 UTC in winter and 06:30 in summer.
    assert all(t[11:19] in ("07:30:00", "06:30:00") for t in times), times
    assert as_json(base, "schedules", "next", "nightly", "2") == times[:2]


def test_trigger_pause_resume_delete(api):
    base = api.server.base
    ok(base, "schedules", "create", "t", "--cron", "@daily", "--queue", "trig", "--paused")
    got = as_json(base, "schedules", "trigger", "t")
    assert got["fires"] == 1 and got["paused"] is True
    r = api.post("/v1/jobs/claim", json={"queues": ["trig"], "worker_id": "w1"})
    assert [j["id"] for j in r.json()["jobs"]] == [got["last_job_id"]]
    assert as_json(base, "schedules", "resume", "t")["paused"] is False
    header, rows = rows_by(ok(base, "schedules", "pause", "t"), "NAME")
    assert rows["t"]["PAUSED"] == "yes"
    assert ok(base, "schedules", "delete", "t").strip() == "deleted schedule t"
    r = weft(base, "schedules", "show", "t")
    assert r.returncode != 0 and "No schedule t" in r.stderr


def test_namespace_and_template_target(api):
    base = api.server.base
    ok(base, "schedules", "create", "x", "--cron", "@hourly", "--queue", "q", "--namespace", "etl")
    assert as_json(base, "schedules", "ls", "--namespace", "etl")["schedules"][0]["namespace"] == "etl"
    assert as_json(base, "schedules", "ls")["schedules"] == []
    # A template target names a registered version: refused before, made after.
    r = weft(base, "schedules", "create", "tpl", "--cron", "@daily", "--template", "etl@1.0.0",
             "--context", '{"day": 1}')
    assert r.returncode != 0 and "target.template: no template etl@1.0.0" in r.stderr, r.stderr
    r = api.post("/v1/templates", json={"name": "etl", "version": "1.0.0", "steps": [{"ref": "a", "queue": "q"}]})
    assert r.status_code == 201, r.text
    s = as_json(base, "schedules", "create", "tpl", "--cron", "@daily", "--template", "etl@1.0.0",
                "--context", '{"day": 1}')
    assert s["target"] == {"kind": "template", "template": "etl@1.0.0", "context": {"day": 1}}, s
    g = as_json(base, "schedules", "trigger", "tpl")
    assert g["fires"] == 1 and g["last_job_id"] is None, g
    assert api.get("/v1/runs/" + g["last_run_id"]).json()["context"] == {"day": 1}


def test_usage_errors(server):
    base = server.base
    r = weft(base, "schedules", "create", "a", "--queue", "q")
    assert r.returncode == 2 and "--cron" in r.stderr
    r = weft(base, "schedules", "create", "a", "--cron", "@daily")
    assert r.returncode == 2 and "one target" in r.stderr
    r = weft(base, "schedules", "create", "a", "--cron", "@daily", "--workflow", "w")
    assert r.returncode == 2 and "--queue" in r.stderr
    r = weft(base, "schedules", "create", "a", "--cron", "@daily", "--queue", "q", "--input", "{nope")
    assert r.returncode == 2 and "--input is not JSON" in r.stderr
    r = weft(base, "schedules", "create", "a", "--cron", "@daily", "--queue", "q", "--catchup-max", "0")
    assert r.returncode == 2 and "--catchup-max" in r.stderr
    r = weft(base, "schedules", "next", "a", "101")
    assert r.returncode == 2
    # The server's own checks come back naming the field.
    r = weft(base, "schedules", "create", "a", "--cron", "0 0 32 * *", "--queue", "q")
    assert r.returncode != 0 and "cron: field 3" in r.stderr
    assert as_json(base, "schedules", "ls")["schedules"] == []
