"""A run as a graph: GET /v1/runs/{id}/graph gives its tasks in pages with
the edges into each page's tasks (required = requires_success, barrier =
dead_end_barrier), GET /v1/runs/{id}/critical-path the path of the largest
sum of durations, PATCH /v1/runs/{id}/rules the ArcRun rules change; a lone
job is a run of one task, and another namespace's run is unknown."""

A = "token-of-team-a-0123"
B = "token-of-team-b-0123"
TOKENS = "a %s a client; b %s b client" % (A, B)


def h(token):
    return {"Authorization": "Bearer " + token} if token else None


def submit(api, tasks, token=None):
    r = api.post("/v1/runs", json={"tasks": tasks}, headers=h(token))
    assert r.status_code == 201, r.text
    run = r.json()
    return run, {t["ref"]: t["id"] for t in run["tasks"]}


def diamond(api, token=None):
    return submit(api, [
        {"ref": "a", "queue": "q"},
        {"ref": "b", "queue": "q", "parents": [{"ref": "a"}]},
        {"ref": "c", "queue": "q", "parents": [{"ref": "a", "requires_success": False}]},
        {"ref": "d", "queue": "r", "parents": [{"ref": "b"}, {"ref": "c"}]},
    ], token)


def run_job(api, queue):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w"})
    (job,) = r.json()["jobs"]
    return job


def complete(api, job):
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": 1})
    assert r.status_code == 200, r.text


def test_graph_pages_and_edges(api):
    run, ids = diamond(api)
    g = api.get("/v1/runs/%s/graph" % run["id"]).json()
    assert g["run_id"] == run["id"] and g["total"] == 4 and g["next_cursor"] is None
    assert [t["id"] for t in g["tasks"]] == [ids[k] for k in "abcd"]
    a = g["tasks"][0]
    assert a["status"] == "pending" and a["kind"] == "q" and a["executor"] == "queue" and a["attempt"] == 1
    assert a["barrier"] is False and a["created_at"] and a["started_at"] is None and a["ended_at"] is None
    edges = {(e["from"], e["to"]): e["required"] for e in g["edges"]}
    assert edges == {(ids["a"], ids["b"]): True, (ids["a"], ids["c"]): False,
                     (ids["b"], ids["d"]): True, (ids["c"], ids["d"]): True}
    # Pages of two: each edge in the page of its child.
    p1 = api.get("/v1/runs/%s/graph" % run["id"], params={"limit": 2}).json()
    assert [t["id"] for t in p1["tasks"]] == [ids["a"], ids["b"]]
    assert {(e["from"], e["to"]) for e in p1["edges"]} == {(ids["a"], ids["b"])}
    p2 = api.get("/v1/runs/%s/graph" % run["id"], params={"limit": 2, "cursor": p1["next_cursor"]}).json()
    assert [t["id"] for t in p2["tasks"]] == [ids["c"], ids["d"]] and p2["next_cursor"] is None
    assert {(e["from"], e["to"]) for e in p2["edges"]} == {(ids["a"], ids["c"]), (ids["b"], ids["d"]),
                                                          (ids["c"], ids["d"])}
    # Bounds name their parameter; a cursor of another run is refused.
    for bad in ({"limit": 0}, {"limit": 10001}, {"cursor": "nope"}):
        r = api.get("/v1/runs/%s/graph" % run["id"], params=bad)
        assert r.status_code == 400 and list(bad)[0] in r.text, r.text
    other, _ = diamond(api)
    r = api.get("/v1/runs/%s/graph" % other["id"], params={"cursor": p1["next_cursor"]})
    assert r.status_code == 400 and "cursor" in r.text
    assert api.get("/v1/runs/00000000-0000-4000-8000-000000000000/graph").status_code == 404


