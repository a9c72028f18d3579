"""Cron schedules firing on the injected clock: on time for five- and
six-field expressions and across a daylight saving change, after a
simulated downtime under each catch-up policy, and under each overlap
policy (skip while the previous run has not ended, queue, cancel_previous
which cancels the running one: its worker learns it at its heartbeat).
Targets: jobs, workflow runs and template runs (a schedule of a template
version that is not registered is refused). No test waits for real minutes: the server's
clock is moved (Server.advance); on PostgreSQL a firing is waited for."""

import sqlite3
import urllib.parse

import pgcluster
from harness import BACKEND, Api, parse_ts, wait_for

TARGET = {"kind": "job", "queue": "tick"}


def create(api, expect=201, **body):
    body.setdefault("target", TARGET)
    r = api.post("/v1/schedules", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def get(api, name):
    r = api.get("/v1/schedules/" + name)
    assert r.status_code == 200, r.text
    return r.json()


def details(r, status=400):
    assert r.status_code == status, r.text
    e = r.json()["error"]
    return e.get("details") or [e.get("message")]


def claim(api, queue, worker="w1", most=50):
    """Claims with an hour's lease: the clock moves minutes while a
    worker holds a job."""
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": worker, "max_jobs": most,
                                         "lease_ms": 3600000})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def advance_to(api, s, t):
    """Moves the server's clock to just past time t (seconds), s being a
    schedule answer whose updated_at is the server's latest known time."""
    now = parse_ts(s["updated_at"])
    assert t > now, (t, now)
    api.advance(t - now + 0.001)


def fired(api, name, n, **more):
    """Waits until schedule `name` has fired n times (and more fields)."""
    def done():
        g = get(api, name)
        return g if g["fires"] == n and all(g[k] == v for k, v in more.items()) else None
    return wait_for(done, desc="schedule %s fired %d times" % (name, n))


def next_fire(s):
    return parse_ts(s["next_fire_at"])


def db_exec(server, query):
    """One statement on a stopped server's database, either backend."""
    if BACKEND == "postgres":
        pgcluster.cluster().sql(urllib.parse.urlparse(server.db).path.lstrip("/"), query)
        return
    with sqlite3.connect(server.db) as db:
        db.execute(query)


# ---- on time ------------------------------------------------------------------------------


def test_five_and_six_field_expressions_fire_on_time(api):
    five = create(api, name="five", cron="*/10 * * * *", target={"kind": "job", "queue": "five"})
    six = create(api, name="six", cron="15,45 * * * * *", target={"kind": "job", "queue": "six"})
    t6 = next_fire(six)
    assert t6 % 60 in (15, 45) and t6 - parse_ts(six["created_at"]) <= 30
    advance_to(api, six, t6)
    g = fired(api, "six", 1)
    assert t6 <= parse_ts(g["last_fire_at"]) < t6 + 1
    assert next_fire(g) == t6 + 30
    assert len(claim(api, "six")) == 1
    # The five-field schedule fires at its own time, not before. Its first
    # time may have come before the six-field one's (a test started a few
    # seconds before a ten-minute mark): then the clock's jump to the
    # six-field time passed it, and it fired in that jump.
    t5 = next_fire(five)
    assert t5 % 600 == 0
    f = get(api, "five")
    fires = f["fires"]
    if fires == 1:
        assert t5 < t6 and t5 <= parse_ts(f["last_fire_at"]) < t6 + 1
        assert len(claim(api, "five")) == 1
        t5 = next_fire(f)
    else:
        assert fires == 0 and t5 > t6
    advance_to(api, get(api, "six"), t5)
    g = fired(api, "five", fires + 1)
    assert t5 <= parse_ts(g["last_fire_at"]) < t5 + 1
    assert next_fire(g) == t5 + 600
    assert len(claim(api, "five")) == 1


def test_new_york_spring_forward_fires_once_at_three(api):
    # 02:30 does not happen in New York on 14 March 2027 (02:00 EST ->
    # 03:00 EDT): a daily 02:30 schedule fires at 03:00 EDT (07:00 UTC) that
    # day, at 02:30 EST (07:30 UTC) the day before, 02:30 EDT (06:30 UTC)
    # the day after.
    s = create(api, name="ny", cron="30 2 * * *", timezone="America/New_York")
    before = parse_ts("2027-03-14T06:59:00Z")
    advance_to(api, s, before)
    # Everything missed on the way there is skipped (catchup none, more than
    # a minute late), and the next time is the shortened day's.
    g = wait_for(lambda: (lambda g: g if next_fire(g) > before else None)(get(api, "ny")),
                 desc="the jump handled")
    assert g["fires"] == 0 and g["next_fire_at"].startswith("2027-03-14T07:00:00"), g
    api.advance(60.5)
    g = fired(api, "ny", 1)
    assert g["last_fire_at"].startswith("2027-03-14T07:00:0"), g
    assert g["next_fire_at"].startswith("2027-03-15T06:30:00"), g
    assert len(claim(api, "tick")) == 1


