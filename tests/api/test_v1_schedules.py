"""Cron schedules over /v1/schedules: a creation checks the cron text, the
zone and the job it starts, with errors naming the field; a schedule is
read back with its next fire times (computed on its zone's wall clock,
DST included), listed by name with a cursor, paused, resumed and
deleted. Times come from the server's clock, which the tests move. On a shared
PostgreSQL database the leader finds due schedules from the rows, so a
firing is waited for rather than assumed at once."""

from harness import parse_ts, wait_for

JOB = {"kind": "job", "queue": "reports", "input": {"report": "daily"}}


def create(api, expect=201, **body):
    body.setdefault("target", JOB)
    r = api.post("/v1/schedules", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def details(r):
    assert r.status_code == 400, r.text
    e = r.json()["error"]
    return e.get("details") or [e.get("message")]


def test_create_and_read_back(api):
    s = create(api, name="daily", cron="30 6 * * *", timezone="Europe/Berlin")
    assert s["namespace"] == "default" and s["name"] == "daily"
    assert s["cron"] == "30 6 * * *" and s["timezone"] == "Europe/Berlin"
    assert s["target"] == JOB
    assert s["catchup"] == "none" and s["catchup_max"] == 1 and s["overlap"] == "queue"
    assert s["paused"] is False and s["fires"] == 0 and s["last_fire_at"] is None
    nxt = parse_ts(s["next_fire_at"])
    assert nxt > parse_ts(s["created_at"])
    got = api.get("/v1/schedules/daily?next=3")
    assert got.status_code == 200, got.text
    g = got.json()
    assert len(g["next"]) == 3
    times = [parse_ts(t) for t in g["next"]]
    assert times[0] == nxt
    # 06:30 Berlin is 05:30 UTC in winter (the server's December clock).
    assert all("T05:30:00" in t for t in g["next"]), g
    assert [b - a for a, b in zip(times, times[1:])] == [86400, 86400]
    assert "next" not in s


def test_validation_names_the_field(api):
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "0 0 32 * *", "target": JOB})
    assert "cron: field 3 (day of month): 32 is out of 1-31" in details(r)
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "0 0 * * *", "timezone": "Mars/Olympus",
                                        "target": JOB})
    assert any(d.startswith("timezone: unknown zone Mars/Olympus") for d in details(r)), details(r)
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "0 0 * * *", "target": {"kind": "job"}})
    assert any(d.startswith("target.queue") for d in details(r)), details(r)
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "0 0 * * *",
                                        "target": {"kind": "job", "queue": "q", "max_attempts": 0}})
    assert any(d.startswith("target.max_attempts") for d in details(r)), details(r)
    # Options a firing would not carry over are refused, not dropped.
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "0 0 * * *",
                                        "target": {"kind": "job", "queue": "q", "delay_ms": 5}})
    assert any(d.startswith("target.delay_ms") for d in details(r)), details(r)
    r = api.post("/v1/schedules", json={"name": "Bad Name", "cron": "0 0 * * *", "target": JOB,
                                        "catchup": "most", "catchup_max": 0, "colour": 1})
    d = details(r)
    for field in ("name", "catchup", "catchup_max", "colour"):
        assert any(x.startswith(field) for x in d), (field, d)
    r = api.get("/v1/schedules/none?next=101")
    assert r.status_code == 400, r.text
    # A taken name is a conflict; the first stays.
    create(api, name="once", cron="@hourly")
    r = api.post("/v1/schedules", json={"name": "once", "cron": "@daily", "target": JOB})
    assert r.status_code == 409, r.text
    assert api.get("/v1/schedules/once").json()["cron"] == "@hourly"


