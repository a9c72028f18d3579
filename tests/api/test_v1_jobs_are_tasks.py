"""Jobs are tasks: a job (lone, or a queue task of a run) shows in the
ArcRun-style reads (GET /task and its filters, /task/{id}, /batch, /dag,
/batches), in /metrics (tasks_by_status, the transition and creation
counters) and in the audit trail, through both APIs, like every task."""

from harness import metric, wait_for

A = "token-of-team-a-0123"
TOKENS = "a %s default client" % A


def h(token):
    return {"Authorization": "Bearer " + token} if token else None


def enqueue(api, job, token=None):
    r = api.post("/v1/jobs", json={"jobs": [job]}, headers=h(token))
    assert r.status_code == 201, r.text
    return r.json()["jobs"][0]


def claim(api, queue, token=None):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w7"}, headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def by_status(api):
    return {labels["status"]: v for n, labels, v in api.metrics() if n == "tasks_by_status"}


def test_arcrun_reads_show_jobs(api):
    job = enqueue(api, {"queue": "mail", "name": "welcome", "priority": 3})
    other = api.create([api.task("hook")])[0]
    listed = {t["id"]: t for t in api.get("/task").json()}
    assert set(listed) == {job["id"], other["id"]}
    j = listed[job["id"]]
    assert (j["name"], j["kind"], j["status"], j["priority"], j["batch_id"]) == ("welcome", "mail", "Pending", 3, None)
    assert [t["id"] for t in api.get("/task", params={"kind": "mail"}).json()] == [job["id"]]

    (c,) = claim(api, "mail")
    assert [t["id"] for t in api.get("/task", params={"status": "Running", "kind": "mail"}).json()] == [job["id"]]
    one = api.get("/task/" + job["id"]).json()
    assert one["status"] == "Running" and one["kind"] == "mail" and one["actions"] == []
    # ArcRun's PATCH cannot complete a job (it would bypass the lease's fence)...
    assert api.patch("/task/" + job["id"], json={"status": "Success"}).status_code == 409
    # ...but its cancel works as on any task, and the holder learns it.
    assert api.delete("/task/" + job["id"]).status_code in (200, 204)
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w7", "leases": [{"id": c["id"], "lease_token": c["lease_token"]}]})
    assert r.json()["leases"][0]["state"] == "canceled"


def test_a_runs_queue_tasks_in_batch_reads(api):
    r = api.post("/v1/runs", json={"tasks": [{"ref": "a", "queue": "q"},
                                            {"ref": "b", "queue": "q", "parents": [{"ref": "a"}]}]})
    assert r.status_code == 201, r.text
    run = r.json()
    ids = [t["id"] for t in run["tasks"]]
    batch = api.get("/batch/" + run["id"]).json()
    assert batch["total_tasks"] == 2 and batch["status_counts"]["pending"] == 1
    assert batch["status_counts"]["waiting"] == 1
    dag = api.get("/dag/" + run["id"]).json()
    assert [t["id"] for t in dag["tasks"]] == ids
    assert dag["links"] == [{"parent_id": ids[0], "child_id": ids[1], "requires_success": True}]
    assert [b["batch_id"] for b in api.get("/batches").json()] == [run["id"]]
    listed = api.get("/v1/tasks", params={"run_id": run["id"]}).json()["tasks"]
    assert sorted(t["id"] for t in listed) == sorted(ids)

    # The run ends: the batch is complete in ArcRun's reads too.
    for ref in ("a", "b"):
        (c,) = claim(api, "q")
        r = api.post("/v1/jobs/%s/complete" % c["id"], json={"lease_token": c["lease_token"]})
        assert r.status_code == 200
    batch = api.get("/batch/" + run["id"]).json()
    assert batch["status_counts"]["success"] == 2


def test_metrics_count_jobs(api):
    before = api.metrics()
    assert by_status(api).get("Pending", 0) == 0
    job = enqueue(api, {"queue": "m"})
    r = api.post("/v1/runs", json={"tasks": [{"ref": "x", "queue": "m2"}]})
    assert r.status_code == 201
    after = api.metrics()
    assert metric(after, "tasks_created_total") - metric(before, "tasks_created_total") == 2
    assert by_status(api)["Pending"] == 2

    (c,) = claim(api, "m")
    got = by_status(api)
    assert got["Running"] == 1 and got["Pending"] == 1, got
    api.post("/v1/jobs/%s/complete" % c["id"], json={"lease_token": c["lease_token"], "result": 1})
    (d,) = claim(api, "m2")
    api.post("/v1/jobs/%s/fail" % d["id"], json={"lease_token": d["lease_token"],
                                                  "error": {"code": "x", "retryable": False}})
    got = by_status(api)
    assert got["Success"] == 1 and got["Failure"] == 1 and got["Running"] == 0 and got["Pending"] == 0
    m = api.metrics()
    assert metric(m, "task_status_transitions_total", from_status="Pending", to_status="Running") == 2
    assert metric(m, "task_status_transitions_total", from_status="Running", to_status="Success") == 1
    assert metric(m, "task_status_transitions_total", from_status="Running", to_status="Failure") == 1
    assert job["id"] == c["id"]


def test_audit_trail_of_a_job(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    job = enqueue(api, {"queue": "t", "max_attempts": 2, "backoff": {"initial_ms": 1000, "jitter": 0}}, token=A)
    (c,) = claim(api, "t", token=A)
    api.post("/v1/jobs/%s/fail" % c["id"], json={"lease_token": c["lease_token"], "error": {"code": "flaky"}},
             headers=h(A))
    api.advance(2)
    (c2,) = wait_for(lambda: claim(api, "t", token=A), desc="the retry")
    api.post("/v1/jobs/%s/complete" % c2["id"], json={"lease_token": c2["lease_token"]}, headers=h(A))

    v1 = api.get("/v1/tasks/%s/events" % job["id"], headers=h(A)).json()["events"]
    steps = [(e["from"], e["to"], e["actor"]) for e in v1]
    # The creation entry is derived from the row, which does not keep its
    # creator: every creation reads "api".
    assert steps[0][:2] == (None, "pending")
    assert ("pending", "running", "token:a") in steps and steps[-1] == ("running", "success", "token:a")
    assert any(e["from"] == "running" and e["to"] == "retrying" for e in v1), steps
    assert sum(1 for s in steps if s[:2] == ("pending", "running")) == 2
    # The same trail through ArcRun's route.
    arc = api.get("/task/%s/events" % job["id"], headers=h(A)).json()
    assert [(e["from_state"], e["to_state"]) for e in arc] == [(e["from"], e["to"]) for e in v1]