def test_paused_misses_nothing_on_resume_and_fires_after(api):
    s = create(api, name="pr", cron="*/5 * * * *", catchup="all", catchup_max=10)
    p = api.post("/v1/schedules/pr/pause").json()
    assert p["paused"] is True and p["next_fire_at"] is None
    advance_to(api, p, next_fire(s) + 3600)
    r = api.post("/v1/schedules/pr/resume").json()
    # What was missed while paused is not fired, even with catchup all.
    assert r["fires"] == 0 and r["skipped_fires"] == 0
    nxt = next_fire(r)
    assert parse_ts(r["updated_at"]) < nxt <= parse_ts(r["updated_at"]) + 300 and nxt % 300 == 0
    advance_to(api, r, nxt)
    g = fired(api, "pr", 1)
    assert nxt <= parse_ts(g["last_fire_at"]) < nxt + 1
    assert len(claim(api, "tick")) == 1


# ---- catch-up after a downtime -------------------------------------------------------------


def test_catch_up_policies_after_a_downtime(weft_factory, mock):
    """Hourly schedules; the server stops and starts again three and a
    half hours later (its clock started that far ahead): three due times
    were missed, the latest 30 minutes ago. The catch-up happens as the
    server starts, from the rows, with no clock moved afterwards."""
    server = weft_factory.start()
    api = Api(server, mock)
    made = {}
    for name, catchup, most in (("none", "none", 1), ("one", "one", 1), ("all2", "all", 2), ("all10", "all", 10)):
        made[name] = create(api, name=name, cron="0 * * * *", catchup=catchup, catchup_max=most,
                            target={"kind": "job", "queue": "q-" + name})
    t = parse_ts(made["all10"]["created_at"])
    target = (int(t) // 3600) * 3600 + 3 * 3600 + 1800
    server.stop()
    server = server.restart(env={"WEFT_TEST_CLOCK_AHEAD_US": str(int((target - t) * 1e6))})
    api = Api(server, mock)
    for name in made:
        wait_for(lambda: get(api, name)["next_fire_at"] != made[name]["next_fire_at"],
                 desc="schedule %s handled" % name)
    counts = {name: len(claim(api, "q-" + name)) for name in made}
    assert counts == {"none": 0, "one": 1, "all2": 2, "all10": 3}, counts
    fires = {name: get(api, name)["fires"] for name in made}
    assert fires == {"none": 0, "one": 1, "all2": 1, "all10": 1}, fires
    for name in made:
        g = get(api, name)
        assert next_fire(g) == target + 1800, g
        if name != "none":
            assert target <= parse_ts(g["last_fire_at"]) < target + 60, g


# ---- overlap --------------------------------------------------------------------------------


def test_overlap_skip_while_the_previous_job_runs(api):
    s = create(api, name="skip", cron="* * * * *", overlap="skip", target={"kind": "job", "queue": "sk"})
    advance_to(api, s, next_fire(s))
    g = fired(api, "skip", 1)
    first = g["last_job_id"]
    assert g["last_run_id"] == first and g["last_run_active"] is True and g["skipped_fires"] == 0
    (job,) = claim(api, "sk")
    assert job["id"] == first
    # Held by a worker: the next two minutes start nothing, and say so.
    for n in (1, 2):
        advance_to(api, g, next_fire(g))
        g = wait_for(lambda: (lambda g: g if g["skipped_fires"] == n else None)(get(api, "skip")),
                     desc="skip %d" % n)
        assert g["fires"] == 1 and g["last_job_id"] == first and g["last_skipped_at"] is not None
    assert claim(api, "sk") == []
    r = api.post("/v1/jobs/%s/complete" % first, json={"lease_token": job["lease_token"], "result": 1})
    assert r.status_code == 200, r.text
    assert get(api, "skip")["last_run_active"] is False
    # Ended: the next time starts a job again.
    advance_to(api, g, next_fire(g))
    g = fired(api, "skip", 2)
    assert g["last_job_id"] != first and g["skipped_fires"] == 2
    assert len(claim(api, "sk")) == 1


def test_overlap_queue_starts_every_time(api):
    s = create(api, name="queue", cron="* * * * *", target={"kind": "job", "queue": "qq"})
    assert s["overlap"] == "queue"
    advance_to(api, s, next_fire(s))
    g = fired(api, "queue", 1)
    advance_to(api, g, next_fire(g))
    g = fired(api, "queue", 2)
    assert g["skipped_fires"] == 0
    assert len(claim(api, "qq")) == 2


def test_overlap_cancel_previous_cancels_the_held_job(api):
    s = create(api, name="cp", cron="* * * * *", overlap="cancel_previous",
               target={"kind": "job", "queue": "cp", "input": {"x": 1}})
    advance_to(api, s, next_fire(s))
    g = fired(api, "cp", 1)
    (job,) = claim(api, "cp")
    advance_to(api, g, next_fire(g))
    g = fired(api, "cp", 2)
    assert g["last_job_id"] != job["id"]
    assert api.get("/v1/tasks/" + job["id"]).json()["status"] == "canceled"
    # The worker holding it learns it at its heartbeat.
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": job["id"],
                                                                              "lease_token": job["lease_token"]}]})
    assert r.json()["leases"] == [{"id": job["id"], "state": "canceled"}], r.text
    (new,) = claim(api, "cp")
    assert new["id"] == g["last_job_id"] and new["input"] == {"x": 1}
    # A previous job that ended is left alone.
    assert api.post("/v1/jobs/%s/complete" % new["id"], json={"lease_token": new["lease_token"]}).status_code == 200
    advance_to(api, g, next_fire(g))
    fired(api, "cp", 3)
    assert api.get("/v1/tasks/" + new["id"]).json()["status"] == "success"


