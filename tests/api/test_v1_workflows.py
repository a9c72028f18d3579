"""/v1/workflows: a run is a job of its queue, claimed by ordinary workers;
an idempotent start answers the active run holding its key (200) and
creates nothing, a finished run frees the key; a run is read by id and by
key; a run of a namespace the token may not see is unknown; bad bodies are
refused naming the field."""

import pytest

A = "token-of-team-a-0123"
B = "token-of-team-b-0123"
TOKENS = "a %s a client; b %s b client" % (A, B)


def h(token):
    return {"Authorization": "Bearer " + token}


def start(api, status=201, headers=None, **body):
    body.setdefault("type", "order")
    body.setdefault("queue", "wf")
    r = api.post("/v1/workflows", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def test_start_get_and_claim(api):
    run = start(api, input={"order": 7}, max_attempts=3)
    assert run["status"] == "pending" and run["type"] == "order" and run["queue"] == "wf"
    assert run["namespace"] == "default" and run["input"] == {"order": 7}
    assert run["output"] is None and run["error"] is None and run["suspended"] is None
    assert run["idempotency_key"] is None and run["ended_at"] is None
    got = api.get("/v1/workflows/" + run["id"])
    assert got.status_code == 200 and got.json() == run
    # The run is a job of its queue: an ordinary worker claims it, with the
    # run's input, under a lease.
    r = api.post("/v1/jobs/claim", json={"queues": ["wf"], "worker_id": "w1"})
    assert r.status_code == 200, r.text
    (job,) = r.json()["jobs"]
    assert job["id"] == run["id"] and job["input"] == {"order": 7} and job["name"] == "order"
    assert job["max_attempts"] == 3 and job["lease_token"]


def test_idempotent_start(api):
    first = start(api, idempotency_key="order-7", input=1)
    # The same key while the run is active: that run, 200, nothing new.
    again = start(api, status=200, idempotency_key="order-7", input=2)
    assert again["id"] == first["id"] and again["input"] == 1
    # Another key, or no key: new runs.
    other = start(api, idempotency_key="order-8")
    assert other["id"] != first["id"]
    by_key = api.get("/v1/workflows/by-key/order-7")
    assert by_key.status_code == 200 and by_key.json()["id"] == first["id"]
    error_of(api.get("/v1/workflows/by-key/order-9"), 404, "not_found")
    # Only one job was enqueued for the key.
    r = api.post("/v1/jobs/claim", json={"queues": ["wf"], "worker_id": "w1", "max_jobs": 10})
    assert sorted(j["id"] for j in r.json()["jobs"]) == sorted([first["id"], other["id"]])


def test_key_per_namespace(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    a = start(api, headers=h(A), idempotency_key="k")
    b = start(api, headers=h(B), idempotency_key="k")
    assert a["id"] != b["id"] and a["namespace"] == "a" and b["namespace"] == "b"
    # A run of another namespace is unknown, by id and by key.
    error_of(api.get("/v1/workflows/" + a["id"], headers=h(B)), 404, "not_found")
    error_of(api.get("/v1/workflows/by-key/k?namespace=a", headers=h(B)), 404, "not_found")
    assert api.get("/v1/workflows/by-key/k", headers=h(B)).json()["id"] == b["id"]
    # Starting in a namespace the token may not see.
    error_of(api.post("/v1/workflows", json={"namespace": "a", "type": "t", "queue": "q"}, headers=h(B)),
             403, "forbidden_namespace")


@pytest.mark.parametrize("body, field", [
    ({"queue": "wf"}, "type"),
    ({"type": "t"}, "queue"),
    ({"type": "t", "queue": "wf", "dedup": {"key": "x"}}, "dedup"),
    ({"type": "t", "queue": "wf", "idempotency_key": ""}, "idempotency_key"),
    ({"type": "t", "queue": "wf", "idempotency_key": 5}, "idempotency_key"),
    ({"type": "t", "queue": "wf", "namespace": "Bad NS"}, "namespace"),
    ({"type": "t", "queue": "wf", "max_attempts": 0}, "max_attempts"),
    ({"type": "t", "queue": "wf", "surprise": 1}, "surprise"),
])
def test_start_validation(api, body, field):
    e = error_of(api.post("/v1/workflows", json=body), 400, "invalid_request")
    assert field in str(e), e


def test_unknown_run(api):
    error_of(api.get("/v1/workflows/00000000-0000-4000-8000-000000000000"), 404, "not_found")


# ---- the worker side: a workflow driven by hand ------------------------------------------------

def claim_run(api, queue="wf", **kw):
    r = api.post("/v1/jobs/claim", json=dict(queues=[queue], worker_id="w1", **kw))
    assert r.status_code == 200, r.text
    jobs = r.json()["jobs"]
    assert len(jobs) <= 1
    return jobs[0] if jobs else None


def call(api, run_id, what, token, status=200, **body):
    body["lease_token"] = token
    r = api.post("/v1/workflows/%s/%s" % (run_id, what), json=body)
    assert r.status_code == status, r.text
    return r.json()


def run_step(api, run_id, token, name, output):
    """Begins a step and completes it unless memoized; its output."""
    b = call(api, run_id, "steps/begin", token, name=name)
    if b["memoized"]:
        return b["step"]["output"], b["step"]["seq"], True
    assert b["step"]["status"] == "running"
    done = call(api, run_id, "steps/complete", token, name=name, seq=b["step"]["seq"], output=output)
    assert done["step"]["status"] == "completed" and done["step"]["output"] == output
    return output, b["step"]["seq"], False


def test_steps_memoized_across_a_crash(api):
    run = start(api, input={"n": 3})
    job = claim_run(api, lease_ms=2000)
    t1 = job["lease_token"]
    # A name reused in a loop: one row per iteration.
    for i in range(1, 4):
        out, seq, memo = run_step(api, run["id"], t1, "fetch", {"item": i})
        assert (seq, memo) == (i, False)
    assert api.get("/v1/workflows/" + run["id"]).json()["status"] == "running"
    # A repeated completion with the same output says it changed nothing;
    # another output is a conflict.
    again = call(api, run["id"], "steps/complete", t1, name="fetch", seq=2, output={"item": 2})
    assert again["memoized"] is True
    e = call(api, run["id"], "steps/complete", t1, status=409, name="fetch", seq=2, output={"item": 9})
    assert e["error"]["code"] == "step_ended" and e["error"]["current_status"] == "completed"
    # Completing a step this attempt never began.
    e = call(api, run["id"], "steps/complete", t1, status=409, name="fetch", seq=7, output=1)
    assert e["error"]["code"] == "step_not_begun"

    # The worker dies: after its lease another worker replays the run from
    # the top and every completed step answers its stored output.
    api.advance(2.5)
    job2 = claim_run(api)
    assert job2 is not None and job2["id"] == run["id"]
    t2 = job2["lease_token"]
    assert t2 != t1
    for i in range(1, 4):
        out, seq, memo = run_step(api, run["id"], t2, "fetch", {"item": "again"})
        assert (out, seq, memo) == ({"item": i}, i, True)
    out, seq, memo = run_step(api, run["id"], t2, "fetch", {"item": 4})
    assert (seq, memo) == (4, False)
    # The old holder is fenced off, on every call.
    for what, body in [("steps/begin", {"name": "x"}), ("complete", {"output": 1}),
                       ("sleep", {"name": "s", "duration_ms": 5})]:
        e = call(api, run["id"], what, t1, status=409, **body)
        assert e["error"]["code"] == "stale_lease", e
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "running" and got["replays"] == 2
    done = call(api, run["id"], "complete", t2, output={"total": 4})
    assert done["run_status"] == "completed"
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "completed" and got["output"] == {"total": 4} and got["ended_at"]
    e = call(api, run["id"], "steps/begin", t2, status=409, name="late")
    assert e["error"]["code"] == "workflow_ended" and e["error"]["current_status"] == "completed"


def test_sleep_suspends_until_the_injected_time(api):
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    run_step(api, run["id"], t1, "before", 1)
    s = call(api, run["id"], "sleep", t1, name="nap", duration_ms=1500)
    assert s["suspended"] is True and s["run_status"] == "suspended" and s["wake_at"]
    assert s["step"]["status"] == "sleeping"
    # The attempt is over: code that ignores the suspension can do nothing.
    e = call(api, run["id"], "steps/begin", t1, status=409, name="after")
    assert e["error"]["code"] == "stale_lease" and e["error"]["current_status"] == "suspended"
    e = call(api, run["id"], "complete", t1, status=409, output=1)
    assert e["error"]["code"] == "stale_lease"
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "suspended" and got["suspended"]["reason"] == "sleep"
    assert claim_run(api) is None                   # not before its time
    api.advance(1.0)
    assert claim_run(api) is None
    api.advance(0.6)
    job = claim_run(api)
    assert job is not None and job["id"] == run["id"] and job["attempt"] == 1   # a sleep is no failure
    t2 = job["lease_token"]
    assert run_step(api, run["id"], t2, "before", 2) == (1, 1, True)
    s = call(api, run["id"], "sleep", t2, name="nap", duration_ms=1500)
    assert s["suspended"] is False and s["step"]["status"] == "completed" and s["memoized"] is False
    # The same sleep name in a loop is a new sleep.
    s = call(api, run["id"], "sleep", t2, name="nap", duration_ms=0)
    assert s["suspended"] is False and s["step"]["seq"] == 2
    assert call(api, run["id"], "complete", t2, output=None)["run_status"] == "completed"


def test_a_parked_claim_wakes_at_the_sleeps_end(api):
    import threading
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    call(api, run["id"], "sleep", t1, name="nap", duration_ms=3000)
    got = {}

    def long_poll():
        got["job"] = claim_run(api, wait_ms=20000)

    th = threading.Thread(target=long_poll)
    th.start()
    import time
    time.sleep(0.3)                                  # the claim is parked
    assert th.is_alive()
    api.advance(3.1)
    th.join(5)
    assert not th.is_alive() and got["job"]["id"] == run["id"]


def test_step_retry_backoff_then_failure(api):
    run = start(api, max_attempts=2, backoff={"initial_ms": 1000, "jitter": 0},
                non_retryable_codes=["fatal"])
    t1 = claim_run(api)["lease_token"]
    b = call(api, run["id"], "steps/begin", t1, name="pay")
    f = call(api, run["id"], "steps/fail", t1, name="pay", seq=b["step"]["seq"],
             error={"code": "declined", "message": "card declined"})
    assert f["retrying"] is True and f["suspended"] is True and f["step"]["status"] == "retrying"
    assert f["step"]["attempts"] == 1 and f["step"]["error"]["code"] == "declined"
    assert api.get("/v1/workflows/" + run["id"]).json()["suspended"]["reason"] == "retry"
    assert claim_run(api) is None
    api.advance(1.1)
    t2 = claim_run(api)["lease_token"]
    b = call(api, run["id"], "steps/begin", t2, name="pay")
    assert b["memoized"] is False and b["step"]["status"] == "running" and b["step"]["seq"] == 1
    f = call(api, run["id"], "steps/fail", t2, name="pay", seq=1, error={"code": "declined"})
    assert f["retrying"] is False and f["suspended"] is False and f["step"]["status"] == "failed"
    assert f["step"]["attempts"] == 2
    # The run goes on; a replay's begin of that step says it failed.
    e = call(api, run["id"], "steps/fail", t2, status=409, name="pay", seq=1, error={"code": "declined"})
    assert e["error"]["code"] == "step_ended"
    # A non-retryable code fails a step at once.
    b = call(api, run["id"], "steps/begin", t2, name="refund")
    f = call(api, run["id"], "steps/fail", t2, name="refund", seq=1, error={"code": "fatal"})
    assert f["retrying"] is False and f["step"]["status"] == "failed" and f["step"]["attempts"] == 1
    # The handler fails the run; not retryable: failed for good.
    f = call(api, run["id"], "fail", t2, error={"code": "payment", "message": "no payment"}, retryable=False)
    assert f["run_status"] == "failed" and f["retrying"] is False
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "failed" and got["error"] == {"code": "payment", "message": "no payment"}


def test_begin_of_a_step_failed_for_good(api):
    run = start(api, max_attempts=2, non_retryable_codes=["bad"])
    t1 = claim_run(api, lease_ms=1000)["lease_token"]
    call(api, run["id"], "steps/begin", t1, name="once")
    f = call(api, run["id"], "steps/fail", t1, name="once", seq=1, error={"code": "bad"})
    assert f["retrying"] is False
    api.advance(1.5)                                 # the worker dies before failing the run
    t2 = claim_run(api, lease_ms=1000)["lease_token"]
    e = call(api, run["id"], "steps/begin", t2, status=409, name="once")
    assert e["error"]["code"] == "step_failed"
    # It dies again, with no attempt left: the job is a dead letter, and
    # the run shows it failed; a late call from its last holder says so.
    api.advance(1.5)
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "failed" and got["suspended"] is None
    e = call(api, run["id"], "steps/begin", t2, status=409, name="once")
    assert e["error"]["code"] == "workflow_ended" and e["error"]["current_status"] == "failed"
    assert api.get("/v1/workflows/" + run["id"]).json()["error"]["code"] == "lease_expired"


def test_cancel_through_the_job_is_seen_by_the_worker(api):
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    r = api.post("/v1/tasks/%s/cancel" % run["id"])
    assert r.status_code == 200, r.text
    assert api.get("/v1/workflows/" + run["id"]).json()["status"] == "canceled"
    e = call(api, run["id"], "steps/begin", t1, status=409, name="a")
    assert e["error"]["code"] == "workflow_ended" and e["error"]["current_status"] == "canceled"
    # Its heartbeat says so too (the job's own answer).
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": run["id"], "lease_token": t1}]})
    assert r.status_code == 200 and "cancel" in r.text, r.text


@pytest.mark.parametrize("what, body, field", [
    ("steps/begin", {"name": "a"}, "lease_token"),
    ("steps/begin", {"lease_token": 5, "name": "a"}, "lease_token"),
    ("steps/begin", {"lease_token": "1"}, "name"),
    ("steps/complete", {"lease_token": "1", "name": "a", "seq": 0}, "seq"),
    ("steps/fail", {"lease_token": "1", "name": "a", "seq": 1}, "error"),
    ("steps/fail", {"lease_token": "1", "name": "a", "seq": 1, "error": {"code": "Bad Code"}}, "code"),
    ("sleep", {"lease_token": "1", "name": "a", "duration_ms": -1}, "duration_ms"),
    ("sleep", {"lease_token": "1", "name": "a"}, "duration_ms"),
    ("complete", {"lease_token": "1", "extra": 1}, "extra"),
])
def test_worker_call_validation(api, what, body, field):
    run = start(api)
    e = error_of(api.post("/v1/workflows/%s/%s" % (run["id"], what), json=body), 400, "invalid_request")
    assert field in str(e), e


def test_calls_on_unknown_or_unclaimed_runs(api):
    unknown = "00000000-0000-4000-8000-000000000000"
    error_of(api.post("/v1/workflows/%s/steps/begin" % unknown, json={"lease_token": "1", "name": "a"}),
             404, "not_found")
    run = start(api)
    e = error_of(api.post("/v1/workflows/%s/steps/begin" % run["id"], json={"lease_token": "1", "name": "a"}),
                 409, "stale_lease")
    assert e["current_status"] == "pending"


# ---- the list ----------------------------------------------------------------------------------

def list_all(api, limit, **q):
    """Every page of GET /v1/workflows with these filters: the ids in order."""
    ids, cursor = [], None
    while True:
        params = dict(q, limit=limit)
        if cursor:
            params["cursor"] = cursor
        r = api.get("/v1/workflows", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["workflows"]) <= limit
        ids += [w["id"] for w in page["workflows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_list_filters_and_pages(api):
    early = [start(api, type="order", queue="wf"), start(api, type="refund", queue="wf"),
             start(api, type="order", queue="other")]
    api.advance(10)
    late = [start(api, type="order", queue="wf"), start(api, type="order", queue="wf")]
    everything = [w["id"] for w in reversed(early + late)]          # newest first
    assert list_all(api, 2) == everything
    assert list_all(api, 1000) == everything
    assert list_all(api, 2, type="order") == [i for i in everything if i != early[1]["id"]]
    assert list_all(api, 2, queue="other") == [early[2]["id"]]
    assert list_all(api, 1, created_after=late[0]["created_at"]) == [late[1]["id"], late[0]["id"]]
    assert list_all(api, 1, created_before=late[0]["created_at"]) == [w["id"] for w in reversed(early)]
    # Status, as reads show it: a claimed and completed run, a canceled one.
    job = claim_run(api, queue="other")
    call(api, job["id"], "complete", job["lease_token"], output=1)
    assert api.post("/v1/tasks/%s/cancel" % early[1]["id"]).status_code == 200
    assert list_all(api, 2, status="completed") == [early[2]["id"]]
    assert list_all(api, 2, status="canceled") == [early[1]["id"]]
    assert list_all(api, 2, status="pending") == [late[1]["id"], late[0]["id"], early[0]["id"]]
    # Rows started while paging never make a page repeat or skip one.
    r = api.get("/v1/workflows", params={"limit": 2}).json()
    start(api)
    start(api)
    rest = api.get("/v1/workflows", params={"limit": 100, "cursor": r["next_cursor"]}).json()
    assert [w["id"] for w in r["workflows"]] + [w["id"] for w in rest["workflows"]] == everything
    # A cursor is good only with its filters; bad filters name themselves.
    e = error_of(api.get("/v1/workflows", params={"cursor": r["next_cursor"], "type": "order"}),
                 400, "invalid_request")
    assert "cursor" in str(e)
    for q, field in [({"status": "done"}, "status"), ({"limit": 0}, "limit"), ({"queue": "a b"}, "queue"),
                     ({"created_after": "yesterday"}, "created_after"), ({"cursor": "zzz"}, "cursor")]:
        e = error_of(api.get("/v1/workflows", params=q), 400, "invalid_request")
        assert field in str(e), e


def test_list_confined_to_the_tokens_namespaces(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    a = start(api, headers=h(A))
    start(api, headers=h(B))
    r = api.get("/v1/workflows", headers=h(A))
    assert [w["id"] for w in r.json()["workflows"]] == [a["id"]]
    error_of(api.get("/v1/workflows", params={"namespace": "b"}, headers=h(A)), 403, "forbidden_namespace")


# ---- cancel and terminate ----------------------------------------------------------------------

def test_cancel_seen_by_the_worker(api):
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    run_step(api, run["id"], t1, "a", 1)
    r = api.post("/v1/workflows/%s/cancel" % run["id"], json={"reason": "customer asked"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["status"] == "canceled" and got["error"] == {"code": "canceled", "message": "customer asked"}
    assert got["ended_at"]
    # The worker learns it at its next step call, and at its heartbeat.
    e = call(api, run["id"], "steps/begin", t1, status=409, name="b")
    assert e["error"]["code"] == "workflow_ended" and e["error"]["current_status"] == "canceled"
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": run["id"], "lease_token": t1}]})
    assert r.status_code == 200 and "cancel" in r.text, r.text
    # Canceling again changes nothing, and says so.
    e = error_of(api.post("/v1/workflows/%s/cancel" % run["id"]), 409, "workflow_ended")
    assert e["current_status"] == "canceled"
    assert list_all(api, 10, status="canceled") == [run["id"]]


def test_cancel_a_pending_or_suspended_run(api):
    pending = start(api, queue="p")
    assert api.post("/v1/workflows/%s/cancel" % pending["id"]).json()["status"] == "canceled"
    assert claim_run(api, queue="p") is None
    sleeping = start(api)
    t1 = claim_run(api)["lease_token"]
    call(api, sleeping["id"], "sleep", t1, name="nap", duration_ms=1000)
    got = api.post("/v1/workflows/%s/cancel" % sleeping["id"]).json()
    assert got["status"] == "canceled" and got["suspended"] is None
    api.advance(1.5)
    assert claim_run(api) is None                    # its wake-up does not bring it back
    error_of(api.post("/v1/workflows/00000000-0000-4000-8000-000000000000/cancel"), 404, "not_found")
    error_of(api.post("/v1/workflows/%s/cancel" % pending["id"], json={"why": 1}), 400, "invalid_request")


def test_terminate(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    run = start(api, headers=h(A))
    r = api.post("/v1/workflows/%s/terminate" % run["id"], json={"reason": "stuck"}, headers=h(A))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "terminated" and r.json()["error"] == {"code": "terminated", "message": "stuck"}
    # Another namespace's run is unknown to a client token.
    other = start(api, headers=h(B))
    for what in ("cancel", "terminate", "retry"):
        error_of(api.post("/v1/workflows/%s/%s" % (other["id"], what), headers=h(A)), 404, "not_found")


def test_retry_a_failed_run(api):
    run = start(api, max_attempts=1)
    t1 = claim_run(api)["lease_token"]
    run_step(api, run["id"], t1, "reserve", {"r": 1})
    call(api, run["id"], "steps/begin", t1, name="charge")
    f = call(api, run["id"], "steps/fail", t1, name="charge", seq=1, error={"code": "declined"})
    assert f["step"]["status"] == "failed"
    call(api, run["id"], "fail", t1, error={"code": "declined"})
    assert api.get("/v1/workflows/" + run["id"]).json()["status"] == "failed"
    # Retrying replays it: the completed step is memoized, the failed one
    # runs again with a fresh budget.
    r = api.post("/v1/workflows/%s/retry" % run["id"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["status"] == "pending" and got["error"] is None and got["ended_at"] is None
    t2 = claim_run(api)["lease_token"]
    assert run_step(api, run["id"], t2, "reserve", None) == ({"r": 1}, 1, True)
    b = call(api, run["id"], "steps/begin", t2, name="charge")
    assert b["memoized"] is False and b["step"]["status"] == "running" and b["step"]["attempts"] == 0
    call(api, run["id"], "steps/complete", t2, name="charge", seq=1, output="paid")
    assert call(api, run["id"], "complete", t2, output="done")["run_status"] == "completed"
    # A completed run, or one still going, is not retried.
    e = error_of(api.post("/v1/workflows/%s/retry" % run["id"]), 409, "not_retryable")
    assert e["current_status"] == "completed"
    e = error_of(api.post("/v1/workflows/%s/retry" % start(api)["id"]), 409, "not_retryable")
    assert e["current_status"] == "pending"


def test_retry_a_canceled_run(api):
    run = start(api)
    api.post("/v1/workflows/%s/cancel" % run["id"])
    assert api.post("/v1/workflows/%s/retry" % run["id"]).json()["status"] == "pending"
    job = claim_run(api)
    assert job["id"] == run["id"]


# ---- signals -----------------------------------------------------------------------------------

def signal(api, run_id, name, status=201, **body):
    r = api.post("/v1/workflows/%s/signals" % run_id, json=dict(body, name=name))
    assert r.status_code == status, r.text
    return r.json()


def test_a_signal_sent_before_the_wait(api):
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    s = signal(api, run["id"], "approve", payload={"by": "ann"})
    assert s["woke"] is False and s["run_status"] == "running" and s["id"] >= 1
    w = call(api, run["id"], "wait-signal", t1, name="approve")
    assert w["suspended"] is False and w["timed_out"] is False
    assert w["step"]["status"] == "completed" and w["step"]["output"] == {"by": "ann"}
    # A second wait of the name needs a second signal.
    w = call(api, run["id"], "wait-signal", t1, name="approve", timeout_ms=60000)
    assert w["suspended"] is True and w["step"]["seq"] == 2


def test_a_signal_wakes_a_waiting_run_and_its_parked_claim(api):
    import threading
    import time
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    w = call(api, run["id"], "wait-signal", t1, name="approve")
    assert w["suspended"] is True and w["wake_at"] is None
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "suspended" and got["suspended"] == {"reason": "signal", "wake_at": None,
                                                                 "signal": "approve"}
    api.advance(3600)
    assert claim_run(api) is None                    # no timeout: it waits
    # Another name does not wake it.
    assert signal(api, run["id"], "other")["woke"] is False
    parked = {}
    th = threading.Thread(target=lambda: parked.update(job=claim_run(api, wait_ms=20000)))
    th.start()
    time.sleep(0.3)
    assert th.is_alive()
    s = signal(api, run["id"], "approve", payload=[1, 2])
    assert s["woke"] is True and s["run_status"] == "pending"
    th.join(5)
    assert not th.is_alive() and parked["job"]["id"] == run["id"]
    t2 = parked["job"]["lease_token"]
    w = call(api, run["id"], "wait-signal", t2, name="approve")
    assert w["suspended"] is False and w["step"]["output"] == [1, 2] and w["memoized"] is False
    # On a later replay the wait is memoized.
    api.advance(61)                                  # the default lease runs out
    t3 = claim_run(api)["lease_token"]
    w = call(api, run["id"], "wait-signal", t3, name="approve")
    assert w["memoized"] is True and w["step"]["output"] == [1, 2]


def test_a_signal_wait_times_out(api):
    run = start(api)
    t1 = claim_run(api)["lease_token"]
    w = call(api, run["id"], "wait-signal", t1, name="approve", timeout_ms=1000)
    assert w["suspended"] is True and w["wake_at"]
    api.advance(0.5)
    assert claim_run(api) is None
    api.advance(0.6)
    t2 = claim_run(api)["lease_token"]
    w = call(api, run["id"], "wait-signal", t2, name="approve", timeout_ms=1000)
    assert w["timed_out"] is True and w["suspended"] is False
    assert w["step"]["status"] == "completed" and w["step"]["error"]["code"] == "timed_out"
    # A late signal is kept for a later wait, and never rewrites this one.
    signal(api, run["id"], "approve", payload=1)
    w = call(api, run["id"], "wait-signal", t2, name="approve")
    assert w["step"]["seq"] == 2 and w["step"]["output"] == 1


def test_signal_errors(api):
    run = start(api)
    error_of(api.post("/v1/workflows/%s/signals" % run["id"], json={}), 400, "invalid_request")
    error_of(api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "a", "x": 1}), 400,
             "invalid_request")
    error_of(api.post("/v1/workflows/00000000-0000-4000-8000-000000000000/signals", json={"name": "a"}),
             404, "not_found")
    api.post("/v1/workflows/%s/cancel" % run["id"])
    e = error_of(api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "a"}), 409, "workflow_ended")
    assert e["current_status"] == "canceled"
    run = start(api)
    t = claim_run(api)["lease_token"]
    e = error_of(api.post("/v1/workflows/%s/wait-signal" % run["id"],
                          json={"lease_token": t, "name": "a", "timeout_ms": 0}), 400, "invalid_request")
    assert "timeout_ms" in str(e)


def test_idempotency_key_header(api):
    hdr = {"Idempotency-Key": "start-once"}
    r1 = api.post("/v1/workflows", json={"type": "t", "queue": "wf"}, headers=hdr)
    r2 = api.post("/v1/workflows", json={"type": "t", "queue": "wf"}, headers=hdr)
    assert r1.status_code == 201 and r2.status_code == 201, (r1.text, r2.text)
    assert r2.headers.get("Idempotent-Replayed") == "true"
    assert r1.json()["id"] == r2.json()["id"]
    assert len(list_all(api, 10)) == 1
    run = r1.json()
    t = claim_run(api)["lease_token"]
    hdr = {"Idempotency-Key": "signal-once"}
    for _ in range(2):
        r = api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "go", "payload": 1}, headers=hdr)
        assert r.status_code == 201, r.text
    # One signal was sent: the second wait has none to take.
    assert call(api, run["id"], "wait-signal", t, name="go")["suspended"] is False
    assert call(api, run["id"], "wait-signal", t, name="go", timeout_ms=1000)["suspended"] is True
    # Worker calls ignore the header: the lease token makes them safe to send again.
    run2 = start(api, queue="q2")
    t2 = claim_run(api, queue="q2")["lease_token"]
    hdr = {"Idempotency-Key": "begin"}
    for _ in range(2):
        r = api.post("/v1/workflows/%s/steps/begin" % run2["id"], json={"lease_token": t2, "name": "s"},
                     headers=hdr)
        assert r.status_code == 200 and r.json()["step"]["seq"] == 1 and "Idempotent-Replayed" not in r.headers


def test_retention_keeps_the_run_with_its_jobs_end(make_api):
    from harness import wait_for
    api = make_api(RETENTION_ARCHIVE_AFTER_SECS="1", RETENTION_CLEANUP_INTERVAL_SECS="0.5")
    run = start(api, max_attempts=1)
    t1 = claim_run(api, lease_ms=1000)["lease_token"]
    run_step(api, run["id"], t1, "a", 1)
    api.advance(1.5)                                 # the worker died: a dead letter, the run failed
    assert api.get("/v1/workflows/" + run["id"]).json()["status"] == "failed"
    wait_for(lambda: run["id"] not in [t["id"] for t in api.get("/v1/tasks").json()["tasks"]], timeout=5,
             desc="the run's job to be archived")
    got = api.get("/v1/workflows/" + run["id"]).json()
    assert got["status"] == "failed" and got["error"]["code"] == "lease_expired" and got["ended_at"]
    assert list_all(api, 10, status="failed") == [run["id"]]
    assert list_all(api, 10, status="running") == []


def test_signals_not_taken_are_bounded(api):
    run = start(api)
    for i in range(1000):
        r = api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "n%d" % (i % 7)})
        assert r.status_code == 201, r.text
    e = error_of(api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "n0"}), 409, "too_many_signals")
    assert e["current_status"] == "pending"
    # A wait that takes one makes room for one more.
    t = claim_run(api)["lease_token"]
    assert call(api, run["id"], "wait-signal", t, name="n0")["suspended"] is False
    assert api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "n0"}).status_code == 201
    error_of(api.post("/v1/workflows/%s/signals" % run["id"], json={"name": "n0"}), 409, "too_many_signals")


