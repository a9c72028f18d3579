"""/v1 runs: a DAG of queue and webhook tasks submitted in one call. A child
queue task is claimable only once its parents ended, and its claim carries
their results (a webhook parent's is what its service sent to
/v1/tasks/{id}/complete); requires_success decides what a parent's failure
does to a child; validation names each field; runs are confined to their
namespace; a run's status and counts follow its tasks."""

import pytest

import threading
import time

from harness import Api, metric, stays, wait_for

A = "token-of-team-a-0123"
B = "token-of-team-b-0123"
TOKENS = "a %s a client; b %s b client" % (A, B)


def h(token):
    return {"Authorization": "Bearer " + token} if token else None


def submit(api, tasks, token=None, expect=201, **body):
    body["tasks"] = tasks
    r = api.post("/v1/runs", json=body, headers=h(token))
    assert r.status_code == expect, r.text
    return r.json()


def claim(api, queues, token=None, **kw):
    body = dict(queues=queues, worker_id="w1", **kw)
    r = api.post("/v1/jobs/claim", json=body, headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def complete(api, job, result, token=None):
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": result},
                 headers=h(token))
    assert r.status_code == 200, r.text


def fail(api, job, retryable=False):
    r = api.post("/v1/jobs/%s/fail" % job["id"],
                 json={"lease_token": job["lease_token"], "error": {"code": "boom", "retryable": retryable}})
    assert r.status_code == 200, r.text


def get_run(api, run_id, token=None):
    r = api.get("/v1/runs/" + run_id, headers=h(token))
    assert r.status_code == 200, r.text
    return r.json()


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def by_ref(run):
    return {t["ref"]: t for t in run["tasks"]}


# ---- a DAG of queue tasks ------------------------------------------------------------------


def test_child_reads_its_parents_results(api):
    run = submit(api, [
        {"ref": "fetch", "queue": "fetch", "input": {"url": "u"}},
        {"ref": "size", "queue": "fetch", "input": 2},
        {"ref": "report", "queue": "report", "parents": [{"ref": "fetch"}, {"ref": "size"}]},
    ], name="nightly")
    t = by_ref(run)
    assert run["name"] == "nightly" and run["namespace"] == "default"
    assert [t[k]["status"] for k in ("fetch", "size", "report")] == ["pending", "pending", "waiting"]
    assert all(x["executor"] == "queue" for x in run["tasks"])

    # The child is not claimable while its parents run.
    jobs = claim(api, ["fetch"], max_jobs=10)
    assert {j["id"] for j in jobs} == {t["fetch"]["id"], t["size"]["id"]}
    assert all(j["run_id"] == run["id"] and j["parents"] == [] for j in jobs)
    assert claim(api, ["report"]) == []
    first = {j["id"]: j for j in jobs}
    complete(api, first[t["fetch"]["id"]], {"bytes": 42})
    assert claim(api, ["report"]) == []            # one parent is still running

    # A claim parked on the child's queue is answered by the last parent's end.
    got = {}
    waiter = threading.Thread(target=lambda: got.update(jobs=claim(api, ["report"], wait_ms=5000)))
    waiter.start()
    wait_for(lambda: metric(api.metrics(), "job_claims_parked") == 1, desc="the claim parked")
    complete(api, first[t["size"]["id"]], "small")
    waiter.join(5)
    assert not waiter.is_alive()
    (child,) = got["jobs"]
    assert child["id"] == t["report"]["id"] and child["run_id"] == run["id"]
    parents = {p["name"]: p for p in child["parents"]}
    assert parents == {
        "fetch": {"id": t["fetch"]["id"], "name": "fetch", "status": "success", "result": {"bytes": 42}},
        "size": {"id": t["size"]["id"], "name": "size", "status": "success", "result": "small"},
    }
    complete(api, child, {"ok": True})

    got = get_run(api, run["id"])
    assert got["status"] == "success" and got["counts"]["success"] == 3 and got["counts"]["total"] == 3
    assert got["completed_at"] is not None and got["completed_at"] >= got["created_at"]
    assert got["tasks_next_cursor"] is None
    results = {x["name"]: x["result"] for x in got["tasks"]}
    assert results == {"fetch": {"bytes": 42}, "size": "small", "report": {"ok": True}}
    assert [x["id"] for x in got["tasks"]] == [t[k]["id"] for k in ("fetch", "size", "report")]