def test_trigger_follows_the_overlap_policy(api):
    create(api, name="tr", cron="0 0 1 1 *", overlap="skip", target={"kind": "job", "queue": "tr"})
    g = api.post("/v1/schedules/tr/trigger").json()
    assert g["fires"] == 1 and g["last_run_active"] is True
    g = api.post("/v1/schedules/tr/trigger").json()
    assert g["fires"] == 1 and g["skipped_fires"] == 1
    assert len(claim(api, "tr")) == 1


def test_many_schedules_due_together(api):
    """Thirty schedules of one minute in two namespaces, with catch-up and
    overlap policies mixed: each starts what its own policies say, its
    jobs in its namespace."""
    made = []
    for i in range(30):
        ns = "ns-a" if i % 2 else "ns-b"
        overlap = ("queue", "skip", "cancel_previous")[i % 3]
        body = dict(name="m%02d" % i, namespace=ns, cron="0 * * * *", overlap=overlap, catchup="all", catchup_max=2,
                    target={"kind": "job", "queue": "many-%d" % i, "input": {"i": i}})
        r = api.post("/v1/schedules", json=body)
        assert r.status_code == 201, r.text
        made.append(r.json())
    first = min(next_fire(s) for s in made)
    # Two hourly times due at once: queue starts two jobs, skip and
    # cancel_previous one (the other time counts as skipped).
    advance_to(api, made[-1], first + 3600)

    def handled():
        got = [api.get("/v1/schedules/%s?namespace=%s" % (s["name"], s["namespace"])).json() for s in made]
        return got if all(g["fires"] == 1 for g in got) else None
    got = wait_for(handled, desc="every schedule fired")
    for i, g in enumerate(got):
        ns = "ns-a" if i % 2 else "ns-b"
        r = api.post("/v1/jobs/claim", json={"namespace": ns, "queues": ["many-%d" % i], "worker_id": "w",
                                             "max_jobs": 10, "lease_ms": 3600000})
        jobs = r.json()["jobs"]
        expect = 2 if g["overlap"] == "queue" else 1
        assert len(jobs) == expect, (i, g, jobs)
        assert all(j["input"] == {"i": i} for j in jobs)
        assert g["skipped_fires"] == 2 - expect and g["last_job_id"] in [j["id"] for j in jobs]
    # Every last job is now held by a worker (its lease ends about when the
    # next hour comes: it may be back to retrying, not ended). The next
    # hour, in one cycle:
    # queue starts another, skip skips, cancel_previous cancels and starts.
    held = {g["name"]: g["last_job_id"] for g in got}
    advance_to(api, got[-1], first + 7200)

    def second():
        now = [api.get("/v1/schedules/%s?namespace=%s" % (s["name"], s["namespace"])).json() for s in made]
        return now if all(g["fires"] + g["skipped_fires"] >= (2 if g["overlap"] == "queue" else 3)
                          for g in now) else None
    for g in wait_for(second, desc="the second hour handled"):
        old = api.get("/v1/tasks/%s" % held[g["name"]]).json()["status"]
        if g["overlap"] == "skip":
            assert (g["fires"], g["skipped_fires"], g["last_job_id"]) == (1, 2, held[g["name"]]), g
            assert old != "canceled"
        elif g["overlap"] == "cancel_previous":
            assert (g["fires"], g["skipped_fires"]) == (2, 1) and g["last_job_id"] != held[g["name"]], g
            assert old == "canceled"
        else:
            assert (g["fires"], g["skipped_fires"]) == (2, 0) and old != "canceled", g


