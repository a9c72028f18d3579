"""Operator actions on any task (retry now, reset for retry, resolve with a
result, cancel), dead letters (list, inspect, requeue) and the worker
registry (list, one, drain), through /v1 with scoped tokens: who may do
what, the 409s of each action, the audit trail naming the token, and
namespace isolation. Time is injected (Server.advance)."""

import uuid

from harness import wait_for

A = "token-of-team-a-0123"          # namespace a, client
B = "token-of-team-b-0123"          # namespace b, client
ROOT = "admin-token-0123456789"     # every namespace, admin
TOKENS = "a %s a client; b %s b client; root %s * admin" % (A, B, ROOT)


def h(token):
    return {"Authorization": "Bearer " + token}


def make(make_api):
    return make_api(WEFT_TOKENS=TOKENS)


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def enqueue(api, token, **job):
    job.setdefault("queue", "q")
    r = api.post("/v1/jobs", json={"jobs": [job]}, headers=h(token))
    assert r.status_code == 201, r.text
    return r.json()["jobs"][0]["id"]


def claim(api, token, queue="q", worker="w1", **kw):
    r = api.post("/v1/jobs/claim", json=dict(queues=[queue], worker_id=worker, **kw), headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()


def claim_one(api, token, queue="q", **kw):
    jobs = claim(api, token, queue, **kw)["jobs"]
    assert len(jobs) == 1, jobs
    return jobs[0]


def fail(api, token, job, code="boom", **error):
    error["code"] = code
    r = api.post("/v1/jobs/fail", json={"items": [{"id": job["id"], "lease_token": job["lease_token"],
                                                   "error": error}]}, headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()["results"][0]["outcome"]


def task(api, tid, token=ROOT):
    r = api.get("/v1/tasks/" + tid, headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()


def act(api, tid, action, token=ROOT, **body):
    return api.post("/v1/tasks/%s/%s" % (tid, action), json=body, headers=h(token))


def events(api, tid):
    return api.get("/v1/tasks/%s/events" % tid, headers=h(ROOT)).json()["events"]


def wait_v1_status(api, tid, status):
    return wait_for(lambda: task(api, tid)["status"] == status, desc="task %s to be %s" % (tid, status))


def dead_letter(api, token, **job):
    """A job in namespace a failed for good by a non-retryable error."""
    job.setdefault("max_attempts", 3)
    tid = enqueue(api, token, **job)
    c = claim_one(api, token, job.get("queue", "q"))
    assert fail(api, token, c, retryable=False) == "dead_lettered"
    return tid


# ---- dead letters ------------------------------------------------------------------------------


def test_dead_letter_after_max_attempts_then_requeue(make_api):
    api = make(make_api)
    tid = enqueue(api, A, max_attempts=2, backoff={"initial_ms": 1000, "jitter": 0})
    c = claim_one(api, A)
    assert c["attempt"] == 1
    assert fail(api, A, c, message="first") == "retrying"
    api.advance(1.5)
    c = claim_one(api, A)
    assert c["attempt"] == 2
    assert fail(api, A, c, code="still_bad", message="second") == "dead_lettered"

    # Listed, and inspected with its whole error history.
    r = api.get("/v1/dead-letters", headers=h(ROOT))
    assert r.status_code == 200, r.text
    assert [d["id"] for d in r.json()["dead_letters"]] == [tid]
    assert r.json()["next_cursor"] is None
    assert [d["id"] for d in api.get("/v1/dead-letters", params={"namespace": "a", "queue": "q"},
                                     headers=h(A)).json()["dead_letters"]] == [tid]
    assert api.get("/v1/dead-letters", params={"queue": "other"}, headers=h(A)).json()["dead_letters"] == []
    d = api.get("/v1/dead-letters/" + tid, headers=h(A)).json()
    assert d["dead_letter"] is True and d["status"] == "failure"
    assert [(x["attempt"], x["outcome"], x["error"]["code"]) for x in d["attempts"]] == [
        (1, "failed", "boom"), (2, "failed", "still_bad")]
    # Another namespace sees none of it.
    assert api.get("/v1/dead-letters", headers=h(B)).json()["dead_letters"] == []
    error_of(api.get("/v1/dead-letters/" + tid, headers=h(B)), 404, "not_found")
    error_of(api.get("/v1/dead-letters", params={"namespace": "a"}, headers=h(B)), 403, "forbidden_namespace")

    # Requeue is for admins; B's admin-less token cannot, nor can A.
    error_of(api.post("/v1/dead-letters/requeue", json={"ids": [tid]}, headers=h(A)), 403, "forbidden")
    unknown = str(uuid.uuid4())
    r = api.post("/v1/dead-letters/requeue", json={"ids": [tid, unknown], "reason": "fixed the bug"},
                 headers=h(ROOT))
    assert r.status_code == 200, r.text
    assert r.json() == {"requeued": [tid], "skipped": [{"id": unknown, "reason": "not_found"}]}
    assert api.get("/v1/dead-letters", headers=h(ROOT)).json()["dead_letters"] == []
    error_of(api.get("/v1/dead-letters/" + tid, headers=h(ROOT)), 404, "not_found")

    # Claimable at once, attempt 3, with a full retry budget: a retryable
    # failure retries again.
    t = task(api, tid)
    assert t["status"] == "pending" and t["dead_letter"] is False and t["attempt"] == 3
    c = claim_one(api, A)
    assert c["attempt"] == 3
    assert fail(api, A, c) == "retrying"
    trail = events(api, tid)
    reset = [e for e in trail if e["from"] == "failure" and e["to"] == "pending"]
    assert len(reset) == 1, trail
    assert reset[0]["actor"] == "token:root"
    assert reset[0]["reason"] == "operator: reset: fixed the bug"

    # A task that is not a dead letter is skipped.
    r = api.post("/v1/dead-letters/requeue", json={"ids": [tid]}, headers=h(ROOT))
    assert r.json() == {"requeued": [], "skipped": [{"id": tid, "reason": "not_dead_letter"}]}


def test_non_retryable_code_is_dead_lettered_after_one_fail(make_api):
    api = make(make_api)
    tid = enqueue(api, A, queue="n", max_attempts=5, non_retryable_codes=["bad_input"])
    c = claim_one(api, A, "n")
    assert fail(api, A, c, code="bad_input") == "dead_lettered"
    d = api.get("/v1/dead-letters/" + tid, headers=h(A)).json()
    assert d["attempt"] == 1 and len(d["attempts"]) == 1 and d["error"]["code"] == "bad_input"

    # Requeued by selection: the newest dead letters of a queue.
    other = dead_letter(api, A, queue="n")
    elsewhere = dead_letter(api, A, queue="m")
    r = api.post("/v1/dead-letters/requeue", json={"namespace": "a", "queue": "n", "limit": 10},
                 headers=h(ROOT))
    assert r.status_code == 200, r.text
    assert r.json() == {"requeued": [other, tid], "skipped": []}
    assert [d["id"] for d in api.get("/v1/dead-letters", headers=h(ROOT)).json()["dead_letters"]] == [elsewhere]
    got = claim(api, A, "n", max_jobs=5)["jobs"]
    assert sorted(j["id"] for j in got) == sorted([tid, other])
    assert {j["attempt"] for j in got} == {2}


def test_dead_letter_pages_never_skip_or_repeat(make_api):
    api = make(make_api)
    ids = []
    for _ in range(5):
        ids.append(dead_letter(api, A))
        api.advance(0.01)
    seen, cursor = [], None
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/v1/dead-letters", params=params, headers=h(A)).json()
        assert len(page["dead_letters"]) <= 2
        seen += [d["id"] for d in page["dead_letters"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if len(seen) == 2:
            ids.append(dead_letter(api, A))    # a newer one does not shift the pages
    assert seen == list(reversed(ids[:5]))
    r = api.get("/v1/dead-letters", params={"queue": "x", "cursor": cursor or "abc"}, headers=h(A))
    error_of(r, 400, "invalid_request")
    error_of(api.get("/v1/dead-letters", params={"limit": 0}, headers=h(A)), 400, "invalid_request")


def test_requeue_validation(make_api):
    api = make(make_api)
    r = api.post("/v1/dead-letters/requeue", json={"ids": [], "queue": "q", "bogus": 1}, headers=h(ROOT))
    e = error_of(r, 400, "invalid_request")
    assert any(d.startswith("ids:") for d in e["details"]) and "bogus: unknown field" in e["details"]
    r = api.post("/v1/dead-letters/requeue", json={"ids": [str(uuid.uuid4())] * 1001}, headers=h(ROOT))
    error_of(r, 413, "payload_too_large")
    r = api.post("/v1/dead-letters/requeue", json={"limit": 1001, "reason": "x" * 1025}, headers=h(ROOT))
    e = error_of(r, 400, "invalid_request")
    assert len(e["details"]) == 2
    r = api.post("/v1/dead-letters/requeue", json={"namespace": "b"}, headers=h(ROOT))
    assert r.json() == {"requeued": [], "skipped": []}


# ---- operator actions ------------------------------------------------------------------------------


def test_retry_now(make_api):
    api = make(make_api)
    # A delayed job becomes claimable now.
    delayed = enqueue(api, A, delay_ms=3600 * 1000)
    assert claim(api, A)["jobs"] == []
    error_of(act(api, delayed, "retry", token=A), 403, "forbidden")
    r = act(api, delayed, "retry", reason="now please")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    c = claim_one(api, A)
    assert c["id"] == delayed and c["attempt"] == 1
    trail = events(api, delayed)
    assert any(e["from"] == "pending" and e["to"] == "pending" and e["actor"] == "token:root" and
               e["reason"] == "operator: retry: now please" for e in trail), trail

    # A running job does not allow it.
    e = error_of(act(api, delayed, "retry"), 409, "conflict")
    assert e["current_status"] == "running"

    # A retrying job becomes claimable at once, without waiting its backoff.
    assert fail(api, A, c) == "retrying"
    assert claim(api, A)["jobs"] == []
    assert act(api, delayed, "retry").json()["status"] == "pending"
    c = claim_one(api, A)
    assert c["attempt"] == 2

    # A failed job is reopened keeping its budget: max_attempts 2 is spent.
    tid = enqueue(api, A, queue="k", max_attempts=1)
    c = claim_one(api, A, "k")
    assert fail(api, A, c) == "dead_lettered"
    assert act(api, tid, "retry").json()["status"] == "pending"
    c = claim_one(api, A, "k")
    assert c["attempt"] == 2
    assert fail(api, A, c) == "dead_lettered"

    # Success does not allow it.
    tid = enqueue(api, A, queue="s")
    c = claim_one(api, A, "s")
    api.post("/v1/jobs/%s/complete" % tid, json={"lease_token": c["lease_token"]}, headers=h(A))
    assert error_of(act(api, tid, "retry"), 409, "conflict")["current_status"] == "success"
    error_of(act(api, str(uuid.uuid4()), "retry"), 404, "not_found")


def test_reset_gives_a_fresh_budget(make_api):
    api = make(make_api)
    tid = enqueue(api, A, max_attempts=1)
    assert error_of(act(api, tid, "reset"), 409, "conflict")["current_status"] == "pending"
    c = claim_one(api, A)
    assert fail(api, A, c) == "dead_lettered"
    error_of(act(api, tid, "reset", token=A), 403, "forbidden")
    r = act(api, tid, "reset", reason="new budget")
    assert r.status_code == 200 and r.json()["attempt"] == 2 and r.json()["dead_letter"] is False
    c = claim_one(api, A)
    assert c["attempt"] == 2
    assert fail(api, A, c) == "dead_lettered"   # max_attempts 1: one try per budget
    # A canceled job is reset too.
    tid = enqueue(api, A, queue="c")
    assert act(api, tid, "cancel", token=A).json()["status"] == "canceled"
    assert act(api, tid, "reset").json()["status"] == "pending"
    assert claim_one(api, A, "c")["id"] == tid
    metrics = api.get("/metrics", headers=h(ROOT)).text
    assert 'operator_actions_total{action="reset"} 2' in metrics, metrics
    assert 'operator_actions_total{action="cancel"} 1' in metrics


def test_resolve_a_running_job(make_api):
    api = make(make_api)
    tid = enqueue(api, A)
    c = claim_one(api, A)
    error_of(act(api, tid, "resolve", token=A, result=1), 403, "forbidden")
    r = act(api, tid, "resolve", result={"done": "by hand"}, reason="fixed upstream")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["status"] == "success" and t["result"] == {"done": "by hand"} and "lease" not in t
    # Its holder lost the lease: its heartbeat says so, its report changes nothing.
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [
        {"id": tid, "lease_token": c["lease_token"]}]}, headers=h(A))
    assert r.json()["leases"][0]["state"] == "lost"
    assert task(api, tid)["result"] == {"done": "by hand"}
    assert error_of(act(api, tid, "resolve"), 409, "conflict")["current_status"] == "success"
    trail = events(api, tid)
    assert trail[-1]["to"] == "success" and trail[-1]["actor"] == "token:root"
    assert trail[-1]["reason"] == "operator: resolve: fixed upstream"

    # A failed job without children is resolved too; its dead letter goes.
    tid = dead_letter(api, A, queue="f")
    assert act(api, tid, "resolve").json()["result"] is None
    assert api.get("/v1/dead-letters", headers=h(ROOT)).json()["dead_letters"] == []


def test_resolve_releases_a_child_and_terminal_parents_are_not_reopened(make_api):
    api = make(make_api)
    created = api.create_raw([api.task("p"), api.task("c", deps=["p"])], headers=h(ROOT)).json()
    parent, child = created[0]["id"], created[1]["id"]
    wait_v1_status(api, parent, "running")
    assert task(api, child)["status"] == "waiting"
    r = act(api, parent, "resolve", result={"x": 1})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "success" and r.json()["result"] == {"x": 1}
    wait_v1_status(api, child, "running")        # released, and started
    # Success allows no action.
    for action in ("retry", "reset", "resolve", "cancel"):
        assert error_of(act(api, parent, action), 409, "conflict")["current_status"] == "success"

    # A failed parent: its child failed by cascade; a terminal task with
    # children is never reopened.
    created = api.create_raw([api.task("p2"), api.task("c2", deps=["p2"])], headers=h(ROOT)).json()
    p2, c2 = created[0]["id"], created[1]["id"]
    wait_v1_status(api, p2, "running")
    assert api.patch("/task/" + p2, json={"status": "Failure", "failure_reason": "boom"}, headers=h(ROOT)).status_code == 200
    wait_v1_status(api, c2, "failure")
    for action in ("retry", "reset", "resolve"):
        e = error_of(act(api, p2, action), 409, "has_dependents")
        assert e["current_status"] == "failure"
    # The child failed by its parent's cascade is not reopened either.
    assert error_of(act(api, c2, "retry"), 409, "conflict")["current_status"] == "failure"


def test_reset_a_failed_webhook_task_runs_it_again(make_api):
    api = make(make_api)
    (t,) = api.create_raw([api.task("solo")], headers=h(ROOT)).json()
    tid = t["id"]
    wait_v1_status(api, tid, "running")
    assert api.patch("/task/" + tid, json={"status": "Failure", "failure_reason": "boom"}, headers=h(ROOT)).status_code == 200
    r = act(api, tid, "reset")
    assert r.status_code == 200, r.text
    wait_v1_status(api, tid, "running")
    assert len(api.mock.hits("/start/solo")) == 2


def test_cancel_any_task_and_its_conflicts(make_api):
    api = make(make_api)
    tid = enqueue(api, A)
    error_of(act(api, tid, "cancel", token=B), 404, "not_found")      # another namespace
    r = act(api, tid, "cancel", token=A, reason="not needed")
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    assert error_of(act(api, tid, "cancel", token=A), 409, "conflict")["current_status"] == "canceled"
    trail = events(api, tid)
    assert trail[-1]["actor"] == "token:a" and trail[-1]["reason"] == "operator: cancel: not needed"
    # A retry reopens a canceled job.
    assert act(api, tid, "retry").json()["status"] == "pending"
    r = act(api, tid, "cancel", token=A, reason="x" * 1025, other=1)
    e = error_of(r, 400, "invalid_request")
    assert len(e["details"]) == 2


def test_actions_honour_idempotency_key_and_namespaces(make_api):
    api = make(make_api)
    tid = enqueue(api, A, delay_ms=60000)
    key = {"Idempotency-Key": "op-1"}
    key.update(h(ROOT))
    r1 = api.post("/v1/tasks/%s/retry" % tid, json={"reason": "r"}, headers=key)
    assert r1.status_code == 200
    r2 = api.post("/v1/tasks/%s/retry" % tid, json={"reason": "r"}, headers=key)
    assert r2.status_code == 200 and r2.headers.get("Idempotent-Replayed") == "true"
    assert sum(1 for e in events(api, tid) if e["reason"] == "operator: retry: r") == 1

    # Scoped tokens: another namespace's task is unknown, even to its actions.
    for action in ("retry", "reset", "resolve", "cancel"):
        error_of(act(api, tid, action, token=B), 403 if action != "cancel" else 404,
                 "forbidden" if action != "cancel" else "not_found")
    r = api.post("/v1/dead-letters/requeue", json={"namespace": "b"}, headers=h(A))
    error_of(r, 403, "forbidden")


# ---- workers ------------------------------------------------------------------------------------


def test_worker_registry_and_drain(make_api):
    api = make(make_api)
    enqueue(api, A, queue="wq")
    enqueue(api, A, queue="wq")
    r = api.post("/v1/jobs/claim", json={"queues": ["wq", "other"], "worker_id": "host-1-abc", "hostname": "host",
                                         "max_jobs": 1, "lease_ms": 600000}, headers=h(A))
    (c,) = r.json()["jobs"]
    ws = api.get("/v1/workers", headers=h(A)).json()
    assert ws["next_cursor"] is None
    (w,) = ws["workers"]
    assert w["id"] == "host-1-abc" and w["namespace"] == "a" and w["hostname"] == "host"
    assert w["queues"] == ["wq", "other"] and w["in_flight"] == 1 and w["state"] == "active"
    assert w["last_heartbeat_at"].endswith("Z")
    assert api.get("/v1/workers", params={"queue": "other"}, headers=h(A)).json()["workers"] == [w]
    assert api.get("/v1/workers", params={"queue": "nope"}, headers=h(A)).json()["workers"] == []
    assert api.get("/v1/workers/host-1-abc", headers=h(A)).json() == w
    # Another namespace sees no worker.
    assert api.get("/v1/workers", headers=h(B)).json()["workers"] == []
    error_of(api.get("/v1/workers/host-1-abc", headers=h(B)), 404, "not_found")
    error_of(api.get("/v1/workers", params={"namespace": "a"}, headers=h(B)), 403, "forbidden_namespace")

    api.advance(121)
    assert api.get("/v1/workers/host-1-abc", headers=h(A)).json()["state"] == "stale"

    # Drain: admins only; then the worker's claims and heartbeats say so.
    error_of(api.post("/v1/workers/host-1-abc/drain", headers=h(A)), 403, "forbidden")
    error_of(api.post("/v1/workers/nobody/drain", headers=h(ROOT)), 404, "not_found")
    r = api.post("/v1/workers/host-1-abc/drain", headers=h(ROOT))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "draining"
    got = claim(api, A, "wq", worker="host-1-abc", wait_ms=30000)
    assert got == {"jobs": [], "drain": True}
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "host-1-abc", "leases": [
        {"id": c["id"], "lease_token": c["lease_token"]}]}, headers=h(A))
    assert r.json()["drain"] is True and r.json()["leases"][0]["state"] == "held"
    # Another worker still gets the job.
    assert claim(api, A, "wq", worker="other-worker")["jobs"] != []
    assert api.get("/v1/workers/host-1-abc", headers=h(A)).json()["state"] == "draining"


def test_drain_answers_a_parked_claim(make_api):
    api = make(make_api)
    import threading
    out = {}

    def park():
        out["r"] = api.post("/v1/jobs/claim", json={"queues": ["idle"], "worker_id": "parked-1", "wait_ms": 20000},
                            headers=h(A))

    claim(api, A, "idle", worker="parked-1")     # registers it
    t = threading.Thread(target=park)
    t.start()
    wait_for(lambda: "job_claims_parked 1" in api.get("/metrics", headers=h(ROOT)).text, desc="claim parked")
    r = api.post("/v1/workers/parked-1/drain", headers=h(ROOT))
    assert r.status_code == 200
    t.join(5)
    assert not t.is_alive()
    assert out["r"].json() == {"jobs": [], "drain": True}


def test_weft_worker_stops_after_a_drain(server, tmp_path):
    """`weft worker` told to drain by the server (its waiting claim answered
    at once) finishes the job it runs, claims nothing more and exits 0."""
    import os
    import subprocess
    from harness import weft_bin

    def job(tid):
        return server.get("/v1/tasks/" + tid).json()

    def enqueue_one():
        r = server.post("/v1/jobs", json={"jobs": [{"queue": "dq"}]})
        assert r.status_code == 201, r.text
        return r.json()["jobs"][0]["id"]

    first = enqueue_one()
    env = dict(os.environ, WEFT_URL=server.base)
    env.pop("WEFT_TOKEN", None)
    env.pop("WEFT_NAMESPACE", None)
    script = 'cat >/dev/null; while [ ! -e go ]; do sleep 0.05; done; echo \'{"ok":1}\''
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen([weft_bin(), "worker", "--queue", "dq", "--concurrency", "2", "--claim-wait", "30s",
                             "--", "sh", "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=log,
                            cwd=str(tmp_path))
    try:
        wait_for(lambda: job(first)["status"] == "running", timeout=10, desc="the first job running")
        (w,) = server.get("/v1/workers").json()["workers"]
        assert w["in_flight"] == 1
        # Its second slot's claim waits on the server; the drain answers it.
        wait_for(lambda: "job_claims_parked 1" in server.get("/metrics").text, desc="a parked claim")
        assert server.post("/v1/workers/%s/drain" % w["id"]).status_code == 200
        second = enqueue_one()
        (tmp_path / "go").write_text("")
        assert proc.wait(timeout=15) == 0
        assert job(first)["status"] == "success" and job(first)["result"] == {"ok": 1}
        assert job(second)["status"] == "pending"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert "drain" in (tmp_path / "worker.log").read_text()


def test_resolve_a_running_webhook_task_sends_its_cancel_webhook(make_api):
    api = make(make_api)
    api.mock.on("/start/w", json={"kind": "Webhook", "params": {"url": api.mock.url("/cancel/w"), "verb": "Post"}})
    (t,) = api.create_raw([api.task("w")], headers=h(ROOT)).json()
    wait_v1_status(api, t["id"], "running")
    r = act(api, t["id"], "resolve", result="done by hand")
    assert r.status_code == 200 and r.json()["result"] == "done by hand"
    hit = api.mock.wait_hits("/cancel/w", 1)[0]
    assert hit.header("X-Task-Trigger") == "cancel"


def test_an_admin_of_another_namespace_sees_nothing_of_a(make_api):
    ops = "ops-of-team-b-012345"
    api = make_api(WEFT_TOKENS=TOKENS + "; ops %s b admin" % ops)
    dead = dead_letter(api, A)
    live = enqueue(api, A, queue="live")
    claim(api, A, "live", worker="a-worker")
    for tid in (dead, live):
        for action in ("retry", "reset", "resolve", "cancel"):
            error_of(act(api, tid, action, token=ops), 404, "not_found")
    assert task(api, dead)["status"] == "failure" and task(api, live)["status"] == "running"
    r = api.post("/v1/dead-letters/requeue", json={"ids": [dead]}, headers=h(ops))
    assert r.json() == {"requeued": [], "skipped": [{"id": dead, "reason": "not_found"}]}
    error_of(api.post("/v1/dead-letters/requeue", json={"namespace": "a"}, headers=h(ops)), 403,
             "forbidden_namespace")
    assert api.post("/v1/dead-letters/requeue", json={"queue": "q"}, headers=h(ops)).json() == {
        "requeued": [], "skipped": []}                  # its own namespace, b: nothing there
    assert api.get("/v1/dead-letters", headers=h(ops)).json()["dead_letters"] == []
    error_of(api.get("/v1/dead-letters/" + dead, headers=h(ops)), 404, "not_found")
    assert api.get("/v1/workers", headers=h(ops)).json()["workers"] == []
    error_of(api.post("/v1/workers/a-worker/drain", headers=h(ops)), 404, "not_found")
    error_of(api.post("/v1/workers/a-worker/drain", params={"namespace": "a"}, headers=h(ops)), 403,
             "forbidden_namespace")
    assert api.get("/v1/workers/a-worker", headers=h(A)).json()["state"] == "active"
    assert api.get("/v1/dead-letters", headers=h(ROOT)).json()["dead_letters"][0]["id"] == dead


def test_requeue_replays_its_answer_for_an_idempotency_key(make_api):
    api = make(make_api)
    dead = dead_letter(api, A)
    hdrs = dict(h(ROOT), **{"Idempotency-Key": "requeue-1"})
    first = api.post("/v1/dead-letters/requeue", json={"namespace": "a"}, headers=hdrs)
    assert first.json() == {"requeued": [dead], "skipped": []}
    again = api.post("/v1/dead-letters/requeue", json={"namespace": "a"}, headers=hdrs)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert task(api, dead)["attempt"] == 2          # reset once


def test_retry_now_starts_delayed_and_retrying_webhook_tasks(make_api):
    from harness import Behaviour
    api = make(make_api)
    # A webhook task waiting for a start an hour away starts now.
    (t,) = api.create_raw([api.task("late", start_after="2099-01-01T00:00:00.000Z")], headers=h(ROOT)).json()
    assert task(api, t["id"])["status"] == "pending"
    r = act(api, t["id"], "retry")
    assert r.status_code == 200, r.text
    api.mock.wait_hits("/start/late", 1)
    wait_v1_status(api, t["id"], "running")
    # One whose start failed waits an hour for its retry: retried now.
    api.mock.on("/start/flaky", Behaviour(status=500), Behaviour())
    retry = {"max_retries": 3, "initial_delay_secs": 3600, "backoff_multiplier": 2, "max_delay_secs": 3600,
             "retry_on": ["webhook_failure"]}
    (t,) = api.create_raw([api.task("flaky", retry=retry)], headers=h(ROOT)).json()
    wait_v1_status(api, t["id"], "retrying")
    # Pending, and started in the same cycle: the answer may show either.
    assert act(api, t["id"], "retry").json()["status"] in ("pending", "claimed", "running")
    api.mock.wait_hits("/start/flaky", 2)
    wait_v1_status(api, t["id"], "running")
