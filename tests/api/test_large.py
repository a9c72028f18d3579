"""Large batches: a 5,000-task chain and a 5,000-wide fan-out in one POST,
with the DAG endpoint returning all of them."""

import json
import time


def chain(api, n):
    tasks = []
    for i in range(n):
        t = {"id": "c%d" % i, "name": "chain-%d" % i, "kind": "chain",
             "on_start": {"kind": "Webhook", "params": {"url": api.mock.url("/start"), "verb": "Post"}}}
        if i:
            t["dependencies"] = [{"id": "c%d" % (i - 1), "requires_success": True}]
        tasks.append(t)
    return tasks


def fan_out(api, n):
    start = {"kind": "Webhook", "params": {"url": api.mock.url("/start"), "verb": "Post"}}
    tasks = [{"id": "root", "name": "root", "kind": "fan", "on_start": start}]
    for i in range(n):
        tasks.append({"id": "f%d" % i, "name": "leaf-%d" % i, "kind": "fan", "on_start": start,
                      "dependencies": [{"id": "root", "requires_success": True}]})
    return tasks


def test_chain_of_5000(make_api):
    api = make_api(PAYLOAD_MAX_BYTES=str(64 * 1024 * 1024))
    tasks = chain(api, 5000)
    r = api.post("/task", data=json.dumps(tasks), headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 201, r.text[:500]
    created = r.json()
    assert len(created) == 5000
    assert [t["name"] for t in created] == ["chain-%d" % i for i in range(5000)]
    assert created[0]["status"] == "Pending"
    assert all(t["status"] == "Waiting" for t in created[1:])
    bid = r.headers["X-Batch-ID"]
    d = api.dag(bid)
    assert len(d["tasks"]) == 5000
    assert len(d["links"]) == 4999
    ids = [t["id"] for t in created]
    assert {(l["parent_id"], l["child_id"]) for l in d["links"]} == set(zip(ids, ids[1:]))
    s = api.get("/batch/" + bid).json()
    assert s["total_tasks"] == 5000
    # the chain advances
    api.wait_status(ids[0], "Running")
    api.succeed(ids[0])
    api.wait_status(ids[1], "Running")
    # a failure cascades down all 4,998 remaining tasks
    t0 = time.monotonic()
    api.fail(ids[1])
    assert api.get("/batch/" + bid).json()["status_counts"]["failure"] == 4999
    assert time.monotonic() - t0 < 10


def test_fan_out_of_5000(make_api):
    api = make_api(PAYLOAD_MAX_BYTES=str(64 * 1024 * 1024))
    tasks = fan_out(api, 5000)
    r = api.post("/task", data=json.dumps(tasks), headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 201, r.text[:500]
    created = r.json()
    assert len(created) == 5001
    bid = r.headers["X-Batch-ID"]
    d = api.dag(bid)
    assert len(d["tasks"]) == 5001
    assert len(d["links"]) == 5000
    root = created[0]["id"]
    assert {l["parent_id"] for l in d["links"]} == {root}
    assert len(api.list_tasks(batch_id=bid, status="Waiting", page_size=100)) == 100
    s = api.get("/batch/" + bid).json()
    assert s["status_counts"]["waiting"] == 5000
    # canceling the root fails all 5,000 required children at once
    api.wait_status(root, "Running")
    assert api.cancel(root).status_code == 200
    s = api.get("/batch/" + bid).json()
    assert s["status_counts"]["failure"] == 5000
    assert s["status_counts"]["canceled"] == 1
