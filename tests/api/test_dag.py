"""DAG structure (GET /dag/{id}), propagation of a parent's outcome to its
children, and dead-end cancellation of ancestors whose children have all
ended."""

import uuid

from harness import BASIC_TASK_DTO_KEYS, metric, stays


def statuses(created):
    return {t["name"][len("task-"):]: t["status"] for t in created}


# ---- shapes at creation ------------------------------------------------------


def test_task_with_single_dependency(api):
    created = api.create([api.task("parent"), api.task("child", deps=["parent"])])
    assert statuses(created) == {"parent": "Pending", "child": "Waiting"}
    assert api.status(created[1]["id"]) == "Waiting"


def test_task_with_multiple_dependencies(api):
    created = api.create([api.task("p1"), api.task("p2"), api.task("p3"),
                          api.task("agg", deps=["p1", "p2", "p3"])])
    assert statuses(created) == {"p1": "Pending", "p2": "Pending", "p3": "Pending", "agg": "Waiting"}


def test_diamond_dag_pattern(api):
    created = api.create([api.task("A"), api.task("B", deps=["A"]), api.task("C", deps=["A"]),
                          api.task("D", deps=["B", "C"])])
    assert statuses(created) == {"A": "Pending", "B": "Waiting", "C": "Waiting", "D": "Waiting"}


def test_linear_chain_dag(api):
    created = api.create([api.task("A"), api.task("B", deps=["A"]), api.task("C", deps=["B"]),
                          api.task("D", deps=["C"])])
    assert statuses(created) == {"A": "Pending", "B": "Waiting", "C": "Waiting", "D": "Waiting"}


def test_fan_out_dag(api):
    created = api.create([api.task("root")] + [api.task("c%d" % i, deps=["root"]) for i in range(4)])
    assert created[0]["status"] == "Pending"
    assert [t["status"] for t in created[1:]] == ["Waiting"] * 4


def test_fan_in_dag(api):
    created = api.create([api.task("r%d" % i) for i in range(4)] +
                         [api.task("sink", deps=["r%d" % i for i in range(4)])])
    assert [t["status"] for t in created[:4]] == ["Pending"] * 4
    assert created[4]["status"] == "Waiting"


def test_mixed_dependency_requirements(api):
    created = api.create([api.task("req"), api.task("opt"), api.task("child", deps=["req", ("opt", False)])])
    assert created[2]["status"] == "Waiting"


def test_dag_endpoint_returns_tasks_and_links(api):
    r = api.create_raw([api.task("A"), api.task("B", deps=["A"]), api.task("C", deps=[("A", False)]),
                        api.task("D", deps=["B", ("C", False)])])
    assert r.status_code == 201
    bid = r.headers["X-Batch-ID"]
    ids = {t["name"][5:]: t["id"] for t in r.json()}
    d = api.dag(bid)
    assert len(d["tasks"]) == 4
    for t in d["tasks"]:
        for key in BASIC_TASK_DTO_KEYS:
            assert key in t
        assert t["batch_id"] == bid
    # created_at ascending
    assert [t["id"] for t in d["tasks"]] == [ids[k] for k in "ABCD"]
    links = {(l["parent_id"], l["child_id"]): l["requires_success"] for l in d["links"]}
    assert len(d["links"]) == 4
    assert links == {
        (ids["A"], ids["B"]): True,
        (ids["A"], ids["C"]): False,
        (ids["B"], ids["D"]): True,
        (ids["C"], ids["D"]): False,
    }


def test_dag_unknown_batch_is_empty(api):
    r = api.get("/dag/%s" % uuid.uuid4())
    assert r.status_code == 200
    assert r.json() == {"tasks": [], "links": []}


def test_dag_only_own_batch(api):
    api.create([api.task("x"), api.task("y", deps=["x"])])
    r = api.create_raw([api.task("a")])
    d = api.dag(r.headers["X-Batch-ID"])
    assert len(d["tasks"]) == 1 and d["links"] == []


# ---- propagation -------------------------------------------------------------


