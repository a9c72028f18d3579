"""/v1 runs: decision tasks. A task with "decision": true chooses, by its
result {"next": [ref, ...]}, which of its children run; the others end
skipped, and so does every task whose parents are all skipped, while a join
with a parent that ran runs. A skipped parent satisfies its children as a
success does; a run whose tasks all succeeded or were skipped succeeds. A
result that is no decision fails the task with error code invalid_decision.
Both executors: a queue decision reports through its job's completion, a
webhook decision through POST /v1/tasks/{id}/complete."""

import pytest

from harness import metric, wait_for


def submit(api, tasks, expect=201):
    r = api.post("/v1/runs", json={"tasks": tasks})
    assert r.status_code == expect, r.text
    return r.json()


def claim(api, queues, n=10):
    r = api.post("/v1/jobs/claim", json={"queues": queues, "worker_id": "w1", "max_jobs": n})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def complete(api, job, result):
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": result})
    assert r.status_code == 200, r.text
    return r.json()


def ids(run):
    return {t["ref"]: t["id"] for t in run["tasks"]}


def status(api, task_id):
    r = api.get("/v1/tasks/" + task_id)
    assert r.status_code == 200, r.text
    return r.json()["status"]


def statuses(api, run):
    return {ref: status(api, tid) for ref, tid in ids(run).items()}


def run_of(api, run):
    r = api.get("/v1/runs/" + run["id"])
    assert r.status_code == 200, r.text
    return r.json()


def claim_one(api, queue):
    (job,) = claim(api, [queue], n=1)
    return job


def branching_run(api, decision_extra=None):
    """decide -> a -> a2 -> join; decide -> b -> b2 -> join (join's parents
    are both branches' ends); plus a task after the join."""
    decide = {"ref": "decide", "queue": "decide", "decision": True}
    decide.update(decision_extra or {})
    return submit(api, [
        decide,
        {"ref": "a", "queue": "work", "parents": [{"ref": "decide"}]},
        {"ref": "b", "queue": "work", "parents": [{"ref": "decide"}]},
        {"ref": "a2", "queue": "work", "parents": [{"ref": "a"}]},
        {"ref": "b2", "queue": "work", "parents": [{"ref": "b"}]},
        {"ref": "join", "queue": "join", "parents": [{"ref": "a2"}, {"ref": "b2"}]},
        {"ref": "after", "queue": "join", "parents": [{"ref": "join"}]},
    ])


def test_a_decision_picks_one_branch_and_the_join_runs(api):
    run = branching_run(api)
    t = ids(run)
    decide = claim_one(api, "decide")
    assert claim(api, ["work"]) == []
    complete(api, decide, {"next": ["a"], "why": "small order"})

    # The branch not chosen and everything below it that has no other way
    # in is skipped, in the transaction of the decision's success.
    got = statuses(api, run)
    assert got == {"decide": "success", "a": "pending", "b": "skipped", "a2": "waiting", "b2": "skipped",
                   "join": "waiting", "after": "waiting"}, got
    (a,) = claim(api, ["work"])
    assert a["id"] == t["a"]
    assert a["parents"][0]["result"] == {"next": ["a"], "why": "small order"}
    complete(api, a, 1)
    (a2,) = claim(api, ["work"])
    assert a2["id"] == t["a2"]
    complete(api, a2, 2)

    # The join has one parent that ran and one skipped: it runs, and sees
    # the skipped one as such.
    join = claim_one(api, "join")
    assert join["id"] == t["join"]
    parents = {p["name"]: p["status"] for p in join["parents"]}
    assert parents == {"a2": "success", "b2": "skipped"}
    complete(api, join, "joined")
    complete(api, claim_one(api, "join"), "done")

    got = run_of(api, run)
    assert got["status"] == "success"
    assert got["counts"]["skipped"] == 2 and got["counts"]["success"] == 5 and got["counts"]["total"] == 7
    assert got["completed_at"] is not None

    # The audit trail says why each was skipped.
    ev = api.get("/v1/tasks/%s/events" % t["b"]).json()["events"]
    assert ev[-1]["from"] == "waiting" and ev[-1]["to"] == "skipped" and ev[-1]["actor"] == "system"
    assert ev[-1]["reason"] == "Not chosen by decision task %s" % t["decide"]
    ev = api.get("/v1/tasks/%s/events" % t["b2"]).json()["events"]
    assert ev[-1]["to"] == "skipped" and ev[-1]["reason"] == "Every parent task skipped"
    # A skipped task never ran and carries no error.
    b = api.get("/v1/tasks/" + t["b"]).json()
    assert b["started_at"] is None and b["ended_at"] is not None and "error" not in b

    # status=skipped selects them.
    r = api.get("/v1/tasks", params={"run_id": run["id"], "status": "skipped"})
    assert r.status_code == 200, r.text
    assert sorted(x["id"] for x in r.json()["tasks"]) == sorted([t["b"], t["b2"]])
    m = api.metrics()
    assert metric(m, "decisions_total") == 1 and metric(m, "tasks_skipped_total") == 2
    assert metric(m, "tasks_completed_total", outcome="skipped") == 2

    # Skipped is terminal: no operator action reopens or ends it again.
    for action in ("retry", "reset", "resolve", "cancel", "pause"):
        r = api.post("/v1/tasks/%s/%s" % (t["b"], action), json={})
        assert r.status_code == 409, (action, r.text)
        assert r.json()["error"]["current_status"] == "skipped", (action, r.text)


