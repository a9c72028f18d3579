"""Concurrent requests on the same tasks: transitions happen exactly once
(every update is guarded by the status it expects), rules hold under
parallel submits."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import wait_for


def parallel(n, fn):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_racing_final_statuses_one_wins(api, mock):
    t = api.running("a", on_success=[api.hook("/ok")], on_failure=[api.hook("/ko")])
    url = api.server.url("/task/" + t["id"])

    def patch(i):
        body = {"status": "Success"} if i % 2 == 0 else {"status": "Failure", "failure_reason": "r%d" % i}
        r = requests.patch(url, json=body, timeout=20)
        return body["status"], r.status_code

    results = parallel(10, patch)
    final = api.get_task(t["id"])["status"]
    assert final in ("Success", "Failure")
    for status, code in results:
        assert code == (200 if status == final else 409), (results, final)
    hook = "/ok" if final == "Success" else "/ko"
    other = "/ko" if final == "Success" else "/ok"
    mock.wait_hits(hook, 1)
    time.sleep(0.4)
    assert mock.count(hook) == 1 and mock.count(other) == 0


def test_racing_cancel_and_patch(api, mock):
    t = api.running("a", on_success=[api.hook("/ok")])
    url = api.server.url("/task/" + t["id"])

    def act(i):
        if i % 2:
            return "cancel", requests.delete(url, timeout=20).status_code
        return "patch", requests.patch(url, json={"status": "Success"}, timeout=20).status_code

    results = parallel(8, act)
    final = api.get_task(t["id"])["status"]
    assert final in ("Success", "Canceled")
    cancels = [c for k, c in results if k == "cancel"]
    patches = [c for k, c in results if k == "patch"]
    if final == "Canceled":
        assert cancels.count(200) == 1 and cancels.count(409) == 3
        assert patches == [409] * 4
    else:
        assert patches == [200] * 4
        assert cancels == [409] * 4
        mock.wait_hits("/ok", 1)
    time.sleep(0.3)
    assert mock.count("/ok") == (1 if final == "Success" else 0)


def test_child_released_once_by_parallel_parents(api, mock):
    n = 8
    created = api.create([api.task("p%d" % i) for i in range(n)] +
                         [api.task("child", deps=["p%d" % i for i in range(n)])])
    parents, child = [t["id"] for t in created[:n]], created[n]["id"]
    for p in parents:
        api.wait_status(p, "Running")
    results = parallel(n, lambda i: requests.patch(api.server.url("/task/" + parents[i]),
                                                   json={"status": "Success"}, timeout=20).status_code)
    assert results == [200] * n
    api.wait_status(child, "Running")
    time.sleep(0.3)
    assert mock.count("/start/child") == 1


def test_parallel_puts_and_patch(api):
    t = api.running("a")
    url = api.server.url("/task/" + t["id"])

    def act(i):
        if i == 5:
            return requests.patch(url, json={"status": "Success", "new_success": 100}, timeout=20).status_code
        return requests.put(url, json={"new_success": 1}, timeout=20).status_code

    results = parallel(12, act)
    assert results.count(202) == 11 and results[5] == 200
    got = api.get_task(t["id"])
    assert got["status"] == "Success" and got["success"] == 111


def test_concurrency_limit_holds_under_parallel_submits(api):
    rules = [{"type": "Concurency", "max_concurency": 2,
              "matcher": {"kind": "lim", "status": "Running", "fields": []}}]

    def submit(i):
        r = requests.post(api.server.url("/task"), json=[api.task("t%d" % i, kind="lim", rules=rules)], timeout=20)
        assert r.status_code == 201
        return r.json()[0]["id"]

    ids = parallel(8, submit)
    done = set()
    while len(done) < len(ids):
        listed = api.list_tasks(kind="lim", page_size=100)
        active = [t for t in listed if t["status"] in ("Claimed", "Running")]
        assert len(active) <= 2, [(t["name"], t["status"]) for t in listed]
        running = [t["id"] for t in active if t["status"] == "Running"]
        if running:
            api.succeed(running[0])
            done.add(running[0])
        else:
            time.sleep(0.02)
    assert all(api.status(i) == "Success" for i in ids)


def test_parallel_batches_are_isolated(api):
    def submit(i):
        r = requests.post(api.server.url("/task"),
                          json=[api.task("a", name="b%d-a" % i), api.task("b", name="b%d-b" % i, deps=["a"])],
                          timeout=20)
        return r.status_code, r.headers.get("X-Batch-ID"), r.json()

    results = parallel(8, submit)
    bids = {bid for _, bid, _ in results}
    assert len(bids) == 8
    for code, bid, body in results:
        assert code == 201
        assert {t["batch_id"] for t in body} == {bid}
        d = api.dag(bid)
        assert len(d["tasks"]) == 2 and len(d["links"]) == 1
        assert d["links"][0]["parent_id"] == body[0]["id"] and d["links"][0]["child_id"] == body[1]["id"]
    wait_for(lambda: len(api.list_tasks(status="Running")) == 8, desc="8 roots running")