def test_list_pages_by_name(api):
    for n in ("c", "a", "e", "b", "d"):
        create(api, name=n, cron="@daily")
    create(api, name="z", namespace="other", cron="@daily")
    seen, cursor = [], None
    while True:
        r = api.get("/v1/schedules?limit=2" + ("&cursor=" + cursor if cursor else ""))
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [s["name"] for s in body["schedules"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a", "b", "c", "d", "e"]
    other = api.get("/v1/schedules?namespace=other").json()["schedules"]
    assert [s["name"] for s in other] == ["z"]


def test_pause_resume_delete(api):
    create(api, name="p", cron="*/5 * * * *")
    r = api.post("/v1/schedules/p/pause")
    assert r.status_code == 200, r.text
    assert r.json()["paused"] is True and r.json()["next_fire_at"] is None
    api.advance(3600)
    r = api.post("/v1/schedules/p/resume")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["paused"] is False
    # Resumed from now: the next time is within five minutes, not in the past.
    nxt = parse_ts(body["next_fire_at"])
    upd = parse_ts(body["updated_at"])
    assert upd < nxt
    assert api.post("/v1/schedules/nope/pause").status_code == 404
    r = api.delete("/v1/schedules/p")
    assert r.status_code == 204, r.text
    assert api.get("/v1/schedules/p").status_code == 404
    assert api.delete("/v1/schedules/p").status_code == 404


def test_dst_zone_fires_once_on_the_spring_forward_day(api):
    # 02:30 does not happen in Berlin on 28 March 2027 (02:00 -> 03:00): a
    # daily 02:30 schedule fires once that day, at 03:00 CEST (01:00 UTC),
    # and once on every other day.
    create(api, name="dst", cron="30 2 * * *", timezone="Europe/Berlin")
    api.advance(40 * 86400)
    g = api.get("/v1/schedules/dst?next=100").json()["next"]
    days = [t[:10] for t in g]
    assert len(days) == 100 and len(days) == len(set(days)), g
    assert "2027-03-28" in days, g
    assert g[days.index("2027-03-28")].startswith("2027-03-28T01:00:00"), g
    assert g[days.index("2027-03-27")].startswith("2027-03-27T01:30:00"), g
    assert g[days.index("2027-03-29")].startswith("2027-03-29T00:30:00"), g


def claim_all(api, queue):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w1", "max_jobs": 50})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def server_now(api, s):
    """The server's time when s was made (its clock is the injected one)."""
    return parse_ts(s["created_at"])


def test_firing_at_injected_times_starts_the_job(api):
    s = create(api, name="five", cron="*/5 * * * *",
               target={"kind": "job", "queue": "fired", "input": {"n": 1}, "priority": 3})
    nxt = parse_ts(s["next_fire_at"])
    assert claim_all(api, "fired") == []
    api.advance(nxt - server_now(api, s) + 10)
    wait_for(lambda: api.get("/v1/schedules/five").json()["fires"] == 1, desc="the firing")
    jobs = claim_all(api, "fired")
    assert len(jobs) == 1, jobs
    assert jobs[0]["input"] == {"n": 1}
    got = api.get("/v1/schedules/five").json()
    assert got["fires"] == 1 and got["last_job_id"] == jobs[0]["id"]
    assert parse_ts(got["last_fire_at"]) >= nxt
    assert parse_ts(got["next_fire_at"]) == nxt + 300
    # The deadline was armed again at the next time.
    api.advance(300)
    wait_for(lambda: api.get("/v1/schedules/five").json()["fires"] == 2, desc="the second firing")
    assert len(claim_all(api, "fired")) == 1
    # Paused, it does not fire; resumed, it fires at its next time.
    api.post("/v1/schedules/five/pause")
    api.advance(600)
    # (the jobs claimed before come back after their lease: not new ones)
    assert [j for j in claim_all(api, "fired") if j["attempt"] == 1] == []
    assert api.get("/v1/schedules/five").json()["fires"] == 2


def test_catch_up_policies_after_the_clock_jumps(api):
    made = {}
    for name, catchup, most in (("none", "none", 1), ("one", "one", 1), ("all2", "all", 2), ("all10", "all", 10)):
        made[name] = create(api, name=name, cron="0 * * * *", catchup=catchup, catchup_max=most,
                            target={"kind": "job", "queue": "q-" + name})
    t = server_now(api, made["all10"])
    # Land half past the hour, three hourly times later: three were missed,
    # and the latest is 30 minutes old (not on time).
    target = (int(t) // 3600) * 3600 + 3 * 3600 + 1800
    api.advance(target - t)
    for name in made:
        wait_for(lambda: api.get("/v1/schedules/" + name).json()["next_fire_at"] != made[name]["next_fire_at"],
                 desc="schedule %s handled" % name)
    counts = {name: len(claim_all(api, "q-" + name)) for name in made}
    assert counts == {"none": 0, "one": 1, "all2": 2, "all10": 3}, counts
    for name in made:
        got = api.get("/v1/schedules/" + name).json()
        assert parse_ts(got["next_fire_at"]) == target + 1800, got


def test_trigger_fires_now_and_keeps_the_next_time(api):
    s = create(api, name="manual", cron="0 0 1 1 *", paused=True,
               target={"kind": "job", "queue": "manual", "input": [1, 2]})
    r = api.post("/v1/schedules/manual/trigger")
    assert r.status_code == 200, r.text
    got = r.json()
    jobs = claim_all(api, "manual")
    assert len(jobs) == 1 and jobs[0]["input"] == [1, 2], jobs
    assert got["fires"] == 1 and got["last_job_id"] == jobs[0]["id"] and got["paused"] is True
    assert got["next_fire_at"] is None and s["next_fire_at"] is None
    assert api.post("/v1/schedules/nope/trigger").status_code == 404