@pytest.mark.parametrize("requires_success", [True, False])
def test_a_parents_failure_and_requires_success(api, requires_success):
    run = submit(api, [
        {"ref": "p", "queue": "q", "max_attempts": 1},
        {"ref": "c", "queue": "q2", "parents": [{"ref": "p", "requires_success": requires_success}]},
    ])
    t = by_ref(run)
    (p,) = claim(api, ["q"])
    fail(api, p)
    if requires_success:
        # ArcRun's rule: a required parent's failure fails the waiting child.
        wait_for(lambda: api.get("/v1/tasks/" + t["c"]["id"]).json()["status"] == "failure", desc="child failed")
        assert claim(api, ["q2"]) == []
        got = get_run(api, run["id"])
        assert got["status"] == "failure" and got["counts"]["failure"] == 2
    else:
        (c,) = claim(api, ["q2"])
        assert c["parents"] == [{"id": t["p"]["id"], "name": "p", "status": "failure", "result": None}]
        complete(api, c, 1)
        got = get_run(api, run["id"])
        assert got["status"] == "failure"
        assert got["counts"]["failure"] == 1 and got["counts"]["success"] == 1


# ---- a mixed DAG: a webhook task feeding a queue task ---------------------------------------------


def test_mixed_dag_with_a_webhook_task(api, mock):
    url = mock.url("/start")
    run = submit(api, [
        {"ref": "charge", "executor": "webhook", "on_start": {"url": url, "verb": "Post", "body": {"x": 1}},
         "timeout_secs": 30},
        {"ref": "ship", "queue": "ship", "parents": [{"ref": "charge"}]},
    ])
    t = by_ref(run)
    assert t["charge"]["executor"] == "webhook"
    mock.wait_hits("/start")
    wait_for(lambda: api.get("/v1/tasks/" + t["charge"]["id"]).json()["status"] == "running", desc="running")
    assert claim(api, ["ship"]) == []

    # Jobs keep their fenced routes; webhook tasks report unfenced.
    (charge_id, ship_id) = (t["charge"]["id"], t["ship"]["id"])
    r = api.post("/v1/tasks/%s/complete" % ship_id, json={"result": 1})
    error_of(r, 409, "conflict")
    r = api.post("/v1/tasks/%s/complete" % charge_id, json={"result": {"receipt": "r-1"}})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": charge_id, "status": "success"}
    # Sent again: the task is no longer running.
    error_of(api.post("/v1/tasks/%s/complete" % charge_id, json={"result": 2}), 409, "conflict")

    (ship,) = claim(api, ["ship"])
    assert ship["parents"] == [{"id": charge_id, "name": "charge", "status": "success",
                                "result": {"receipt": "r-1"}}]
    complete(api, ship, "shipped")
    got = get_run(api, run["id"])
    assert got["status"] == "success"
    assert {x["name"]: x["result"] for x in got["tasks"]} == {"charge": {"receipt": "r-1"}, "ship": "shipped"}
    ev = api.get("/v1/tasks/%s/events" % charge_id).json()["events"]
    assert ev[-1]["to"] == "success"