def test_lone_job_and_namespaces(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    r = api.post("/v1/jobs", json={"namespace": "a", "jobs": [{"queue": "q"}]}, headers=h(A))
    (job,) = r.json()["jobs"]
    g = api.get("/v1/runs/%s/graph" % job["id"], headers=h(A)).json()
    assert g["total"] == 1 and [t["id"] for t in g["tasks"]] == [job["id"]] and g["edges"] == []
    cp = api.get("/v1/runs/%s/critical-path" % job["id"], headers=h(A)).json()
    assert cp["tasks"] == [job["id"]] and cp["duration_ms"] == 0
    run, _ = diamond(api, A)
    for path in ("graph", "critical-path"):
        assert api.get("/v1/runs/%s/%s" % (run["id"], path), headers=h(B)).status_code == 404
        assert api.get("/v1/runs/%s/%s" % (job["id"], path), headers=h(B)).status_code == 404
    r = api.patch("/v1/runs/%s/rules" % run["id"], json={"kind": "q", "rules": []}, headers=h(B))
    assert r.status_code == 404


def test_critical_path_follows_durations(api):
    run, ids = diamond(api)
    complete(api, run_job(api, "q"))                      # a
    api.advance(0.001)
    jobs = {j["id"]: j for j in (run_job(api, "q"), run_job(api, "q"))}
    api.advance(5)                                        # b and c run 5 s
    complete(api, jobs[ids["b"]])
    api.advance(3)                                        # c runs 3 s more
    complete(api, jobs[ids["c"]])
    cp = api.get("/v1/runs/%s/critical-path" % run["id"]).json()
    assert cp["tasks"] == [ids["a"], ids["c"], ids["d"]]
    assert 8000 <= cp["duration_ms"] < 9000
    assert len(cp["by_depth"]) == 3


def rule(kind, n):
    return {"type": "Capacity", "max_capacity": n, "matcher": {"kind": kind, "status": "Running", "fields": []}}


def test_rules_patch(api):
    run, ids = diamond(api)
    r = api.patch("/v1/runs/%s/rules" % run["id"], json={"kind": "q", "rules": [rule("q", 2)]})
    assert r.status_code == 200, r.text
    assert r.json() == {"run_id": run["id"], "kind": "q", "updated": 3}
    got = api.get("/task/%s" % ids["b"]).json()
    assert got["rules"] == [rule("q", 2)]
    assert api.get("/task/%s" % ids["d"]).json()["rules"] == []
    # A bad body names its field.
    r = api.patch("/v1/runs/%s/rules" % run["id"], json={"kind": "q", "rules": "many"})
    assert r.status_code == 400 and "rules" in r.text, r.text
    r = api.patch("/v1/runs/%s/rules" % run["id"], json={"kind": "q", "rules": [rule("q", 1)] * 101})
    assert r.status_code == 400 and "rules" in r.text, r.text
    r = api.patch("/v1/runs/%s/rules" % run["id"], json={"rules": []})
    assert r.status_code == 400 and "kind" in r.text, r.text
    r = api.patch("/v1/runs/00000000-0000-4000-8000-000000000000/rules", json={"kind": "q", "rules": []})
    assert r.status_code == 404


def test_task_deliveries(make_api, mock):
    from harness import Behaviour
    api = make_api(WEBHOOK_RETRY_BACKOFF_BASE_SECS="0.1", WEBHOOK_RETRY_BACKOFF_CAP_SECS="0.2")
    mock.on("/ok", Behaviour(status=500), Behaviour(status=200))
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    api.wait_delivery("%s:end:success" % t["id"], "success", timeout=5.0)
    r = api.get("/v1/tasks/%s/deliveries" % t["id"])
    assert r.status_code == 200, r.text
    start, end = r.json()["deliveries"]
    assert start["action"] == "on_start" and start["status"] == "success" and start["attempt"] == 1
    assert start["http_status"] == 200 and start["started_at"] and start["ended_at"]
    assert end["action"] == "on_end" and end["event"] == "end_success" and end["status"] == "success"
    assert end["attempt"] == 2 and end["http_status"] == 200 and end["max_attempts"] >= 2
    assert api.get("/v1/tasks/00000000-0000-4000-8000-000000000000/deliveries").status_code == 404
