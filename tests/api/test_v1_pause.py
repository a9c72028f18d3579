"""Pausing and resuming through /v1: one task (POST /v1/tasks/{id}/pause,
/resume: the task as it is then, 409 with current_status when its status
does not allow it) and a whole run (POST /v1/runs/{id}/pause, /resume:
counts of the tasks changed and left as they were). A paused job is not
claimed; a resumed one is, and a claim parked on its queue hears of it.
The audit trail names the token; another namespace's task or run is
unknown."""

import threading

from harness import metric, wait_for

A = "token-of-team-a-0123"          # namespace a, client
B = "token-of-team-b-0123"          # namespace b, client
TOKENS = "a %s a client; b %s b client" % (A, B)


def h(token):
    return {"Authorization": "Bearer " + token} if token else None


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def enqueue(api, token=None, **job):
    job.setdefault("queue", "q")
    r = api.post("/v1/jobs", json={"jobs": [job]}, headers=h(token))
    assert r.status_code == 201, r.text
    return r.json()["jobs"][0]["id"]


def claim(api, queue="q", token=None, **kw):
    r = api.post("/v1/jobs/claim", json=dict(queues=[queue], worker_id="w1", **kw), headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def act(api, tid, action, token=None, **body):
    return api.post("/v1/tasks/%s/%s" % (tid, action), json=body, headers=h(token))


def status_of(api, tid, token=None):
    r = api.get("/v1/tasks/" + tid, headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()["status"]


def submit(api, tasks, token=None):
    r = api.post("/v1/runs", json={"tasks": tasks}, headers=h(token))
    assert r.status_code == 201, r.text
    return r.json()


# ---- one task --------------------------------------------------------------------------------


def test_a_paused_job_is_not_claimed_until_resumed(api):
    tid = enqueue(api)
    r = act(api, tid, "pause", reason="hold for the audit")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == tid and r.json()["status"] == "paused"
    assert claim(api) == []

    # Pausing again, or resuming a task that is not paused: 409 with where it is.
    e = error_of(act(api, tid, "pause"), 409, "conflict")
    assert e["current_status"] == "paused", e

    # A claim parked on the queue is answered by the resume.
    got = {}
    waiter = threading.Thread(target=lambda: got.update(jobs=claim(api, wait_ms=5000)))
    waiter.start()
    wait_for(lambda: metric(api.metrics(), "job_claims_parked") == 1, desc="the claim parked")
    r = act(api, tid, "resume")
    assert r.status_code == 200, r.text
    # (the parked claim may have taken it before the answer was read)
    assert r.json()["status"] in ("pending", "running")
    waiter.join(5)
    assert not waiter.is_alive()
    assert [j["id"] for j in got["jobs"]] == [tid]

    # A running job cannot be paused, nor resumed.
    assert error_of(act(api, tid, "pause"), 409, "conflict")["current_status"] == "running"
    assert error_of(act(api, tid, "resume"), 409, "conflict")["current_status"] == "running"

    evs = api.get("/v1/tasks/%s/events" % tid).json()["events"]
    moves = [(e["from"], e["to"], e["reason"]) for e in evs
             if "paused" in (e["from"], e["to"])]
    assert moves == [("pending", "paused", "operator: pause: hold for the audit"),
                     ("paused", "pending", "operator: resume")], evs


def test_task_pause_checks_its_body_and_namespace(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    tid = enqueue(api, A)
    e = error_of(act(api, tid, "pause", A, why="x"), 400, "invalid_request")
    assert "why" in str(e["details"]), e
    e = error_of(act(api, tid, "pause", A, reason="x" * 1025), 400, "invalid_request")
    assert "reason" in str(e["details"]), e
    # Another namespace's task is unknown, and stays pending.
    error_of(act(api, tid, "pause", B), 404, "not_found")
    error_of(act(api, "00000000-0000-7000-8000-000000000000", "resume", A), 404, "not_found")
    assert status_of(api, tid, A) == "pending"
    # A client token may pause what it sees; the trail names it.
    assert act(api, tid, "pause", A).json()["status"] == "paused"
    evs = api.get("/v1/tasks/%s/events" % tid, headers=h(A)).json()["events"]
    assert (evs[-1]["to"], evs[-1]["actor"]) == ("paused", "token:a"), evs


def test_a_waiting_task_resumes_to_waiting(api):
    run = submit(api, [{"ref": "p", "queue": "q"}, {"ref": "c", "queue": "q", "parents": [{"ref": "p"}]}])
    child = next(t for t in run["tasks"] if t["ref"] == "c")["id"]
    assert act(api, child, "pause").json()["status"] == "paused"
    assert act(api, child, "resume").json()["status"] == "waiting"


# ---- a run -----------------------------------------------------------------------------------


def test_run_pause_and_resume_count_what_they_changed(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    run = submit(api, [
        {"ref": "one", "queue": "q"},
        {"ref": "two", "queue": "q"},
        {"ref": "child", "queue": "q", "parents": [{"ref": "one"}, {"ref": "two"}]},
    ], token=A)
    ids = {t["ref"]: t["id"] for t in run["tasks"]}
    (held,) = claim(api, token=A, max_jobs=1)
    assert held["id"] in (ids["one"], ids["two"])

    r = api.post("/v1/runs/%s/pause" % run["id"], headers=h(A))
    assert r.status_code == 200, r.text
    assert r.json() == {"id": run["id"], "paused": 2, "unchanged": 1}
    assert claim(api, token=A) == []
    assert status_of(api, ids["child"], A) == "paused"
    # Pausing a paused run changes nothing.
    assert api.post("/v1/runs/%s/pause" % run["id"], headers=h(A)).json()["paused"] == 0

    r = api.post("/v1/runs/%s/resume" % run["id"], headers=h(A))
    assert r.status_code == 200, r.text
    assert r.json() == {"id": run["id"], "resumed": 2, "unchanged": 1}
    assert status_of(api, ids["child"], A) == "waiting"
    (other,) = claim(api, token=A)
    assert other["id"] in (ids["one"], ids["two"]) and other["id"] != held["id"]
    evs = api.get("/v1/tasks/%s/events" % ids["child"], headers=h(A)).json()["events"]
    assert [(e["to"], e["actor"]) for e in evs][-2:] == [("paused", "token:a"), ("waiting", "token:a")]

    # Another namespace's run is unknown; so is a run that does not exist.
    error_of(api.post("/v1/runs/%s/pause" % run["id"], headers=h(B)), 404, "not_found")
    error_of(api.post("/v1/runs/00000000-0000-7000-8000-000000000000/resume", headers=h(A)), 404, "not_found")


def test_a_lone_job_is_a_run_of_one(api):
    tid = enqueue(api)
    assert api.post("/v1/runs/%s/pause" % tid).json() == {"id": tid, "paused": 1, "unchanged": 0}
    assert api.post("/v1/runs/%s/pause" % tid).json() == {"id": tid, "paused": 0, "unchanged": 1}
    assert api.post("/v1/runs/%s/resume" % tid).json() == {"id": tid, "resumed": 1, "unchanged": 0}
    assert [j["id"] for j in claim(api)] == [tid]