# A run whose job ended without the run's own calls (a worker's job report,
# as `weft worker` sends for a shell script; a cancel of the task): its
# key is free at once, and its end (status, the job's result as output,
# the job's end time) is kept when the run's row takes it: at a late call,
# at a start with its key, and at the task archive.
def test_a_job_ended_outside_the_run_frees_its_key_and_keeps_its_end(make_api):
    from harness import wait_for
    api = make_api(RETENTION_ARCHIVE_AFTER_SECS="60", RETENTION_CLEANUP_INTERVAL_SECS="1")
    runs = []
    for key in ("k1", "k2", "k3"):
        run = start(api, idempotency_key=key)
        job = claim_run(api)
        r = api.post("/v1/jobs/%s/complete" % run["id"], json={"lease_token": job["lease_token"], "result": key})
        assert r.status_code == 200, r.text
        runs.append((run, job["lease_token"]))
    shown = [api.get("/v1/workflows/" + r["id"]).json() for r, _ in runs]
    for (run, _), got in zip(runs, shown):
        assert got["status"] == "completed" and got["output"] == run["idempotency_key"] and got["ended_at"]
    # A late call of its worker: 409, and the run's row takes the job's end.
    (r1, t1), (r2, _), (r3, _) = runs
    e = call(api, r1["id"], "steps/begin", t1, status=409, name="late")
    assert e["error"]["code"] == "workflow_ended" and e["error"]["current_status"] == "completed"
    # A start with its key: a new run.
    again = start(api, status=201, idempotency_key="k2")
    assert again["id"] != r2["id"]
    # Archived with its job: the same.
    api.advance(61)
    wait_for(lambda: api.get("/v1/tasks/" + r3["id"]).json().get("archived") is True
             or r3["id"] not in [t["id"] for t in api.get("/v1/tasks").json()["tasks"]], timeout=5,
             desc="the jobs to be archived")
    for before in shown:
        after = api.get("/v1/workflows/" + before["id"]).json()
        assert {k: after[k] for k in ("status", "output", "ended_at", "error")} == \
               {k: before[k] for k in ("status", "output", "ended_at", "error")}, (before, after)
