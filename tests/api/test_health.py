"""Health, readiness, metrics, routing basics (unknown routes, methods, ids)."""

import uuid

from harness import metric, metric_names, wait_for


def test_health_check(api):
    r = api.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_readiness_check(api):
    r = api.get("/ready")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"


def test_unknown_route_is_404(api):
    assert api.get("/nope").status_code == 404
    assert api.get("/task/%s/extra" % uuid.uuid4()).status_code == 404
    assert api.post("/batches", json={}).status_code == 404


def test_wrong_method_on_known_path_is_404(api):
    # actix's route-miss default: a wrong method is a plain 404.
    assert api.delete("/health").status_code == 404
    assert api.put("/batches", json={}).status_code == 404


def test_no_trailing_slash_normalisation(api):
    assert api.get("/health/").status_code == 404


def test_bad_uuid_in_path_is_404(api):
    assert api.get("/task/not-a-uuid").status_code == 404
    assert api.patch("/task/not-a-uuid", json={"status": "Success"}).status_code == 404
    assert api.put("/task/not-a-uuid", json={"new_success": 1}).status_code == 404
    assert api.delete("/task/not-a-uuid").status_code == 404
    assert api.patch("/task/pause/not-a-uuid").status_code == 404
    assert api.patch("/task/resume/not-a-uuid").status_code == 404
    assert api.get("/batch/not-a-uuid").status_code == 404
    assert api.get("/dag/not-a-uuid").status_code == 404
    assert api.get("/health").status_code == 200


def test_metrics_is_prometheus_text(api):
    r = api.get("/metrics")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("text/plain")
    samples = api.metrics()  # every non-comment line parses as a sample
    names = metric_names(samples)
    for name in ("tasks_created_total", "task_status_transitions_total"):
        assert any(n.startswith(name) for n in names) or ("# TYPE %s" % name) in r.text, name


def test_metrics_without_labels_listed_at_zero(api):
    """A fresh server lists its counters without labels at 0, as Prometheus
    client libraries do, so rate() and absence alerts work from the start."""
    r = api.get("/metrics")
    assert r.status_code == 200
    lines = r.text.splitlines()
    for name in ("tasks_created_total", "tasks_timed_out_total", "tasks_cancelled_total",
                 "engine_commit_failures_total"):
        assert "%s 0" % name in lines, "%s is not listed at 0:\n%s" % (name, r.text[:3000])


def test_metrics_tasks_created_counter_moves(api):
    before = metric(api.metrics(), "tasks_created_total")
    api.create([api.task("a"), api.task("b"), api.task("c", deps=["a"])])
    after = metric(api.metrics(), "tasks_created_total")
    assert after - before == 3
    assert metric(api.metrics(), "tasks_with_dependencies_total") >= 1


def test_metrics_status_transitions_move(api, mock):
    t = api.running("a")
    samples = api.metrics()
    assert metric(samples, "task_status_transitions_total", from_status="Pending", to_status="Claimed") >= 1
    assert metric(samples, "task_status_transitions_total", from_status="Claimed", to_status="Running") >= 1
    assert metric(samples, "webhook_executions_total", trigger="start", outcome="success") >= 1
    api.succeed(t["id"])
    wait_for(lambda: metric(api.metrics(), "dependency_propagations_total") >= 1,
             desc="dependency_propagations_total to move")


def test_metrics_cancel_counter_moves(api):
    hold = api.hold()
    t = api.create([api.task("x", **hold.kw())])[0]
    before = metric(api.metrics(), "tasks_cancelled_total")
    assert api.cancel(t["id"]).status_code == 200
    assert metric(api.metrics(), "tasks_cancelled_total") - before == 1


def test_metrics_unblocked_and_failed_by_dependency(api):
    created = api.create([api.task("p1"), api.task("c1", deps=["p1"]),
                          api.task("p2"), api.task("c2", deps=["p2"])])
    ids = {t["name"]: t["id"] for t in created}
    api.wait_status(ids["task-p1"], "Running")
    api.wait_status(ids["task-p2"], "Running")
    m0 = api.metrics()
    api.succeed(ids["task-p1"])
    api.fail(ids["task-p2"])
    m1 = api.metrics()
    assert metric(m1, "tasks_unblocked_total") - metric(m0, "tasks_unblocked_total") == 1
    assert metric(m1, "tasks_failed_by_dependency_total") - metric(m0, "tasks_failed_by_dependency_total") == 1


def test_metrics_status_and_kind_gauges(api):
    hold = api.hold(kind="gatekind")
    created = api.create([api.task("r1", kind="k-run"), api.task("r2", kind="k-run"),
                          api.task("p", **hold.kw())])
    r1, r2, p = (t["id"] for t in created)
    api.wait_status(r1, "Running")
    api.wait_status(r2, "Running")

    def gauges(running, k_run):
        m = api.metrics()
        listed = len(api.list_tasks(status="Running"))
        got = (metric(m, "tasks_by_status", status="Running"), listed,
               metric(m, "running_tasks_by_kind", kind="k-run"), metric(m, "running_tasks_by_kind", kind="gatekind"),
               metric(m, "tasks_by_status", status="Pending"))
        return got if got == (running, running, k_run, 1, 1) else None

    wait_for(lambda: gauges(3, 2), timeout=2.0, desc="status and kind gauges")
    done0 = metric(api.metrics(), "tasks_completed_total")
    kind0 = metric(api.metrics(), "tasks_completed_total", kind="k-run")
    api.succeed(r1)
    wait_for(lambda: gauges(2, 1), timeout=2.0, desc="gauges after a success")
    m = api.metrics()
    assert metric(m, "tasks_completed_total") - done0 == 1
    assert metric(m, "tasks_completed_total", kind="k-run") - kind0 == 1


def test_metrics_db_query_duration(api):
    api.create([api.task("a")])
    api.list_tasks()
    m = api.metrics()
    assert metric(m, "db_query_duration_seconds_count") > 0
    assert metric(m, "db_query_duration_seconds_sum") > 0
    buckets = [ls for n, ls, _ in m if n == "db_query_duration_seconds_bucket"]
    assert buckets and all("le" in ls for ls in buckets)
