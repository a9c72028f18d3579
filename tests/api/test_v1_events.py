"""Events (/v1/events) and subscriptions (/v1/subscriptions): an event
starts the target of each matching subscription once (exact topics and
prefix patterns "orders.*"), also when published twice with one id; an
event with no subscriber is recorded; an event's deliveries name the run
each started and that run's outcome now."""

from harness import wait_for

JOB = {"kind": "job", "queue": "events"}


def subscribe(api, name, topic, target=None, expect=201, **more):
    r = api.post("/v1/subscriptions", json=dict(name=name, topic=topic, target=target or JOB, **more))
    assert r.status_code == expect, r.text
    return r.json()


def publish(api, topic, payload=None, expect=201, **more):
    body = dict(topic=topic, **more)
    if payload is not None:
        body["payload"] = payload
    r = api.post("/v1/events", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def tasks_of(api, queue):
    r = api.get("/v1/tasks?queue=%s&limit=100" % queue)
    assert r.status_code == 200, r.text
    return r.json()["tasks"]


def claim_one(api, queue):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w", "max_jobs": 1,
                                         "lease_ms": 60000})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def test_an_event_fanned_out_to_three_subscriptions_starts_three_runs_once_each(api):
    for i in range(3):
        subscribe(api, "s%d" % i, "orders.paid", {"kind": "job", "queue": "fan%d" % i})
    ev = publish(api, "orders.paid", {"order": 42}, id="evt-42")
    assert ev["id"] == "evt-42" and ev["source"] == "api"
    assert [d["subscription"] for d in ev["deliveries"]] == ["s0", "s1", "s2"]
    runs = {d["run_id"] for d in ev["deliveries"]}
    assert len(runs) == 3 and None not in runs
    # Published again with the same id: one event, no further run.
    again = publish(api, "orders.paid", {"order": 42}, id="evt-42", expect=200)
    assert {d["run_id"] for d in again["deliveries"]} == runs
    for i in range(3):
        t = tasks_of(api, "fan%d" % i)
        assert len(t) == 1 and t[0]["id"] in runs
        assert api.get("/v1/tasks/" + t[0]["id"]).json()["input"] == {"order": 42}
    assert len(api.get("/v1/events?topic=orders.paid").json()["events"]) == 1


def test_an_event_with_no_subscriber_is_recorded(api):
    ev = publish(api, "nobody.listens", {"x": 1})
    assert ev["deliveries"] == [] and ev["id"]
    got = api.get("/v1/events/" + ev["id"]).json()
    assert got["topic"] == "nobody.listens" and got["payload"] == {"x": 1} and got["deliveries"] == []
    assert [e["id"] for e in api.get("/v1/events").json()["events"]] == [ev["id"]]


def test_prefix_patterns_match_topics_under_them_only(api):
    subscribe(api, "all-orders", "orders.*", {"kind": "job", "queue": "pre"})
    subscribe(api, "exact", "orders", {"kind": "job", "queue": "ex"})
    subscribe(api, "every", "*", {"kind": "job", "queue": "every"})
    matched = {t: [d["subscription"] for d in publish(api, t)["deliveries"]]
               for t in ("orders.paid", "orders.eu.refunded", "orders", "ordersx.paid", "orders.")}
    assert matched == {
        "orders.paid": ["all-orders", "every"],
        "orders.eu.refunded": ["all-orders", "every"],
        "orders": ["every", "exact"],
        "ordersx.paid": ["every"],
        "orders.": ["every"],
    }
    assert len(tasks_of(api, "pre")) == 2 and len(tasks_of(api, "ex")) == 1


def test_deliveries_show_the_runs_outcome(api):
    subscribe(api, "ok", "jobs.done", {"kind": "job", "queue": "outcome"})
    ev = publish(api, "jobs.done", {"n": 1})
    (d,) = ev["deliveries"]
    assert d["outcome"] == "pending" and d["target_kind"] == "job"
    (job,) = claim_one(api, "outcome")
    assert job["id"] == d["run_id"]
    r = api.post("/v1/jobs/complete", json={"items": [
        {"id": job["id"], "lease_token": job["lease_token"], "result": {"ok": True}}]})
    assert r.status_code == 200, r.text
    wait_for(lambda: api.get("/v1/events/" + ev["id"]).json()["deliveries"][0]["outcome"] == "success",
             desc="the delivery shows its run's success")


def test_a_workflow_target_and_the_runs_status(api):
    subscribe(api, "wf", "user.signed_up", {"kind": "workflow", "type": "welcome", "queue": "wfev"})
    ev = publish(api, "user.signed_up", {"user": "ada"})
    (d,) = ev["deliveries"]
    run = api.get("/v1/workflows/" + d["run_id"]).json()
    assert run["type"] == "welcome" and run["input"] == {"user": "ada"}
    assert d["outcome"] == run["status"]


def test_a_deleted_subscription_starts_nothing(api):
    subscribe(api, "gone", "a.b")
    assert api.delete("/v1/subscriptions/gone").status_code == 204
    assert api.delete("/v1/subscriptions/gone").status_code == 404
    assert publish(api, "a.b")["deliveries"] == []