def test_a_target_the_server_cannot_start_is_skipped(weft_factory, mock):
    """A row this server cannot start (a run of a template version that is
    not in the database, here) does not hold up the other schedules due
    with it: it counts as skipped and moves on."""
    server = weft_factory.start()
    api = Api(server, mock)
    for name in ("a-job", "b-tpl", "c-job"):
        create(api, name=name, cron="0 * * * *", target={"kind": "job", "queue": "q-" + name})
    server.stop()
    db_exec(server, "UPDATE schedule SET target_kind = 'template', "
                    "target = '{\"kind\":\"template\",\"template\":\"etl@1\"}' WHERE name = 'b-tpl'")
    server = server.restart()
    api = Api(server, mock)
    s = get(api, "a-job")
    advance_to(api, s, next_fire(s))
    fired(api, "a-job", 1)
    fired(api, "c-job", 1)
    g = wait_for(lambda: (lambda g: g if g["skipped_fires"] == 1 else None)(get(api, "b-tpl")), desc="the skip")
    assert g["fires"] == 0 and next_fire(g) == next_fire(s) + 3600
    assert len(claim(api, "q-a-job")) == 1 and len(claim(api, "q-c-job")) == 1


# ---- workflow targets ----------------------------------------------------------------------------


WF = {"kind": "workflow", "type": "nightly", "queue": "wfq", "input": {"day": 1}, "max_attempts": 2,
      "backoff": {"initial_ms": 500}}


def test_workflow_target_starts_runs_and_cancel_previous_stops_one(api):
    s = create(api, name="wf", cron="* * * * *", overlap="cancel_previous", target=WF)
    assert s["target"] == WF
    advance_to(api, s, next_fire(s))
    g = fired(api, "wf", 1)
    run = api.get("/v1/workflows/" + g["last_run_id"]).json()
    assert run["type"] == "nightly" and run["queue"] == "wfq" and run["input"] == {"day": 1}, run
    assert run["namespace"] == "default"
    (job,) = claim(api, "wfq")
    assert job["id"] == run["id"]
    advance_to(api, g, next_fire(g))
    g = fired(api, "wf", 2)
    assert g["last_run_id"] != run["id"] and g["last_job_id"] == g["last_run_id"]
    assert api.get("/v1/workflows/" + run["id"]).json()["status"] == "canceled"
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": job["id"],
                                                                              "lease_token": job["lease_token"]}]})
    assert r.json()["leases"] == [{"id": job["id"], "state": "canceled"}], r.text
    assert api.get("/v1/workflows/" + g["last_run_id"]).json()["status"] == "pending"


def test_workflow_target_skip_while_the_run_is_active(api):
    s = create(api, name="wfs", cron="* * * * *", overlap="skip", target=dict(WF, namespace="etl"))
    advance_to(api, s, next_fire(s))
    g = fired(api, "wfs", 1)
    run_id = g["last_run_id"]
    assert api.get("/v1/workflows/%s" % run_id).json()["namespace"] == "etl"
    advance_to(api, g, next_fire(g))
    g = wait_for(lambda: (lambda g: g if g["skipped_fires"] == 1 else None)(get(api, "wfs")), desc="skip")
    assert g["fires"] == 1 and g["last_run_id"] == run_id
    r = api.post("/v1/workflows/%s/cancel" % run_id)
    assert r.status_code == 200, r.text
    advance_to(api, g, next_fire(g))
    g = fired(api, "wfs", 2)
    assert g["last_run_id"] != run_id