def test_a_webhook_tasks_failure(api, mock):
    run = submit(api, [
        {"ref": "w", "executor": "webhook", "on_start": {"url": mock.url("/s"), "verb": "Post"}},
        {"ref": "c", "queue": "q", "parents": [{"ref": "w"}]},
    ])
    t = by_ref(run)
    wait_for(lambda: api.get("/v1/tasks/" + t["w"]["id"]).json()["status"] == "running", desc="running")
    r = api.post("/v1/tasks/%s/fail" % t["w"]["id"], json={"error": {"code": "card_declined", "message": "no"}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failure"
    task = api.get("/v1/tasks/" + t["w"]["id"]).json()
    assert task["error"] == {"code": "card_declined", "message": "no"}
    wait_for(lambda: api.get("/v1/tasks/" + t["c"]["id"]).json()["status"] == "failure", desc="child failed")
    r = api.post("/v1/tasks/%s/fail" % t["w"]["id"], json={"error": {"code": "BAD CODE"}})
    error_of(r, 400, "invalid_request")


# ---- validation ---------------------------------------------------------------------------------


def test_validation_names_each_field(api, mock):
    r = api.post("/v1/runs", json={"tasks": [
        {"ref": "a", "queue": "q", "max_attempts": 0},
        {"ref": "a", "queue": "bad queue"},
        {"ref": "b", "executor": "lambda"},
        {"ref": "c", "queue": "q", "parents": [{"ref": "nobody"}, {"ref": "d"}]},
        {"ref": "d", "queue": "q", "parents": [{"ref": "d"}, {"ref": "a"}, {"ref": "a"}]},
        {"ref": "e", "executor": "webhook"},
        {"ref": "f", "executor": "webhook", "on_start": {"url": "not a url", "verb": "Post"}},
        {"ref": "g", "queue": "q", "dedup": {"key": "k"}, "surprise": 1},
    ]})
    e = error_of(r, 400, "invalid_request")
    details = "\n".join(e["details"])
    for want in ("tasks[0].max_attempts", "tasks[1].ref: duplicate ref 'a'", "tasks[1].queue",
                 "tasks[2].executor", "tasks[3].parents[0].ref: unknown parent 'nobody'",
                 "tasks[3].parents[1].ref: parent 'd' must appear before",
                 "tasks[4].parents[0].ref: a task cannot be its own parent",
                 "tasks[4].parents[2].ref: parent 'a' is listed twice",
                 "tasks[5].on_start: missing field", "tasks[6].on_start", "tasks[7].dedup",
                 "tasks[7].surprise: unknown field"):
        assert want in details, (want, e["details"])
    error_of(api.post("/v1/runs", json={"tasks": []}), 400, "invalid_request")
    error_of(api.post("/v1/runs", json={}), 400, "invalid_request")


def test_limits_name_their_setting(make_api):
    api = make_api(MAX_TASKS_PER_BATCH="3", MAX_DEPS_PER_TASK="1")
    e = error_of(api.post("/v1/runs", json={"tasks": [{"ref": str(i), "queue": "q"} for i in range(4)]}), 413,
                 "payload_too_large")
    assert any("tasks" in d and "MAX_TASKS_PER_BATCH" in d for d in e["details"]), e
    r = api.post("/v1/runs", json={"tasks": [{"ref": "a", "queue": "q"}, {"ref": "b", "queue": "q"},
                                            {"ref": "c", "queue": "q", "parents": [{"ref": "a"}, {"ref": "b"}]}]})
    e = error_of(r, 413, "payload_too_large")
    assert any(d.startswith("tasks[2].parents") and "MAX_DEPS_PER_TASK" in d for d in e["details"]), e


# ---- namespaces, listing, paging, cancel ---------------------------------------------------------


def test_runs_are_confined_to_their_namespace(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    ra = submit(api, [{"ref": "x", "queue": "q"}], token=A)
    rb = submit(api, [{"ref": "x", "queue": "q"}], token=B)
    assert ra["namespace"] == "a" and rb["namespace"] == "b"
    error_of(api.post("/v1/runs", json={"namespace": "a", "tasks": [{"ref": "x", "queue": "q"}]}, headers=h(B)),
             403, "forbidden_namespace")
    for path in ("/v1/runs/%s", "/v1/runs/%s/tasks"):
        error_of(api.get(path % ra["id"], headers=h(B)), 404, "not_found")
        assert api.get(path % ra["id"], headers=h(A)).status_code == 200
    error_of(api.post("/v1/runs/%s/cancel" % ra["id"], headers=h(B)), 404, "not_found")
    listed = api.get("/v1/runs", headers=h(B)).json()
    assert [x["id"] for x in listed["runs"]] == [rb["id"]]
    error_of(api.get("/v1/runs?namespace=a", headers=h(B)), 403, "forbidden_namespace")
    # A's task cannot be claimed from B's namespace.
    assert claim(api, ["q"], token=B)[0]["run_id"] == rb["id"]
    assert claim(api, ["q"], token=B) == []


def test_list_pages_filters_and_cancel(api):
    ids = [submit(api, [{"ref": "x", "queue": "q%d" % i}])["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        r = api.get("/v1/runs", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["runs"]) <= 2
        seen += [x["id"] for x in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    error_of(api.get("/v1/runs", params={"limit": 2, "status": "active", "cursor": cursor or "x"}), 400,
             "invalid_request")

    r = api.post("/v1/runs/%s/cancel" % ids[0])
    assert r.status_code == 200, r.text
    assert r.json()["canceled"] == 1
    assert get_run(api, ids[0])["status"] == "canceled"
    assert claim(api, ["q0"]) == []
    active = [x["id"] for x in api.get("/v1/runs?status=active").json()["runs"]]
    assert active == ids[1:][::-1]
    assert [x["id"] for x in api.get("/v1/runs?status=canceled").json()["runs"]] == [ids[0]]
    error_of(api.get("/v1/runs?status=bogus"), 400, "invalid_request")


def test_a_runs_tasks_are_paged(api):
    run = submit(api, [{"ref": "t%d" % i, "queue": "q"} for i in range(7)])
    want = [t["id"] for t in run["tasks"]]
    seen, cursor = [], None
    while True:
        r = api.get("/v1/runs/%s/tasks" % run["id"], params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [x["id"] for x in page["tasks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == want
    got = get_run(api, run["id"])
    assert got["status"] == "active" and got["counts"]["pending"] == 7 and got["counts"]["total"] == 7


def test_a_lone_job_is_a_run_of_one_task(api):
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "q", "input": 3}]})
    (job,) = r.json()["jobs"]
    got = get_run(api, job["run_id"])
    assert got["id"] == job["id"] and got["status"] == "active" and got["counts"]["pending"] == 1
    assert [t["id"] for t in got["tasks"]] == [job["id"]]
    page = api.get("/v1/runs/%s/tasks" % job["id"]).json()
    assert [t["id"] for t in page["tasks"]] == [job["id"]] and page["next_cursor"] is None
    assert page["tasks"][0]["result"] is None
    error_of(api.get("/v1/runs/00000000-0000-7000-8000-000000000000"), 404, "not_found")
    error_of(api.post("/v1/runs/00000000-0000-7000-8000-000000000000/cancel"), 404, "not_found")

    r = api.post("/v1/runs/%s/cancel" % job["id"])
    assert r.json() == {"id": job["id"], "canceled": 1, "already_ended": 0}, r.text
    assert get_run(api, job["id"])["status"] == "canceled"
    assert claim(api, ["q"]) == []
    r = api.post("/v1/runs/%s/cancel" % job["id"])
    assert r.json() == {"id": job["id"], "canceled": 0, "already_ended": 1}, r.text
    # A task of a run is not a run.
    run = submit(api, [{"ref": "x", "queue": "q"}])
    error_of(api.get("/v1/runs/" + run["tasks"][0]["id"]), 404, "not_found")
    error_of(api.post("/v1/runs/%s/cancel" % run["tasks"][0]["id"]), 404, "not_found")


def test_idempotency_key_answers_the_same_run(api):
    body = {"tasks": [{"ref": "a", "queue": "q"}, {"ref": "b", "queue": "q", "parents": [{"ref": "a"}]}]}
    r1 = api.post("/v1/runs", json=body, headers={"Idempotency-Key": "run-1"})
    r2 = api.post("/v1/runs", json=body, headers={"Idempotency-Key": "run-1"})
    assert r1.status_code == 201 and r2.status_code == 201, (r1.text, r2.text)
    assert r1.json() == r2.json()
    assert r2.headers.get("Idempotent-Replayed") == "true"
    assert len(api.get("/v1/runs").json()["runs"]) == 1


def test_webhook_urls_are_ssrf_checked(make_api):
    api = make_api(SKIP_SSRF_VALIDATION="0")
    r = api.post("/v1/runs", json={"tasks": [
        {"ref": "a", "executor": "webhook", "on_start": {"url": "http://127.0.0.1:9/x", "verb": "Post"}},
        {"ref": "b", "executor": "webhook", "on_start": {"url": "https://example.com/", "verb": "Post"},
         "on_failure": [{"url": "http://metadata.google.internal/", "verb": "Get"}]},
    ]})
    e = error_of(r, 400, "invalid_request")
    assert any(d.startswith("tasks[0].on_start:") and "127.0.0.1" in d for d in e["details"]), e
    assert any(d.startswith("tasks[1].on_failure[0]:") for d in e["details"]), e
    assert not any(d.startswith("tasks[1].on_start") for d in e["details"]), e


def test_a_webhook_task_reports_only_in_its_namespace(make_api, mock):
    api = make_api(WEFT_TOKENS=TOKENS)
    run = submit(api, [{"ref": "w", "executor": "webhook", "on_start": {"url": mock.url("/s"), "verb": "Post"}}],
                 token=A)
    tid = run["tasks"][0]["id"]
    wait_for(lambda: api.get("/v1/tasks/" + tid, headers=h(A)).json()["status"] == "running", desc="running")
    error_of(api.post("/v1/tasks/%s/complete" % tid, json={"result": 1}, headers=h(B)), 404, "not_found")
    r = api.post("/v1/tasks/%s/complete" % tid, json={"result": 1}, headers=h(A))
    assert r.status_code == 200, r.text
    ev = api.get("/v1/tasks/%s/events" % tid, headers=h(A)).json()["events"]
    assert (ev[-1]["to"], ev[-1]["actor"]) == ("success", "token:a")
    assert get_run(api, run["id"], token=A)["status"] == "success"


def test_a_service_may_report_before_answering_on_start(api, mock):
    # The service reports while its answer to on_start is still on its way
    # (the task is claimed): the report ends the task, and the late answer
    # changes nothing.
    url = mock.on("/slow", delay=30.0)
    run = submit(api, [{"ref": "w", "executor": "webhook", "on_start": {"url": url, "verb": "Post"}},
                       {"ref": "c", "queue": "after", "parents": [{"ref": "w"}]}])
    tid = by_ref(run)["w"]["id"]
    mock.wait_hits("/slow")
    assert api.get("/v1/tasks/" + tid).json()["status"] == "claimed"
    r = api.post("/v1/tasks/%s/complete" % tid, json={"result": "early"})
    assert r.status_code == 200 and r.json()["status"] == "success", r.text
    mock.release()                                   # the on_start answer arrives now
    wait_for(lambda: mock.hits("/slow")[0].answered is not None, desc="the on_start answer")
    (c,) = claim(api, ["after"])
    assert c["parents"][0]["result"] == "early" and c["parents"][0]["status"] == "success"
    stays(lambda: api.get("/v1/tasks/" + tid).json()["status"] == "success", duration=0.3, desc="still success")


def test_list_by_creation_time(api):
    ids = []
    for i in range(3):
        ids.append(submit(api, [{"ref": "x", "queue": "q"}])["id"])
        api.advance(10)
    at = [get_run(api, i)["created_at"] for i in ids]
    got = api.get("/v1/runs", params={"created_after": at[1]}).json()["runs"]
    assert [x["id"] for x in got] == [ids[2], ids[1]]
    got = api.get("/v1/runs", params={"created_before": at[1]}).json()["runs"]
    assert [x["id"] for x in got] == [ids[0]]
    got = api.get("/v1/runs", params={"created_after": at[0], "created_before": at[2]}).json()["runs"]
    assert [x["id"] for x in got] == [ids[1], ids[0]]
    error_of(api.get("/v1/runs", params={"created_after": "yesterday"}), 400, "invalid_request")


def test_a_runs_answer_carries_its_first_thousand_tasks(api):
    run = submit(api, [{"ref": "t%d" % i, "queue": "q"} for i in range(1001)])
    got = get_run(api, run["id"])
    assert len(got["tasks"]) == 1000 and got["counts"]["total"] == 1001
    assert [t["id"] for t in got["tasks"]] == [t["id"] for t in run["tasks"][:1000]]
    rest = api.get("/v1/runs/%s/tasks" % run["id"], params={"cursor": got["tasks_next_cursor"]}).json()
    assert [t["id"] for t in rest["tasks"]] == [run["tasks"][1000]["id"]] and rest["next_cursor"] is None
    # The cursor belongs to its run.
    other = submit(api, [{"ref": "x", "queue": "q"}])
    error_of(api.get("/v1/runs/%s/tasks" % other["id"], params={"cursor": got["tasks_next_cursor"]}), 400,
             "invalid_request")


def test_tasks_false_answers_the_run_without_its_tasks(api):
    run = submit(api, [{"ref": "a", "queue": "q"}, {"ref": "b", "queue": "q", "parents": [{"ref": "a"}]}])
    (a,) = claim(api, ["q"])
    complete(api, a, {"big": "x" * 1000})
    full = get_run(api, run["id"])
    r = api.get("/v1/runs/" + run["id"], params={"tasks": "false"})
    assert r.status_code == 200, r.text
    summary = r.json()
    assert "tasks" not in summary and "tasks_next_cursor" not in summary
    assert summary == {k: v for k, v in full.items() if k not in ("tasks", "tasks_next_cursor")}
    assert summary["counts"]["success"] == 1 and summary["counts"]["pending"] == 1 and summary["counts"]["total"] == 2
    assert api.get("/v1/runs/" + run["id"], params={"tasks": "true"}).json() == full
    # A lone job answers the same way.
    (job,) = api.post("/v1/jobs", json={"jobs": [{"queue": "q2"}]}).json()["jobs"]
    lone = api.get("/v1/runs/" + job["id"], params={"tasks": "false"}).json()
    assert lone["id"] == job["id"] and lone["counts"]["pending"] == 1 and "tasks" not in lone
    e = error_of(api.get("/v1/runs/" + run["id"], params={"tasks": "no"}), 400, "invalid_request")
    assert "tasks" in str(e)


@pytest.mark.postgres_only
def test_a_release_on_one_node_answers_a_claim_parked_on_another(weft_factory, mock):
    slow_sweep = {"WORKER_LOOP_INTERVAL_MS": "60000"}     # only a wake-up can answer in time
    first = weft_factory.start(env=slow_sweep)
    a = Api(first, mock)
    b = Api(weft_factory.start(env=slow_sweep, db=first.db), mock)
    run = submit(a, [{"ref": "p", "queue": "up"}, {"ref": "c", "queue": "down", "parents": [{"ref": "p"}]}])
    got = {}
    waiter = threading.Thread(target=lambda: got.update(jobs=claim(b, ["down"], wait_ms=20000)))
    waiter.start()
    wait_for(lambda: metric(b.metrics(), "job_claims_parked") == 1, desc="the claim parked on the second node")
    (p,) = claim(a, ["up"])
    t0 = time.monotonic()
    complete(a, p, {"from": "a"})
    waiter.join(15)
    assert not waiter.is_alive()
    assert time.monotonic() - t0 < 10
    (c,) = got["jobs"]
    assert c["id"] == by_ref(run)["c"]["id"] and c["parents"][0]["result"] == {"from": "a"}
