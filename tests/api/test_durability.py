"""Durability and restarts: acknowledged writes survive kill -9; timers,
claims, starts and deliveries resume after a restart."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import Api, Behaviour, wait_for


def test_data_survives_graceful_restart(api, mock):
    bid, ids = api.create_batch([api.task("a", metadata={"k": [1, 2]}, expected_count=9, priority=3),
                                 api.task("b", deps=["a"], on_success=[api.hook("/ok")])])
    a = api.wait_status(ids["a"]["id"], "Running")
    api.counters(a["id"], 4, 1)
    before = {i["id"]: api.get_task(i["id"]) for i in ids.values()}
    srv2 = api.server.restart()
    api2 = Api(srv2, mock)
    for tid, t in before.items():
        after = api2.get_task(tid)
        for key in ("name", "kind", "status", "metadata", "expected_count", "priority", "success", "failures",
                    "batch_id", "created_at", "started_at", "timeout", "rules"):
            assert after[key] == t[key], key
        assert sorted(x["trigger"] for x in after["actions"]) == sorted(x["trigger"] for x in t["actions"])
    d = api2.dag(bid)
    assert len(d["tasks"]) == 2 and len(d["links"]) == 1
    # the DAG still works after the restart
    api2.succeed(a["id"])
    api2.wait_status(ids["b"]["id"], "Running")


def test_ack_then_kill9(api, mock):
    t = api.running("a")
    assert api.counters(t["id"], 7, 3).status_code == 202
    created = api.create([api.task("new", metadata={"x": 1})])[0]
    api.fail(t["id"], "because")
    api.server.kill()
    api2 = Api(api.server.restart(), mock)
    got = api2.get_task(t["id"])
    assert (got["status"], got["failure_reason"], got["success"], got["failures"]) == ("Failure", "because", 7, 3)
    assert api2.get_task(created["id"])["metadata"] == {"x": 1}


def test_burst_then_kill9_loses_nothing(weft_factory, mock):
    srv = weft_factory.start()
    api = Api(srv, mock)
    n_running = 60
    created = api.create([api.task("r%d" % i, start="/start") for i in range(n_running)])
    running = [t["id"] for t in created]
    for tid in running:
        api.wait_status(tid, "Running", timeout=5.0)

    rng = random.Random(42)
    ops = []
    for i in range(80):
        ops.append(("post", i))
    for i, tid in enumerate(running):
        ops.append(("patch", (tid, "Success" if i % 2 == 0 else "Failure", i)))
    for i in range(60):
        ops.append(("put", (rng.choice(running), rng.randint(1, 9), rng.randint(0, 3))))
    rng.shuffle(ops)

    local = threading.local()
    base = srv.base
    start_url = mock.url("/start")

    def session():
        if not hasattr(local, "s"):
            local.s = requests.Session()
        return local.s

    def run(op):
        kind, arg = op
        s = session()
        if kind == "post":
            body = [{"id": "b", "name": "burst-%d" % arg, "kind": "burst", "metadata": {"n": arg},
                     "on_start": {"kind": "Webhook", "params": {"url": start_url, "verb": "Post"}}}]
            r = s.post(base + "/task", json=body, timeout=30)
            return op, r.status_code, (r.json() if r.status_code == 201 else None)
        if kind == "patch":
            tid, status, i = arg
            body = {"status": status, "new_success": i}
            if status == "Failure":
                body["failure_reason"] = "reason-%d" % i
            r = s.patch(base + "/task/" + tid, json=body, timeout=30)
            return op, r.status_code, None
        tid, ds, df = arg
        body = {"new_success": ds}
        if df:
            body["new_failures"] = df
        r = s.put(base + "/task/" + tid, json=body, timeout=30)
        return op, r.status_code, None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, ops))
    srv.kill()

    acked_posts = {}
    expect_status = {}
    expect_reason = {}
    expect_success = {tid: 0 for tid in running}
    expect_failures = {tid: 0 for tid in running}
    for (kind, arg), code, body in results:
        if kind == "post":
            assert code == 201, code
            acked_posts[arg] = body[0]
        elif kind == "patch":
            assert code == 200, code
            tid, status, i = arg
            expect_status[tid] = status
            expect_reason[tid] = "reason-%d" % i if status == "Failure" else None
            expect_success[tid] += i
        else:
            assert code == 202, code
            tid, ds, df = arg
            expect_success[tid] += ds
            expect_failures[tid] += df

    api2 = Api(srv.restart(), mock)
    for n, dto in acked_posts.items():
        got = api2.get_task(dto["id"])
        assert (got["name"], got["kind"], got["metadata"], got["batch_id"]) == \
            ("burst-%d" % n, "burst", {"n": n}, dto["batch_id"])
    for tid in running:
        got = api2.get_task(tid)
        assert got["status"] == expect_status[tid], (tid, got["status"])
        assert got["failure_reason"] == expect_reason[tid]
        assert (got["success"], got["failures"]) == (expect_success[tid], expect_failures[tid]), tid
    assert len(api2.list_tasks(kind="burst", page_size=100)) == 80


def test_timers_recovered_after_kill9(api, mock):
    t = api.running("a", timeout=1, on_failure=[api.hook("/a-failed")])
    api.server.kill()
    api2 = Api(api.server.restart(), mock)
    got = api2.wait_status(t["id"], "Failure", timeout=3.0)
    assert got["failure_reason"] == "Timeout"
    mock.wait_hits("/a-failed", 1)


def test_pending_tasks_start_after_restart(api, mock):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    api.server.kill()
    api2 = Api(api.server.restart(), mock)
    assert api2.status(t["id"]) == "Pending"
    api2.succeed(hold.gate_id)
    api2.wait_status(t["id"], "Running")


def test_stale_claim_requeued_after_kill9(api, mock):
    """A task killed while Claimed (its on_start in flight) is requeued once
    the claim is stale and started again."""
    mock.on("/start/a", Behaviour(delay=30.0), Behaviour())
    t = api.create([api.task("a")])[0]
    mock.wait_hits("/start/a", 1)
    assert api.status(t["id"]) == "Claimed"
    api.server.kill()
    api2 = Api(api.server.restart(env={"WORKER_CLAIM_TIMEOUT_SECS": "1"}), mock)
    api2.wait_status(t["id"], "Running", timeout=3.0)
    assert mock.count("/start/a") == 2
    keys = {h.header("Idempotency-Key") for h in mock.hits("/start/a")}
    assert keys == {"%s:start" % t["id"]}


def test_outbox_resumes_after_kill9(api, mock):
    mock.on("/ok", Behaviour(status=500), Behaviour(status=200))
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    mock.wait_hits("/ok", 1)
    api.server.kill()
    api2 = Api(api.server.restart(env={"WEBHOOK_RETRY_BACKOFF_BASE_SECS": "0.2"}), mock)
    # The failed attempt may have been recorded before the kill: its retry
    # then keeps the backoff of the first server (2 s, +-10 %).
    hits = mock.wait_hits("/ok", 2, timeout=3.0)
    assert {h.header("Idempotency-Key") for h in hits} == {"%s:end:success" % t["id"]}
    api2.wait_delivery("%s:end:success" % t["id"], "success", timeout=1.0)


def test_restart_on_same_port(api, mock):
    t = api.create([api.task("a")])[0]
    api.server.kill()
    api2 = Api(api.server.restart(same_port=True), mock)
    assert api2.server.port == api.server.port
    assert api2.get_task(t["id"])["name"] == "task-a"



def test_delivery_storm_survives_kill9(weft_factory, mock):
    """kill -9 while 200 end webhooks are being delivered (each receiver slow
    and failing its first call): after a restart on the same database every
    delivery is made, with the same key as before."""
    n = 200
    env = {"WEBHOOK_RETRY_BACKOFF_BASE_SECS": "0.1", "WEBHOOK_RETRY_BACKOFF_CAP_SECS": "0.2",
           "WEBHOOK_DELIVERY_CONCURRENCY": "20"}
    srv = weft_factory.start(env=env)
    api = Api(srv, mock)
    tasks = []
    for i in range(n):
        mock.on("/ok/%d" % i, Behaviour(status=500, delay=0.05), Behaviour(status=200, delay=0.1))
        tasks.append(api.task("t%d" % i, start="/start", on_success=[api.hook("/ok/%d" % i)]))
    created = api.create(tasks)
    ids = [t["id"] for t in created]
    mock.wait_hits("/start", n, timeout=10.0)
    for tid in ids:
        api.wait_status(tid, "Running")

    def patch(tid):
        r = requests.patch(srv.base + "/task/" + tid, json={"status": "Success"}, timeout=30)
        return tid, r.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(patch, ids))
    assert all(code == 200 for _, code in results), results

    def ok_hits():
        return [h for h in mock.hits() if h.path.startswith("/ok/")]

    wait_for(lambda: len(ok_hits()) >= n // 2, timeout=5.0, desc="the storm to be under way")
    srv.kill()
    at_kill = len({h.path for h in ok_hits() if len(mock.hits(h.path)) >= 2})
    assert at_kill < n // 2, "kill -9 came too late: %d of %d deliveries already made" % (at_kill, n)
    api2 = Api(srv.restart(), mock)

    def answered_ok():
        # a path's second call is the one answered 200
        return all(mock.count("/ok/%d" % i) >= 2 for i in range(n))

    wait_for(answered_ok, timeout=10.0, desc="every receiver to get its successful call")
    for i, tid in enumerate(ids):
        keys = {h.header("Idempotency-Key") for h in mock.hits("/ok/%d" % i)}
        assert keys == {"%s:end:success" % tid}, (i, keys)
    wait_for(lambda: len(api2.deliveries("success")) == n, timeout=5.0, desc="%d successful deliveries" % n)
    assert len(api2.deliveries()) == n