def test_target_validation(api):
    cases = [
        ({"kind": "workflow", "queue": "q"}, "target.type"),
        ({"kind": "workflow", "type": "t"}, "target.queue"),
        ({"kind": "workflow", "type": "t", "queue": "q", "name": "n"}, "target.name"),
        ({"kind": "workflow", "type": "t", "queue": "q", "delay_ms": 5}, "target.delay_ms"),
        ({"kind": "workflow", "type": "t", "queue": "q", "max_attempts": 0}, "target.max_attempts"),
        ({"kind": "workflow", "type": "t", "queue": "q", "retry": {"max_attempts": 3}},
         "target.retry: unknown field: a run's retry policy is max_attempts"),
        ({"kind": "workflow", "type": "t", "queue": "q", "namespace": "Bad NS"}, "target.namespace"),
        ({"kind": "job", "queue": "q", "backoff": {"initial_ms": 0}}, "target.backoff.initial_ms"),
        ({"kind": "template", "template": "etl"}, "target.template"),
        ({"kind": "template", "template": "Etl@1"}, "target.template"),
        ({"kind": "template", "template": "etl@1", "extra": 1}, "target.extra"),
        ({"kind": "cron"}, "target.kind"),
    ]
    for target, field in cases:
        d = details(api.post("/v1/schedules", json={"name": "bad", "cron": "@daily", "target": target}))
        assert any(x.startswith(field) for x in d), (target, d)
    # A size past its limit is a 413, as on POST /v1/workflows.
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "@daily",
                                        "target": {"kind": "workflow", "type": "t" * 256, "queue": "q"}})
    assert any(x.startswith("target.type") for x in details(r, 413))
    r = api.post("/v1/schedules", json={"name": "bad", "cron": "@daily", "overlap": "sometimes"})
    assert any(x.startswith("overlap") for x in details(r))
    # A well-formed template target of a version not registered: 422 naming the field.
    r = api.post("/v1/schedules", json={"name": "tpl", "cron": "@daily",
                                        "target": {"kind": "template", "template": "etl@1.2.0", "context": {}}})
    d = details(r, 422)
    assert any(x.startswith("target.template: no template etl@1.2.0 in namespace default") for x in d), d
    assert api.get("/v1/schedules/tpl").status_code == 404


# ---- template targets ----------------------------------------------------------------------------


TEMPLATE = {"name": "etl", "version": "1.2.0",
            "steps": [{"ref": "extract", "queue": "tpl-extract", "input": {"table": "orders"}},
                      {"ref": "load", "queue": "tpl-load", "parents": [{"ref": "extract"}]}]}
TPL = {"kind": "template", "template": "etl@1.2.0", "context": {"region": "eu", "day": 5}}


def register(api, body=TEMPLATE, **query):
    r = api.post("/v1/templates", json=body, params=query or None)
    assert r.status_code == 201, r.text


def test_template_target_starts_a_run_with_the_context(api):
    register(api)
    s = create(api, name="tpl", cron="* * * * *", target=TPL)
    assert s["target"] == TPL
    advance_to(api, s, next_fire(s))
    g = fired(api, "tpl", 1)
    assert g["last_job_id"] is None and g["last_run_active"] is True
    run = api.get("/v1/runs/" + g["last_run_id"]).json()
    assert run["name"] == "etl@1.2.0" and run["template"] == {"name": "etl", "version": "1.2.0"}, run
    assert run["context"] == TPL["context"] and run["namespace"] == "default"
    (job,) = claim(api, "tpl-extract")
    assert job["run_id"] == run["id"]
    assert job["input"] == {"context": TPL["context"], "config": {"table": "orders"}}
    assert claim(api, "tpl-load") == []
    # Each due time is a run of its own (the context is the same each time).
    advance_to(api, g, next_fire(g))
    g = fired(api, "tpl", 2)
    assert g["last_run_id"] != run["id"] and g["skipped_fires"] == 0
    (second,) = claim(api, "tpl-extract")
    assert second["run_id"] == g["last_run_id"]
    # A trigger starts one more, whatever the due times.
    g = api.post("/v1/schedules/tpl/trigger").json()
    assert g["fires"] == 3 and g["last_run_id"] not in (run["id"], second["run_id"])