def test_an_empty_next_skips_every_child_and_the_dead_branch(api):
    run = branching_run(api)
    complete(api, claim_one(api, "decide"), {"next": []})
    got = statuses(api, run)
    assert got == {"decide": "success", "a": "skipped", "b": "skipped", "a2": "skipped", "b2": "skipped",
                   "join": "skipped", "after": "skipped"}, got
    assert claim(api, ["work", "join"]) == []
    got = run_of(api, run)
    assert got["status"] == "success" and got["counts"]["skipped"] == 6 and got["completed_at"] is not None


def test_a_decision_choosing_both_runs_both(api):
    run = branching_run(api)
    complete(api, claim_one(api, "decide"), {"next": ["b", "a"]})
    got = statuses(api, run)
    assert got["a"] == "pending" and got["b"] == "pending" and "skipped" not in got.values(), got


def test_an_optional_link_follows_the_same_rule(api):
    run = submit(api, [
        {"ref": "decide", "queue": "decide", "decision": True},
        {"ref": "a", "queue": "work", "parents": [{"ref": "decide"}]},
        {"ref": "b", "queue": "work", "parents": [{"ref": "decide"}]},
        # All its parents skipped, optional or not: skipped.
        {"ref": "only_b", "queue": "work", "parents": [{"ref": "b", "requires_success": False}]},
        # One parent that runs: it waits for it and runs.
        {"ref": "either", "queue": "work", "parents": [{"ref": "a", "requires_success": False},
                                                       {"ref": "b", "requires_success": False}]},
    ])
    complete(api, claim_one(api, "decide"), {"next": ["a"]})
    got = statuses(api, run)
    assert got == {"decide": "success", "a": "pending", "b": "skipped", "only_b": "skipped",
                   "either": "waiting"}, got


def test_a_skipped_branch_and_a_failure_elsewhere(api):
    """The run fails when a task failed, whatever was skipped."""
    run = submit(api, [
        {"ref": "decide", "queue": "decide", "decision": True},
        {"ref": "a", "queue": "work", "parents": [{"ref": "decide"}], "max_attempts": 1},
        {"ref": "b", "queue": "work", "parents": [{"ref": "decide"}]},
    ])
    complete(api, claim_one(api, "decide"), {"next": ["a"]})
    a = claim_one(api, "work")
    r = api.post("/v1/jobs/%s/fail" % a["id"], json={"lease_token": a["lease_token"], "error": {"code": "boom"}})
    assert r.status_code == 200, r.text
    got = run_of(api, run)
    assert got["status"] == "failure" and got["counts"]["skipped"] == 1