def test_child_transitions_when_parent_succeeds(api, mock):
    created = api.create([api.task("parent"), api.task("child", deps=["parent"])])
    parent, child = created[0]["id"], created[1]["id"]
    api.wait_status(parent, "Running")
    assert api.status(child) == "Waiting"
    assert mock.count("/start/child") == 0
    api.succeed(parent)
    api.wait_status(child, "Running")
    assert mock.count("/start/child") == 1


def test_child_fails_when_required_parent_fails(api, mock):
    created = api.create([api.task("parent"), api.task("child", deps=["parent"],
                                                       on_failure=[api.hook("/child-failed")])])
    parent, child = created[0]["id"], created[1]["id"]
    api.wait_status(parent, "Running")
    api.fail(parent, "broken")
    got = api.wait_status(child, "Failure")
    assert got["failure_reason"] == "Required parent task %s failed" % parent
    assert got["ended_at"] is not None
    mock.wait_hits("/child-failed", 1)
    assert mock.count("/start/child") == 0


def test_child_proceeds_when_optional_parent_fails(api):
    created = api.create([api.task("req"), api.task("opt"), api.task("child", deps=["req", ("opt", False)])])
    req, opt, child = (t["id"] for t in created)
    api.wait_status(opt, "Running")
    api.wait_status(req, "Running")
    api.fail(opt)
    api.stays_status(child, "Waiting", 0.3)
    api.succeed(req)
    api.wait_status(child, "Running")


def test_optional_parent_success_counts_as_finished(api):
    created = api.create([api.task("opt"), api.task("child", deps=[("opt", False)])])
    api.wait_status(created[0]["id"], "Running")
    api.succeed(created[0]["id"])
    api.wait_status(created[1]["id"], "Running")


def test_multi_level_dag_propagation(api):
    created = api.create([api.task("ingest1"), api.task("ingest2"),
                          api.task("cluster", deps=["ingest1", "ingest2"]),
                          api.task("refresh", deps=["cluster"])])
    i1, i2, cluster, refresh = (t["id"] for t in created)
    api.wait_status(i1, "Running")
    api.wait_status(i2, "Running")
    api.succeed(i1)
    api.stays_status(cluster, "Waiting", 0.2)
    api.succeed(i2)
    api.wait_status(cluster, "Running")
    assert api.status(refresh) == "Waiting"
    api.succeed(cluster)
    api.wait_status(refresh, "Running")


def test_failure_propagation_through_chain(api, mock):
    created = api.create([api.task("root"), api.task("middle", deps=["root"]),
                          api.task("leaf", deps=["middle"], on_failure=[api.hook("/leaf-failed")])])
    root, middle, leaf = (t["id"] for t in created)
    api.wait_status(root, "Running")
    api.fail(root)
    assert api.wait_status(middle, "Failure")["failure_reason"] == "Required parent task %s failed" % root
    assert api.wait_status(leaf, "Failure")["failure_reason"] == "Required parent task %s failed" % middle
    mock.wait_hits("/leaf-failed", 1)


def test_cicd_pipeline_failure_cascade(api, mock):
    created = api.create([
        api.task("build"),
        api.task("unit", deps=["build"]),
        api.task("integration", deps=["build"]),
        api.task("lint", deps=[("build", False)], on_failure=[api.hook("/lint-failed")]),
        api.task("deploy", deps=["unit", "integration", "lint"]),
    ])
    ids = {t["name"][5:]: t["id"] for t in created}
    api.wait_status(ids["build"], "Running")
    api.fail(ids["build"], "compile error")
    assert api.wait_status(ids["unit"], "Failure")["failure_reason"].startswith("Required parent task")
    api.wait_status(ids["integration"], "Failure")
    api.wait_status(ids["deploy"], "Failure")
    lint = api.wait_status(ids["lint"], "Canceled")
    assert "All child tasks already terminated" in lint["failure_reason"]
    # lint never started: it was released and dead-ended in the same step
    assert mock.count("/start/lint") == 0
    mock.wait_hits("/lint-failed", 1)


def test_canceled_parent_optional_child_becomes_pending(api):
    created = api.create([api.task("parent"), api.task("child", deps=[("parent", False)])])
    api.wait_status(created[0]["id"], "Running")
    assert api.cancel(created[0]["id"]).status_code == 200
    api.wait_status(created[1]["id"], "Running")