def test_template_target_skip_while_the_run_is_active(api):
    register(api, dict(TEMPLATE, namespace="etl"))
    s = create(api, name="tpls", namespace="etl", cron="* * * * *", overlap="skip", target=TPL)
    advance_to(api, s, next_fire(s))
    g = wait_for(lambda: (lambda g: g if g["fires"] == 1 else None)(
        api.get("/v1/schedules/tpls?namespace=etl").json()), desc="the first run")
    run_id = g["last_run_id"]
    assert api.get("/v1/runs/%s" % run_id).json()["namespace"] == "etl"
    # Its first step held by a worker, the second not started: active.
    r = api.post("/v1/jobs/claim", json={"namespace": "etl", "queues": ["tpl-extract"], "worker_id": "w1",
                                         "max_jobs": 5, "lease_ms": 3600000})
    (job,) = r.json()["jobs"]
    advance_to(api, g, next_fire(g))
    g = wait_for(lambda: (lambda g: g if g["skipped_fires"] == 1 else None)(
        api.get("/v1/schedules/tpls?namespace=etl").json()), desc="skip")
    assert g["fires"] == 1 and g["last_run_id"] == run_id and g["last_run_active"] is True
    # The run ended (canceled): the next time starts another.
    r = api.post("/v1/runs/%s/cancel" % run_id)
    assert r.status_code == 200, r.text
    assert api.get("/v1/schedules/tpls?namespace=etl").json()["last_run_active"] is False
    advance_to(api, g, next_fire(g))
    g = wait_for(lambda: (lambda g: g if g["fires"] == 2 else None)(
        api.get("/v1/schedules/tpls?namespace=etl").json()), desc="the second run")
    assert g["last_run_id"] != run_id and g["skipped_fires"] == 1


def test_template_target_cancel_previous_cancels_the_run(api):
    register(api)
    s = create(api, name="tplc", cron="* * * * *", overlap="cancel_previous", target=TPL)
    advance_to(api, s, next_fire(s))
    g = fired(api, "tplc", 1)
    first = g["last_run_id"]
    (job,) = claim(api, "tpl-extract")
    advance_to(api, g, next_fire(g))
    g = fired(api, "tplc", 2)
    assert g["last_run_id"] != first and g["skipped_fires"] == 0
    old = api.get("/v1/runs/" + first).json()
    assert old["status"] == "canceled", old
    assert api.get("/v1/tasks/" + job["id"]).json()["status"] == "canceled"
    # The worker holding its step learns it at its heartbeat.
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": job["id"],
                                                                              "lease_token": job["lease_token"]}]})
    assert r.json()["leases"] == [{"id": job["id"], "state": "canceled"}], r.text
    (new,) = claim(api, "tpl-extract")
    assert new["run_id"] == g["last_run_id"]
    assert api.get("/v1/runs/" + g["last_run_id"]).json()["status"] not in ("canceled", "failed")


def test_template_version_removed_after_creation_skips_its_firings(weft_factory, mock):
    """The version read at each firing: one that is gone (removed from the
    database) skips that firing and leaves the other schedules alone."""
    server = weft_factory.start()
    api = Api(server, mock)
    register(api)
    create(api, name="a-job", cron="0 * * * *", target={"kind": "job", "queue": "q-a"})
    create(api, name="b-tpl", cron="0 * * * *", target=TPL)
    server.stop()
    db_exec(server, "DELETE FROM template WHERE name = 'etl'")
    server = server.restart()
    api = Api(server, mock)
    s = get(api, "a-job")
    advance_to(api, s, next_fire(s))
    fired(api, "a-job", 1)
    g = wait_for(lambda: (lambda g: g if g["skipped_fires"] == 1 else None)(get(api, "b-tpl")), desc="the skip")
    assert g["fires"] == 0 and g["last_run_id"] is None and next_fire(g) == next_fire(s) + 3600
    assert len(claim(api, "q-a")) == 1 and claim(api, "tpl-extract") == []


def test_a_due_time_fired_again_answers_the_run_it_started(weft_factory, mock):
    """A template run's identity is its schedule's due time: the same due
    time applied a second time (here its row set back to it, as if the
    move of next_fire_at had been lost) starts no second run."""
    server = weft_factory.start()
    api = Api(server, mock)
    register(api)
    s = create(api, name="once", cron="0 * * * *", catchup="one", target=TPL)
    due_us = (int(parse_ts(s["created_at"])) // 3600 - 1) * 3600 * 1000000   # an hour ago, on the hour
    runs = []
    for n in (1, 2):
        server.stop()
        db_exec(server, "UPDATE schedule SET next_fire_at = %d WHERE name = 'once'" % due_us)
        server = server.restart()
        api = Api(server, mock)
        g = fired(api, "once", n)
        runs.append(g["last_run_id"])
    assert runs[0] == runs[1], runs
    assert len(claim(api, "tpl-extract")) == 1