@pytest.mark.parametrize("result, problem", [
    ("a", "must be a JSON object"),
    (None, "must be a JSON object"),
    (["a"], "must be a JSON object"),
    ({"nxt": ["a"]}, "\"next\" must be an array"),
    ({"next": "a"}, "\"next\" must be an array"),
    ({"next": [1]}, "\"next\"[0] must be a string"),
    ({"next": ["a2"]}, "'a2' is not a child of the decision"),
    ({"next": ["nobody"]}, "'nobody' is not a child of the decision"),
    ({"next": ["a", "a"]}, "'a' is named twice"),
    ({"next": ["a", "b", "a2"]}, "\"next\" names 3 tasks; the decision has 2 children"),
    ({"next": ["x" * 5000]}, "'%s' is not a child of the decision" % ("x" * 64)),
    # A long ref is quoted in part, never cut inside a character.
    ({"next": ["a" + "\u00e9" * 100]}, "'a%s' is not a child of the decision" % ("\u00e9" * 31)),
])
def test_a_result_that_is_no_decision_fails_the_task(api, result, problem):
    run = branching_run(api, {"max_attempts": 3})
    t = ids(run)
    complete(api, claim_one(api, "decide"), result)
    task = api.get("/v1/tasks/" + t["decide"]).json()
    assert task["status"] == "failure", task
    assert task["error"]["code"] == "invalid_decision"
    assert task["error"]["message"].startswith("invalid decision: ") and problem in task["error"]["message"], task
    assert len(task["error"]["message"]) < 400
    # Not retried (the same result would fail again), and its children
    # fail as after any failure.
    assert claim(api, ["decide"]) == []
    wait_for(lambda: status(api, t["a"]) == "failure", desc="the children failed")
    got = statuses(api, run)
    assert set(got.values()) == {"failure"}, got
    assert run_of(api, run)["status"] == "failure"
    assert metric(api.metrics(), "decisions_invalid_total") == 1


def test_a_webhook_decision(api, mock):
    run = submit(api, [
        {"ref": "decide", "executor": "webhook", "decision": True,
         "on_start": {"url": mock.url("/decide"), "verb": "Post"}},
        {"ref": "left", "queue": "work", "parents": [{"ref": "decide"}]},
        {"ref": "right", "executor": "webhook", "parents": [{"ref": "decide"}],
         "on_start": {"url": mock.url("/right"), "verb": "Post"}},
    ])
    t = ids(run)
    wait_for(lambda: status(api, t["decide"]) == "running", desc="the decision runs")
    r = api.post("/v1/tasks/%s/complete" % t["decide"], json={"result": {"next": ["left"]}})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": t["decide"], "status": "success"}
    assert statuses(api, run) == {"decide": "success", "left": "pending", "right": "skipped"}
    complete(api, claim_one(api, "work"), "ok")
    assert run_of(api, run)["status"] == "success"
    assert mock.hits("/right") == []           # a skipped webhook task is never started


def test_a_webhook_decision_with_a_bad_result(api, mock):
    run = submit(api, [
        {"ref": "decide", "executor": "webhook", "decision": True,
         "on_start": {"url": mock.url("/decide"), "verb": "Post"}},
        {"ref": "left", "queue": "work", "parents": [{"ref": "decide"}]},
    ])
    t = ids(run)
    wait_for(lambda: status(api, t["decide"]) == "running", desc="the decision runs")
    r = api.post("/v1/tasks/%s/complete" % t["decide"], json={"result": {"next": ["right"]}})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": t["decide"], "status": "failure"}
    task = api.get("/v1/tasks/" + t["decide"]).json()
    assert task["error"]["code"] == "invalid_decision" and "'right' is not a child" in task["error"]["message"]
    assert status(api, t["left"]) == "failure"