def test_diamond_dag_mixed_results(api):
    created = api.create([api.task("A"), api.task("B", deps=["A"]), api.task("C", deps=["A"]),
                          api.task("D", deps=["B", "C"])])
    a, b, c, d = (t["id"] for t in created)
    api.wait_status(a, "Running")
    api.succeed(a)
    api.wait_status(b, "Running")
    api.wait_status(c, "Running")
    api.succeed(b)
    api.fail(c)
    got = api.wait_status(d, "Failure")
    assert got["failure_reason"] == "Required parent task %s failed" % c


def test_double_success_does_not_double_decrement(api):
    # child waits on two required parents: a re-sent Success on one must not
    # release it.
    created = api.create([api.task("a"), api.task("b"), api.task("child", deps=["a", "b"])])
    a, b, child = (t["id"] for t in created)
    api.wait_status(a, "Running")
    api.wait_status(b, "Running")
    api.succeed(a)
    assert api.patch_task(a, {"status": "Success"}).status_code == 200
    api.stays_status(child, "Waiting", 0.3)
    api.succeed(b)
    api.wait_status(child, "Running")


def test_parallel_failure_propagation_isolation(api, mock):
    mock.on("/start/p1", status=500)
    mock.on("/start/p2", status=500)
    created = api.create([api.task("p1"), api.task("p2"), api.task("c1", deps=["p1"]),
                          api.task("c2", deps=["p2"])])
    p1, p2, c1, c2 = (t["id"] for t in created)
    api.wait_status(p1, "Failure")
    api.wait_status(p2, "Failure")
    assert api.wait_status(c1, "Failure")["failure_reason"] == "Required parent task %s failed" % p1
    assert api.wait_status(c2, "Failure")["failure_reason"] == "Required parent task %s failed" % p2


# ---- dead-end ancestors -----------------------------------------------------------


def test_dead_end_cancel_basic(api, mock):
    created = api.create([api.task("A1", on_failure=[api.hook("/a1-failed")]), api.task("A2"), api.task("A3"),
                          api.task("B", deps=["A1", "A2", "A3"])])
    a1, a2, a3, b = (t["id"] for t in created)
    for x in (a1, a2, a3):
        api.wait_status(x, "Running")
    api.fail(a2)
    api.wait_status(b, "Failure")
    for x in (a1, a3):
        got = api.wait_status(x, "Canceled")
        assert "All child tasks already terminated" in got["failure_reason"]
        assert got["ended_at"] is not None
    assert api.status(a2) == "Failure"
    mock.wait_hits("/a1-failed", 1)


def test_dead_end_cancel_multi_level(api):
    created = api.create([api.task("P"), api.task("P2"), api.task("Q", deps=["P"]),
                          api.task("R", deps=["Q", "P2"])])
    p, p2, q, r = (t["id"] for t in created)
    api.wait_status(p, "Running")
    api.wait_status(p2, "Running")
    api.fail(p)
    api.wait_status(q, "Failure")
    api.wait_status(r, "Failure")
    assert "All child tasks already terminated" in api.wait_status(p2, "Canceled")["failure_reason"]


def test_dead_end_cancel_partial_children(api):
    # P has children B and C; only B ends, so P stays.
    created = api.create([api.task("P"), api.task("F"), api.task("B", deps=["P", "F"]),
                          api.task("C", deps=["P"])])
    p, f, b, c = (t["id"] for t in created)
    api.wait_status(p, "Running")
    api.wait_status(f, "Running")
    api.fail(f)
    api.wait_status(b, "Failure")
    api.stays_status(p, "Running", 0.3)
    assert api.status(c) == "Waiting"


def test_dead_end_cancel_paused(api):
    # R -> P (paused, waiting) -> C <- F; F fails -> C fails -> P canceled -> R canceled
    created = api.create([api.task("R"), api.task("F"), api.task("P", deps=["R"]),
                          api.task("C", deps=["P", "F"])])
    r, f, p, c = (t["id"] for t in created)
    assert api.pause(p).status_code == 200
    api.wait_status(f, "Running")
    api.wait_status(r, "Running")
    api.fail(f)
    api.wait_status(c, "Failure")
    assert "All child tasks already terminated" in api.wait_status(p, "Canceled")["failure_reason"]
    assert "All child tasks already terminated" in api.wait_status(r, "Canceled")["failure_reason"]


