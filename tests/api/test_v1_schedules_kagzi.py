"""Kagzi's schedule defects, each with a test that would fail if weft had
it: a trigger and a firing reach a claim already parked on the queue at
once; a catch-up limit of 0 is refused rather than stored to never fire,
and `all` makes up for several missed times in one firing; a schedule
made paused does not fire, and a list shows paused schedules; a stored
cron that no longer parses stops alone, holding no other schedule up;
every field of a creation is applied as given (there is no partial update to ignore
one); deleting a schedule leaves what it started intact; a schedule is no
claimable row, so a claim parked while schedules are made takes nothing.
The server's clock is moved (Server.advance), never waited for; a parked
claim is a real long poll answered well before its wait ends."""

import threading
import time

from harness import Api, parse_ts, wait_for
from test_v1_schedules_firing import db_exec

WAIT_MS = 20000   # a parked claim's wait: an answer within a second is a wake-up, not its end


def create(api, expect=201, **body):
    body.setdefault("target", {"kind": "job", "queue": "kz"})
    r = api.post("/v1/schedules", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def get(api, name, ns=None):
    r = api.get("/v1/schedules/" + name + ("?namespace=" + ns if ns else ""))
    assert r.status_code == 200, r.text
    return r.json()


def claim(api, queue, wait_ms=0):
    body = {"queues": [queue], "worker_id": "w1", "max_jobs": 50, "lease_ms": 3600000}
    if wait_ms:
        body["wait_ms"] = wait_ms
    r = api.post("/v1/jobs/claim", json=body)
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def advance_to(api, s, t):
    """Moves the server's clock to just past time t (seconds), s being a
    schedule answer whose updated_at is the server's latest known time."""
    now = parse_ts(s["updated_at"])
    assert t > now, (t, now)
    api.advance(t - now + 0.001)


class ParkedClaim:
    """A long-poll claim on `queue` in a thread, parked before start()
    returns."""

    def __init__(self, api, queue):
        self.jobs = None
        self.thread = threading.Thread(target=lambda: setattr(self, "jobs", claim(api, queue, WAIT_MS)))

    def start(self):
        self.thread.start()
        time.sleep(0.3)
        assert self.thread.is_alive(), "the claim answered before anything was due: %r" % self.jobs
        return time.monotonic()

    def answered_within(self, since, secs=1.0):
        self.thread.join(secs + 1)
        assert not self.thread.is_alive(), "the parked claim was not woken"
        assert time.monotonic() - since < secs, "the parked claim waited for a poll"
        return self.jobs


# ---- TriggerWorkflowSchedule sends no notify ---------------------------------------------


def test_trigger_reaches_a_parked_claim_at_once(api):
    create(api, name="trig", cron="0 0 1 1 *", target={"kind": "job", "queue": "trig", "input": {"t": 1}})
    parked = ParkedClaim(api, "trig")
    asked = parked.start()
    r = api.post("/v1/schedules/trig/trigger")
    assert r.status_code == 200, r.text
    jobs = parked.answered_within(asked)
    assert [j["id"] for j in jobs] == [r.json()["last_job_id"]] and jobs[0]["input"] == {"t": 1}


def test_a_firing_reaches_a_parked_claim_at_once(api):
    s = create(api, name="due", cron="*/5 * * * *", target={"kind": "job", "queue": "due"})
    parked = ParkedClaim(api, "due")
    asked = parked.start()
    advance_to(api, s, parse_ts(s["next_fire_at"]))
    jobs = parked.answered_within(asked)
    assert [j["id"] for j in jobs] == [get(api, "due")["last_job_id"]]


def test_a_triggered_workflow_run_reaches_a_parked_claim_at_once(api):
    create(api, name="wft", cron="0 0 1 1 *", target={"kind": "workflow", "type": "nightly", "queue": "wft"})
    parked = ParkedClaim(api, "wft")
    asked = parked.start()
    g = api.post("/v1/schedules/wft/trigger").json()
    jobs = parked.answered_within(asked)
    assert [j["id"] for j in jobs] == [g["last_run_id"]]


# ---- max_catchup=0 never fires; one catch-up per tick ----------------------------------------


def test_catchup_max_zero_is_refused_naming_the_field(api):
    for bad in (0, -1, 1001):
        r = api.post("/v1/schedules", json={"name": "zero", "cron": "* * * * *", "catchup": "all",
                                            "catchup_max": bad, "target": {"kind": "job", "queue": "kz"}})
        assert r.status_code == 400, r.text
        e = r.json()["error"]
        d = e.get("details") or [e.get("message")]
        assert len(d) == 1 and d[0].startswith("catchup_max"), d
    assert api.get("/v1/schedules/zero").status_code == 404
    # Not catching up at all is `catchup: none`, which still fires on time.
    s = create(api, name="none", cron="*/5 * * * *", catchup="none", target={"kind": "job", "queue": "none"})
    advance_to(api, s, parse_ts(s["next_fire_at"]))
    wait_for(lambda: get(api, "none")["fires"] == 1, desc="the on-time firing")
    assert len(claim(api, "none")) == 1


def test_catch_up_all_fires_every_missed_time_in_one_firing(api):
    s = create(api, name="many", cron="*/5 * * * *", catchup="all", catchup_max=5,
               target={"kind": "job", "queue": "many"})
    # Seven five-minute times pass in one move of the clock: the first
    # firing makes up for five of them (its limit), not one per cycle.
    advance_to(api, s, parse_ts(s["next_fire_at"]) + 6 * 300 + 10)
    g = wait_for(lambda: (lambda g: g if g["fires"] == 1 else None)(get(api, "many")), desc="the catch-up")
    assert len(claim(api, "many")) == 5
    assert parse_ts(g["next_fire_at"]) == parse_ts(s["next_fire_at"]) + 7 * 300, g


# ---- create ignores `enabled`; List hides paused schedules -------------------------------


def test_a_schedule_made_paused_does_not_fire(api):
    p = create(api, name="off", cron="*/5 * * * *", paused=True, catchup="all", catchup_max=10,
               target={"kind": "job", "queue": "off"})
    on = create(api, name="on", cron="*/5 * * * *", paused=False, target={"kind": "job", "queue": "on"})
    assert p["paused"] is True and p["next_fire_at"] is None
    assert on["paused"] is False and on["next_fire_at"] is not None
    advance_to(api, on, parse_ts(on["next_fire_at"]) + 3600)
    wait_for(lambda: get(api, "on")["fires"] >= 1, desc="the unpaused schedule's firing")
    g = get(api, "off")
    assert g["paused"] is True and g["fires"] == 0 and g["skipped_fires"] == 0 and g["next_fire_at"] is None
    assert claim(api, "off") == []


def test_the_list_shows_paused_schedules(api):
    create(api, name="a-made-paused", cron="@daily", paused=True)
    create(api, name="b-running", cron="@daily")
    create(api, name="c-paused-later", cron="@daily")
    assert api.post("/v1/schedules/c-paused-later/pause").status_code == 200
    listed = api.get("/v1/schedules").json()["schedules"]
    assert [(s["name"], s["paused"]) for s in listed] == [
        ("a-made-paused", True), ("b-running", False), ("c-paused-later", True)]


# ---- an unparseable cron blocks the whole batch -------------------------------------------


def test_a_stored_cron_that_no_longer_parses_holds_no_other_schedule_up(weft_factory, mock):
    """A creation checks the cron text (test_v1_schedules.py); a row whose
    cron no longer parses (edited in the database here) stops by itself
    while the schedules due with it fire."""
    server = weft_factory.start()
    api = Api(server, mock)
    for name in ("a-ok", "b-bad", "c-ok"):
        create(api, name=name, cron="0 * * * *", target={"kind": "job", "queue": "q-" + name})
    server.stop()
    db_exec(server, "UPDATE schedule SET cron = 'not a cron' WHERE name = 'b-bad'")
    server = server.restart()
    api = Api(server, mock)
    s = get(api, "a-ok")
    advance_to(api, s, parse_ts(s["next_fire_at"]))
    for name in ("a-ok", "c-ok"):
        wait_for(lambda: get(api, name)["fires"] == 1, desc="schedule %s fired" % name)
    g = wait_for(lambda: (lambda g: g if g["next_fire_at"] is None else None)(get(api, "b-bad")),
                 desc="the broken schedule stopped")
    assert g["fires"] == 0 and g["cron"] == "not a cron"
    assert len(claim(api, "q-a-ok")) == 1 and len(claim(api, "q-c-ok")) == 1 and claim(api, "q-b-bad") == []
    # The next hour fires the good ones again: the broken row is not due.
    advance_to(api, get(api, "a-ok"), parse_ts(s["next_fire_at"]) + 3600)
    for name in ("a-ok", "c-ok"):
        wait_for(lambda: get(api, name)["fires"] == 2, desc="schedule %s fired again" % name)
    assert api.get("/v1/schedules").status_code == 200


# ---- UpdateWorkflowSchedule ignores fields ------------------------------------------------


FULL_JOB = {"kind": "job", "queue": "full", "name": "nightly-report", "input": {"k": [1, 2]}, "priority": 7,
            "max_attempts": 4, "backoff": {"initial_ms": 5000, "coefficient": 3, "max_ms": 60000, "jitter": 0},
            "non_retryable_codes": ["bad_input"], "timeout_secs": 90, "concurrency_key": "ck", "rate_key": "rk"}


def test_every_create_field_is_applied_as_given(api):
    """weft has no update route (a schedule changes by pause, resume,
    delete and create), so no field can be ignored there; every field of a
    creation is stored, read back, and carried by what it starts."""
    assert api.patch("/v1/schedules/x", json={"cron": "@daily"}).status_code in (404, 405)
    assert api.put("/v1/schedules/x", json={"cron": "@daily"}).status_code in (404, 405)
    body = {"namespace": "fullns", "name": "full", "cron": "15 4 * * 1-5", "timezone": "America/New_York",
            "target": FULL_JOB, "catchup": "all", "catchup_max": 7, "overlap": "skip", "paused": True}
    s = create(api, **body)
    for shown in (s, get(api, "full", "fullns"),
                  api.get("/v1/schedules?namespace=fullns").json()["schedules"][0]):
        for field, value in body.items():
            assert shown[field] == value, (field, shown)
    # What a firing starts carries the target as given: its fields, the
    # timeout (the claim's), the retry delays (no jitter: 5 s, then times
    # 3; the server's clock also runs on in real time, so each delay is
    # checked a second short of its end) and the non-retryable code.
    g = api.post("/v1/schedules/full/trigger?namespace=fullns").json()
    job = api.get("/v1/tasks/%s" % g["last_job_id"]).json()
    assert job["namespace"] == "fullns", job
    for field in ("queue", "name", "input", "priority", "max_attempts"):
        assert job[field] == FULL_JOB[field], (field, job)
    for delay in (5, 15):
        (c,) = claim_in(api, "fullns", "full")
        started = parse_ts(api.get("/v1/tasks/%s" % c["id"]).json()["started_at"])
        assert abs(parse_ts(c["timeout_at"]) - started - 90) < 0.01, c
        fail(api, c, "flaky")
        api.advance(delay - 1)
        assert claim_in(api, "fullns", "full") == []
        api.advance(1.01)
    (c,) = claim_in(api, "fullns", "full")
    assert c["attempt"] == 3
    fail(api, c, "bad_input")
    got = api.get("/v1/tasks/%s" % c["id"]).json()
    assert got["status"] == "failure" and got["attempt"] == 3 and got["dead_letter"] is True, got


def claim_in(api, ns, queue):
    r = api.post("/v1/jobs/claim", json={"namespace": ns, "queues": [queue], "worker_id": "w1"})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def fail(api, c, code):
    r = api.post("/v1/jobs/%s/fail" % c["id"],
                 json={"lease_token": c["lease_token"], "error": {"code": code}})
    assert r.status_code == 200, r.text


# ---- DeleteWorkflowSchedule deletes any run; fired runs lose their link -------------------


def test_deleting_a_schedule_leaves_what_it_started(api):
    r = api.post("/v1/templates", json={"name": "etl", "version": "1",
                                        "steps": [{"ref": "extract", "queue": "del-tpl"}]})
    assert r.status_code == 201, r.text
    made = {"job": {"kind": "job", "queue": "del-job", "input": {"n": 1}},
            "wf": {"kind": "workflow", "type": "nightly", "queue": "del-wf"},
            "tpl": {"kind": "template", "template": "etl@1", "context": {"d": 1}}}
    started = {}
    for name, target in made.items():
        create(api, name=name, cron="0 0 1 1 *", target=target)
        started[name] = api.post("/v1/schedules/%s/trigger" % name).json()
    (held,) = claim(api, "del-job")
    before = {"job": api.get("/v1/tasks/" + started["job"]["last_job_id"]).json(),
              "wf": api.get("/v1/workflows/" + started["wf"]["last_run_id"]).json(),
              "tpl": api.get("/v1/runs/" + started["tpl"]["last_run_id"]).json()}
    for name in made:
        assert api.delete("/v1/schedules/" + name).status_code == 204
        assert api.get("/v1/schedules/" + name).status_code == 404
    after = {"job": api.get("/v1/tasks/" + started["job"]["last_job_id"]),
             "wf": api.get("/v1/workflows/" + started["wf"]["last_run_id"]),
             "tpl": api.get("/v1/runs/" + started["tpl"]["last_run_id"])}
    for name, r in after.items():
        assert r.status_code == 200, (name, r.text)
        assert r.json() == before[name], name
    # The job's worker still finishes it; the run's job is still claimable.
    r = api.post("/v1/jobs/%s/complete" % held["id"], json={"lease_token": held["lease_token"], "result": 1})
    assert r.status_code == 200, r.text
    assert [j["id"] for j in claim(api, "del-wf")] == [started["wf"]["last_run_id"]]
    assert len(claim(api, "del-tpl")) == 1
    # A delete names a schedule, never a run or a job.
    assert api.delete("/v1/schedules/" + started["job"]["last_job_id"]).status_code in (400, 404)


# ---- a schedule created in two steps, open to a claim race -------------------------------


def test_a_claim_parked_while_schedules_are_made_takes_nothing(api):
    """A schedule is a row of its own table, made in one insert; a claim
    reads jobs only, so one parked on the target's queue while schedules
    are made and triggered gets the triggered jobs and never a schedule."""
    parked = ParkedClaim(api, "race")
    asked = parked.start()
    for i in range(5):
        create(api, name="r%d" % i, cron="* * * * *", target={"kind": "job", "queue": "race", "input": i})
    assert parked.thread.is_alive(), parked.jobs
    g = api.post("/v1/schedules/r3/trigger").json()
    jobs = parked.answered_within(asked, secs=3.0)
    assert [(j["id"], j["input"]) for j in jobs] == [(g["last_job_id"], 3)]