def test_a_decision_without_children_is_refused(api):
    r = api.post("/v1/runs", json={"tasks": [
        {"ref": "lonely", "queue": "q", "decision": True},
        {"ref": "hook", "executor": "webhook", "decision": True,
         "on_start": {"url": "https://example.com/", "verb": "Post"}},
        {"ref": "fine", "queue": "q", "decision": True},
        {"ref": "kid", "queue": "q", "parents": [{"ref": "fine"}]},
        {"ref": "typed", "queue": "q", "decision": "yes", "parents": [{"ref": "fine"}]},
    ]})
    assert r.status_code == 400, r.text
    details = r.json()["error"]["details"]
    assert any(d.startswith("tasks[0].decision: a decision task must have at least one child") for d in details), \
        details
    assert any(d.startswith("tasks[1].decision: a decision task must have at least one child") for d in details), \
        details
    assert any(d.startswith("tasks[4].decision") for d in details), details
    assert not any(d.startswith("tasks[2]") for d in details), details


def test_a_deep_dead_branch_is_skipped_at_once(api):
    """A chain of 2,000 tasks below the branch not chosen: skipped in the
    decision's own transaction (a set-based cascade, not a task at a time)."""
    depth = 2000
    tasks = [{"ref": "decide", "queue": "decide", "decision": True},
             {"ref": "live", "queue": "work", "parents": [{"ref": "decide"}]},
             {"ref": "d0", "queue": "work", "parents": [{"ref": "decide"}]}]
    tasks += [{"ref": "d%d" % i, "queue": "work", "parents": [{"ref": "d%d" % (i - 1)}]} for i in range(1, depth)]
    run = submit(api, tasks)
    complete(api, claim_one(api, "decide"), {"next": ["live"]})
    got = run_of(api, run)
    assert got["counts"]["skipped"] == depth and got["counts"]["pending"] == 1, got["counts"]


def test_arcrun_sees_a_skipped_task_as_a_success(api):
    run = branching_run(api)
    t = ids(run)
    complete(api, claim_one(api, "decide"), {"next": ["a"]})
    r = api.get("/task/" + t["b"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "Success" and r.json()["state"] == "skipped"
    # A filter matches what the client sees: Success takes the skipped
    # tasks too, Skipped only them.
    def listed(status):
        return sorted(x["id"] for x in api.list_tasks(status=status, batch_id=run["id"]))
    assert listed("Skipped") == sorted([t["b"], t["b2"]])
    assert listed("Success") == sorted([t["decide"], t["b"], t["b2"]])
    stats = api.get("/batch/" + run["id"])
    assert stats.status_code == 200, stats.text
    counts = stats.json()["status_counts"]
    assert counts["success"] == 3 and counts["skipped"] == 2


def test_a_running_parent_left_without_a_live_child_is_a_dead_end(api):
    """A skipped task is terminal: a running parent whose only child was
    skipped is canceled as a dead end (DEAD_END_CANCEL_ENABLED, default on),
    as after any other end of its last child."""
    run = submit(api, [
        {"ref": "x", "queue": "xq"},
        {"ref": "decide", "queue": "decide", "decision": True},
        {"ref": "k", "queue": "work", "parents": [{"ref": "decide"}]},
        {"ref": "s", "queue": "work", "parents": [{"ref": "decide"}, {"ref": "x"}]},
    ])
    t = ids(run)
    claim_one(api, "xq")
    complete(api, claim_one(api, "decide"), {"next": ["k"]})
    got = statuses(api, run)
    assert got == {"x": "canceled", "decide": "success", "k": "pending", "s": "skipped"}, got
    assert api.get("/v1/tasks/" + t["x"]).json()["error"]["message"] == "All child tasks already terminated"


def test_a_wide_decision_names_thousands_of_children(api):
    width = 3000
    tasks = [{"ref": "decide", "queue": "decide", "decision": True}]
    tasks += [{"ref": "c%d" % i, "queue": "wide", "parents": [{"ref": "decide"}]} for i in range(width)]
    run = submit(api, tasks)
    chosen = ["c%d" % i for i in reversed(range(1, width))]      # every child but c0, in any order
    complete(api, claim_one(api, "decide"), {"next": chosen})
    got = run_of(api, run)
    assert got["counts"]["skipped"] == 1 and got["counts"]["pending"] == width - 1, got["counts"]
    assert status(api, ids(run)["c0"]) == "skipped"