def test_dead_end_cancel_no_children(api):
    created = api.create([api.task("leaf"), api.task("other")])
    leaf, other = (t["id"] for t in created)
    api.wait_status(leaf, "Running")
    api.wait_status(other, "Running")
    api.fail(leaf)
    api.stays_status(other, "Running", 0.3)


def test_dead_end_after_cancel_of_waiting_child(api):
    # Canceling the only child of running parents cancels them (dead end).
    created = api.create([api.task("G"), api.task("X"), api.task("C", deps=[("G", False), "X"])])
    g, x, c = (t["id"] for t in created)
    api.wait_status(g, "Running")
    api.wait_status(x, "Running")
    assert api.cancel(c).status_code == 200
    assert "All child tasks already terminated" in api.wait_status(g, "Canceled")["failure_reason"]
    api.wait_status(x, "Canceled")


def test_dead_end_cancel_barrier(api):
    # R -> A (barrier, waiting) -> C <- F. F fails: C fails, A canceled, and
    # the walk stops at A: R stays Running.
    created = api.create([api.task("R"), api.task("F"), api.task("A", deps=["R"], dead_end_barrier=True),
                          api.task("C", deps=["A", "F"])])
    r, f, a, c = (t["id"] for t in created)
    assert created[2]["dead_end_barrier"] is True
    api.wait_status(r, "Running")
    api.wait_status(f, "Running")
    api.fail(f)
    api.wait_status(c, "Failure")
    assert "All child tasks already terminated" in api.wait_status(a, "Canceled")["failure_reason"]
    api.stays_status(r, "Running", 0.3)


def test_dead_end_cancel_running_barrier_keeps_succeeded_parent(api):
    # G succeeds -> A (barrier) runs; A's child C also needs F; F fails -> A canceled, G stays Success.
    created = api.create([api.task("G"), api.task("F"), api.task("A", deps=["G"], dead_end_barrier=True),
                          api.task("C", deps=["A", "F"])])
    g, f, a, c = (t["id"] for t in created)
    api.wait_status(g, "Running")
    api.succeed(g)
    api.wait_status(a, "Running")
    api.wait_status(f, "Running")
    api.fail(f)
    api.wait_status(c, "Failure")
    api.wait_status(a, "Canceled")
    assert api.status(g) == "Success"


def test_dead_end_disabled(make_api):
    api = make_api(DEAD_END_CANCEL_ENABLED="0")
    created = api.create([api.task("A1"), api.task("A2"), api.task("B", deps=["A1", "A2"])])
    a1, a2, b = (t["id"] for t in created)
    api.wait_status(a1, "Running")
    api.wait_status(a2, "Running")
    api.fail(a2)
    api.wait_status(b, "Failure")
    stays(lambda: api.status(a1) == "Running", 0.3, desc="A1 running")


def test_dead_end_running_ancestor_gets_cancel_webhook(api, mock):
    mock.on("/start/A1", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/A1"), "verb": "Post"}})
    created = api.create([api.task("A1", on_failure=[api.hook("/a1-failed")]), api.task("A2"),
                          api.task("B", deps=["A1", "A2"])])
    a1, a2, b = (t["id"] for t in created)
    api.wait_status(a1, "Running")
    api.wait_status(a2, "Running")
    before = metric(api.metrics(), "tasks_canceled_dead_end_total")
    api.fail(a2)
    api.wait_status(b, "Failure")
    api.wait_status(a1, "Canceled")
    hit = mock.wait_hits("/cancel/A1", 1)[0]
    assert hit.header("X-Task-Trigger") == "cancel"
    assert hit.header("Idempotency-Key") == "%s:cancel" % a1
    mock.wait_hits("/a1-failed", 1)
    assert metric(api.metrics(), "tasks_canceled_dead_end_total") - before == 1