def test_subscriptions_are_checked_listed_and_read(api):
    for body, field in [({"name": "x", "topic": "bad topic"}, "topic"), ({"name": "x", "topic": "a.*.b"}, "topic"),
                        ({"name": "X", "topic": "a"}, "name"),
                        ({"name": "x", "topic": "a", "target": {"kind": "nope"}}, "target.kind")]:
        body.setdefault("target", JOB)
        r = api.post("/v1/subscriptions", json=body)
        assert r.status_code == 400 and field in r.text, r.text
    subscribe(api, "one", "a.*")
    subscribe(api, "two", "a.b")
    subscribe(api, "one", "c", expect=409)
    got = api.get("/v1/subscriptions/one").json()
    assert got["topic"] == "a.*" and got["match"] == "prefix" and got["target"] == JOB
    page = api.get("/v1/subscriptions?limit=1").json()
    assert [s["name"] for s in page["subscriptions"]] == ["one"] and page["next_cursor"] == "one"
    page = api.get("/v1/subscriptions?limit=1&cursor=one").json()
    assert [s["name"] for s in page["subscriptions"]] == ["two"] and page["next_cursor"] is None
    assert api.get("/v1/subscriptions/three").status_code == 404


def test_events_are_checked_and_listed_newest_first_in_pages(api):
    for body, field in [({"topic": ""}, "topic"), ({"topic": "a b"}, "topic"), ({"topic": "a", "id": "x/y"}, "id"),
                        ({"topic": "a", "extra": 1}, "extra")]:
        r = api.post("/v1/events", json=body)
        assert r.status_code == 400 and field in r.text, r.text
    ids = [publish(api, "t.%d" % i, id="e%d" % i)["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        r = api.get("/v1/events?limit=2" + ("&cursor=" + cursor if cursor else ""))
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [e["id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert api.get("/v1/events?cursor=nonsense").status_code == 400
    assert api.get("/v1/events/nope").status_code == 404


def complete(api, job, result):
    r = api.post("/v1/jobs/complete", json={"items": [
        {"id": job["id"], "lease_token": job["lease_token"], "result": result}]})
    assert r.status_code == 200, r.text


def fail_for_good(api, job, code, message):
    r = api.post("/v1/jobs/fail", json={"items": [
        {"id": job["id"], "lease_token": job["lease_token"], "error": {"code": code, "message": message}}]})
    assert r.status_code == 200, r.text


def test_a_tasks_emit_on_its_end_starts_a_subscribed_target(api):
    subscribe(api, "on-built", "build.done", {"kind": "job", "queue": "after-build"})
    subscribe(api, "on-broken", "build.broken", {"kind": "job", "queue": "after-broken"})
    r = api.post("/v1/runs", json={"tasks": [
        {"ref": "build", "queue": "builds", "emit": {"topic": "build.done", "on": "success"}},
        {"ref": "lint", "queue": "builds", "max_attempts": 1, "emit": {"topic": "build.broken", "on": "failure"}},
        {"ref": "any", "queue": "builds", "emit": {"topic": "build.ended"}},
    ]})
    assert r.status_code == 201, r.text
    jobs = {}
    for _ in range(3):
        (j,) = claim_one(api, "builds")
        jobs[j["name"]] = j
    complete(api, jobs["build"], {"artifact": "a.tgz"})
    fail_for_good(api, jobs["lint"], "style", "tabs")
    complete(api, jobs["any"], None)
    events = api.get("/v1/events").json()["events"]
    by_topic = {e["topic"]: e for e in events}
    assert set(by_topic) == {"build.done", "build.broken", "build.ended"}, events
    done = api.get("/v1/events/" + by_topic["build.done"]["id"]).json()
    assert done["payload"] == {"artifact": "a.tgz"} and done["source"] == "task:" + jobs["build"]["id"]
    (d,) = done["deliveries"]
    (started,) = tasks_of(api, "after-build")
    assert d["run_id"] == started["id"]
    assert api.get("/v1/tasks/" + started["id"]).json()["input"] == {"artifact": "a.tgz"}
    broken = api.get("/v1/events/" + by_topic["build.broken"]["id"]).json()
    assert broken["payload"]["status"] == "failure" and broken["payload"]["code"] == "style"
    assert len(tasks_of(api, "after-broken")) == 1
    assert by_topic["build.ended"]["payload"] is None


def test_an_emit_whose_condition_is_not_met_publishes_nothing(api):
    r = api.post("/v1/runs", json={"tasks": [
        {"ref": "t", "queue": "cond", "emit": {"topic": "only.on.failure", "on": "failure"}}]})
    assert r.status_code == 201, r.text
    (j,) = claim_one(api, "cond")
    complete(api, j, {"ok": 1})
    assert api.get("/v1/events").json()["events"] == []
    for emit, field in [({"topic": "bad topic"}, "emit.topic"), ({"topic": "a", "on": "start"}, "emit.on"),
                        ({"on": "end"}, "emit.topic"), ({"topic": "a", "x": 1}, "emit.x")]:
        r = api.post("/v1/runs", json={"tasks": [{"ref": "t", "queue": "cond", "emit": emit}]})
        assert r.status_code == 400 and field in r.text, r.text


def test_a_fan_out_of_job_and_workflow_targets_starts_each_once(api):
    subscribe(api, "a-job", "mixed.t", {"kind": "job", "queue": "mixed-a", "priority": 5})
    subscribe(api, "b-job", "mixed.t", {"kind": "job", "queue": "mixed-b", "name": "named"})
    subscribe(api, "c-wf", "mixed.t", {"kind": "workflow", "type": "wf", "queue": "mixed-c"})
    ev = publish(api, "mixed.t", {"k": 1}, id="mixed-1")
    d = {x["subscription"]: x for x in ev["deliveries"]}
    assert set(d) == {"a-job", "b-job", "c-wf"} and all(x["run_id"] for x in d.values())
    a = api.get("/v1/tasks/" + d["a-job"]["run_id"]).json()
    b = api.get("/v1/tasks/" + d["b-job"]["run_id"]).json()
    assert a["queue"] == "mixed-a" and a["priority"] == 5 and a["input"] == {"k": 1}
    assert b["queue"] == "mixed-b" and b["name"] == "named"
    assert api.get("/v1/workflows/" + d["c-wf"]["run_id"]).json()["input"] == {"k": 1}
    assert publish(api, "mixed.t", id="mixed-1", expect=200)["deliveries"] == ev["deliveries"]
    assert [len(tasks_of(api, q)) for q in ("mixed-a", "mixed-b")] == [1, 1]


def test_a_template_target_and_its_runs_outcome(api):
    r = api.post("/v1/templates", json={"name": "report", "version": "2", "steps": [
        {"ref": "build", "queue": "tpl-ev"}]})
    assert r.status_code == 201, r.text
    subscribe(api, "rep", "day.closed", {"kind": "template", "template": "report@2"})
    r = api.post("/v1/subscriptions", json={"name": "nope", "topic": "x",
                                            "target": {"kind": "template", "template": "report@9"}})
    assert r.status_code == 422 and "target.template" in r.text, r.text
    ev = publish(api, "day.closed", {"day": 7})
    (d,) = ev["deliveries"]
    assert d["target_kind"] == "template" and d["outcome"] == "running"
    assert api.get("/v1/runs/" + d["run_id"]).json()["context"] == {"day": 7}
    (job,) = claim_one(api, "tpl-ev")
    complete(api, job, {"rows": 3})
    wait_for(lambda: api.get("/v1/events/" + ev["id"]).json()["deliveries"][0]["outcome"] == "success",
             desc="the template run's success")


def test_a_namespace_has_at_most_1000_subscriptions(api):
    s = api.server.session
    for i in range(1000):
        r = s.post(api.server.url("/v1/subscriptions"), json={"name": "s%04d" % i, "topic": "many", "target": JOB})
        assert r.status_code == 201, r.text
    r = api.post("/v1/subscriptions", json={"name": "one-more", "topic": "many", "target": JOB})
    assert r.status_code == 413 and "1000 subscriptions" in r.text, r.text
    r = api.post("/v1/subscriptions", json={"namespace": "other", "name": "one-more", "topic": "many",
                                            "target": JOB})
    assert r.status_code == 201, r.text


def test_old_events_go_with_their_deliveries_in_batches(make_api):
    """EVENT_RETENTION_AFTER_SECS on the injected clock: the events published
    longer ago go with their deliveries (three, two per batch), the younger
    stays, and an id deleted is free again."""
    from harness import metric
    api = make_api(EVENT_RETENTION_AFTER_SECS="3600", RETENTION_CLEANUP_INTERVAL_SECS="1", RETENTION_BATCH_SIZE="2")
    subscribe(api, "ret", "ret.t")
    for i in range(3):
        publish(api, "ret.t", {"i": i}, id="old-%d" % i)
    api.advance(1800)
    young = publish(api, "ret.t", {"i": 9}, id="young")
    api.advance(1900)      # the old: 3700 s; the young: 1900 s
    wait_for(lambda: all(api.get("/v1/events/old-%d" % i).status_code == 404 for i in range(3)), timeout=10,
             desc="the old events deleted")
    got = api.get("/v1/events/young").json()
    assert [d["run_id"] for d in got["deliveries"]] == [d["run_id"] for d in young["deliveries"]]
    assert [e["id"] for e in api.get("/v1/events?topic=ret.t").json()["events"]] == ["young"]
    samples = api.metrics()
    assert metric(samples, "retention_events_deleted_total") == 3
    assert metric(samples, "retention_event_deliveries_deleted_total") == 3
    # Its id forgotten, the event published again is a new one and starts again.
    again = publish(api, "ret.t", {"i": 0}, id="old-0")
    assert len(again["deliveries"]) == 1 and again["deliveries"][0]["run_id"]
