"""Batches: GET /batch/{id} stats, GET /batches, DELETE /batch/{id}, and
batch-complete webhooks (on_batch_complete)."""

import time
import uuid
from datetime import datetime, timedelta, timezone

from harness import RETRY_COUNT_KEY, STATUS_COUNT_KEYS, TS_RE, parse_ts


def stats(api, bid):
    r = api.get("/batch/" + bid)
    assert r.status_code == 200, r.text
    return r.json()


# status_counts also says how many of the successes a decision skipped
# (state "skipped", shown with status Success)
SKIP_COUNT_KEY = "skipped"


def zero_counts(**kw):
    d = {k: 0 for k in STATUS_COUNT_KEYS + (RETRY_COUNT_KEY, SKIP_COUNT_KEY)}
    d.update(kw)
    return d


# ---- stats ---------------------------------------------------------------------


def test_batch_stats_aggregation(api):
    bid, ids = api.create_batch([api.task("ok", expected_count=10), api.task("ko", expected_count=5)])
    for t in ids.values():
        api.wait_status(t["id"], "Running")
    api.succeed(ids["ok"]["id"], new_success=7, new_failures=1)
    api.fail(ids["ko"]["id"], new_failures=2)
    s = stats(api, bid)
    assert s["batch_id"] == bid
    assert s["total_tasks"] == 2
    assert s["total_success"] == 7
    assert s["total_failures"] == 3
    assert s["total_expected"] == 15
    assert s["status_counts"] == zero_counts(success=1, failure=1)


def test_batch_sums_saturate(api):
    """Each task's counters are bounded (2^53 - 1), their sum over a batch is
    not: it saturates at 2^63 - 1 instead of failing."""
    top, n = 2 ** 53 - 1, 1100
    tasks = [api.task("t%d" % i, start="/never", expected_count=top) for i in range(n)]
    bid, ids = api.create_batch(tasks)
    assert len(ids) == n
    import requests
    s = requests.Session()
    for t in ids.values():
        r = s.put(api.server.url("/task/" + t["id"]), json={"new_success": top, "new_failures": top}, timeout=20)
        assert r.status_code == 202, r.text
    got = stats(api, bid)
    assert got["total_tasks"] == n
    assert got["total_success"] == 2 ** 63 - 1
    assert got["total_failures"] == 2 ** 63 - 1
    assert got["total_expected"] == 2 ** 63 - 1
    r = api.get("/batches")
    assert r.status_code == 200, r.text
    listed = [b for b in r.json() if b["batch_id"] == bid]
    assert len(listed) == 1 and listed[0]["total_tasks"] == n


def test_batch_stats_per_status_counts(api):
    hold = api.hold()
    bid, ids = api.create_batch([api.task("a", **hold.kw()), api.task("b", **hold.kw()),
                                 api.task("c", deps=["a"])])
    s = stats(api, bid)
    assert s["total_tasks"] == 3
    assert s["status_counts"] == zero_counts(pending=2, waiting=1)
    assert s["total_expected"] is None


def test_batch_stats_total_expected_null_if_any_null(api):
    bid, _ = api.create_batch([api.task("a", expected_count=3), api.task("b")])
    assert stats(api, bid)["total_expected"] is None


def test_batch_stats_all_statuses(api, mock):
    mock.on("/start/claimed", delay=2.0)
    hold = api.hold()
    bid, ids = api.create_batch([
        api.task("pending", **hold.kw()),
        api.task("paused", **hold.kw()),
        api.task("running"),
        api.task("claimed"),
        api.task("success"),
        api.task("failure"),
        api.task("canceled"),
        api.task("waiting", deps=["running"]),
    ])
    assert api.pause(ids["paused"]["id"]).status_code == 200
    for k in ("running", "success", "failure", "canceled"):
        api.wait_status(ids[k]["id"], "Running")
    api.succeed(ids["success"]["id"])
    api.fail(ids["failure"]["id"])
    assert api.cancel(ids["canceled"]["id"]).status_code == 200
    mock.wait_hits("/start/claimed")
    s = stats(api, bid)
    assert s["status_counts"] == zero_counts(**{k: 1 for k in STATUS_COUNT_KEYS})
    assert s["total_tasks"] == 8


def test_batch_stats_not_found(api):
    r = api.get("/batch/%s" % uuid.uuid4())
    assert r.status_code == 404
    assert r.json() == {"error": "No tasks found for this batch_id"}


# ---- GET /batches ----------------------------------------------------------------


def test_list_batches(api):
    b1, _ = api.create_batch([api.task("a")])
    b2, _ = api.create_batch([api.task("b"), api.task("c")])
    r = api.get("/batches")
    assert r.status_code == 200
    listed = r.json()
    assert [b["batch_id"] for b in listed] == [b2, b1]  # newest first
    entry = listed[0]
    for key in ("batch_id", "total_tasks", "first_created_at", "latest_updated_at", "status_counts", "kinds"):
        assert key in entry
    assert entry["total_tasks"] == 2
    assert set(entry["status_counts"]) >= set(STATUS_COUNT_KEYS)
    assert sum(entry["status_counts"][k] for k in STATUS_COUNT_KEYS) == 2
    assert TS_RE.match(entry["first_created_at"]) and TS_RE.match(entry["latest_updated_at"])
    assert parse_ts(entry["latest_updated_at"]) >= parse_ts(entry["first_created_at"])
    assert entry["kinds"] == ["test"]


def test_list_batches_pagination(api):
    bids = [api.create_batch([api.task("t%d" % i)])[0] for i in range(3)]
    page0 = api.get("/batches", params={"page_size": 2}).json()
    page1 = api.get("/batches", params={"page_size": 2, "page": 1}).json()
    assert [b["batch_id"] for b in page0] == [bids[2], bids[1]]
    assert [b["batch_id"] for b in page1] == [bids[0]]
    assert api.get("/batches", params={"page_size": 2, "page": 5}).json() == []


def test_list_batches_filter_by_kind(api):
    b1, _ = api.create_batch([api.task("a", kind="filter-alpha"), api.task("b", kind="zzz")])
    b2, _ = api.create_batch([api.task("c", kind="filter-beta")])
    listed = api.get("/batches", params={"kind": "filter-alpha"}).json()
    assert [b["batch_id"] for b in listed] == [b1]
    assert listed[0]["kinds"] == ["filter-alpha"]  # kinds of the matching tasks only
    assert listed[0]["total_tasks"] == 2
    listed = api.get("/batches", params={"kind": "filter-"}).json()
    assert {b["batch_id"] for b in listed} == {b1, b2}


def test_list_batches_filter_by_status(api):
    done, ids = api.create_batch([api.task("d")])
    api.wait_status(ids["d"]["id"], "Running")
    api.succeed(ids["d"]["id"])
    hold = api.hold()
    pend, _ = api.create_batch([api.task("p", **hold.kw())])
    listed = [b["batch_id"] for b in api.get("/batches", params={"status": "Success"}).json()]
    assert done in listed and pend not in listed
    listed = [b["batch_id"] for b in api.get("/batches", params={"status": "Pending"}).json()]
    assert pend in listed and done not in listed


def test_list_batches_filter_by_name(api):
    b1, _ = api.create_batch([api.task("a", name="nightly-report-42")])
    api.create_batch([api.task("b", name="other")])
    listed = api.get("/batches", params={"name": "report-4"}).json()
    assert [b["batch_id"] for b in listed] == [b1]


def test_list_batches_filter_by_created_range(api):
    b1, _ = api.create_batch([api.task("a")])
    time.sleep(0.05)
    mid = datetime.now(timezone.utc)
    time.sleep(0.05)
    b2, _ = api.create_batch([api.task("b")])
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    after = [b["batch_id"] for b in api.get("/batches", params={"created_after": mid.strftime(fmt)}).json()]
    before = [b["batch_id"] for b in api.get("/batches", params={"created_before": mid.strftime(fmt)}).json()]
    assert after == [b2]
    assert before == [b1]
    future = (mid + timedelta(days=1)).strftime(fmt)
    assert api.get("/batches", params={"created_after": future}).json() == []


def test_list_batches_empty(api):
    assert api.get("/batches").json() == []


# ---- DELETE /batch (stop) ---------------------------------------------------------


def test_stop_batch_cancels_non_terminal_tasks(api, mock):
    hold = api.hold()
    bid, ids = api.create_batch([api.task("parent", **hold.kw()),
                                 api.task("child", deps=["parent"], on_failure=[api.hook("/child-failed")])])
    assert api.pause(ids["parent"]["id"]).status_code == 200
    r = api.delete("/batch/" + bid)
    assert r.status_code == 200
    assert r.json() == {"batch_id": bid, "canceled_waiting": 1, "canceled_pending": 0, "canceled_claimed": 0,
                        "canceled_running": 0, "canceled_paused": 1, "already_terminal": 0}
    for t in ids.values():
        got = api.get_task(t["id"])
        assert got["status"] == "Canceled"
        assert got["failure_reason"] == "Batch stopped"
        assert got["ended_at"] is not None
    time.sleep(0.3)
    assert mock.count("/child-failed") == 0


def test_stop_batch_cancels_running_tasks(api, mock):
    mock.on("/start/r", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/r"), "verb": "Post"}})
    bid, ids = api.create_batch([api.task("r", on_failure=[api.hook("/r-failed")])])
    api.wait_status(ids["r"]["id"], "Running")
    r = api.delete("/batch/" + bid)
    assert r.status_code == 200
    body = r.json()
    assert body["canceled_running"] == 1
    assert body["already_terminal"] == 0
    assert api.status(ids["r"]["id"]) == "Canceled"
    hit = mock.wait_hits("/cancel/r", 1)[0]
    assert hit.header("X-Task-Trigger") == "cancel"
    time.sleep(0.4)
    assert mock.count("/cancel/r") == 1
    assert mock.count("/r-failed") == 0


def test_stop_batch_claimed(api, mock):
    mock.on("/start/c", delay=1.0)
    bid, ids = api.create_batch([api.task("c")])
    mock.wait_hits("/start/c", 1)
    body = api.delete("/batch/" + bid).json()
    assert body["canceled_claimed"] == 1
    time.sleep(1.2)
    assert api.status(ids["c"]["id"]) == "Canceled"


def test_stop_batch_already_terminal_count(api):
    hold = api.hold()
    bid, ids = api.create_batch([api.task("s"), api.task("f"), api.task("p", **hold.kw())])
    api.wait_status(ids["s"]["id"], "Running")
    api.wait_status(ids["f"]["id"], "Running")
    api.succeed(ids["s"]["id"])
    api.fail(ids["f"]["id"])
    body = api.delete("/batch/" + bid).json()
    assert body["already_terminal"] == 2
    assert body["canceled_pending"] == 1
    assert api.status(ids["s"]["id"]) == "Success"
    assert api.status(ids["f"]["id"]) == "Failure"
    again = api.delete("/batch/" + bid)
    assert again.status_code == 200
    assert again.json()["already_terminal"] == 3


def test_stop_batch_not_found(api):
    bid = str(uuid.uuid4())
    r = api.delete("/batch/" + bid)
    assert r.status_code == 404
    assert r.json() == {"error": "Not found: No tasks found for batch %s" % bid, "status": 404}


def test_stop_batch_leaves_other_batches(api):
    bid, _ = api.create_batch([api.task("a")])
    other = api.running("b")
    assert api.delete("/batch/" + bid).status_code == 200
    assert api.status(other["id"]) == "Running"


# ---- batch-complete webhook (object form) -----------------------------------------------


def test_on_batch_complete_fires_once(api, mock):
    body = {"tasks": [api.task("a"), api.task("b"), api.task("c", deps=["b"])],
            "on_batch_complete": [api.hook("/batch-done")]}
    r = api.create_raw(body)
    assert r.status_code == 201, r.text
    bid = r.headers["X-Batch-ID"]
    a, b, c = (t["id"] for t in r.json())
    api.wait_status(a, "Running")
    api.wait_status(b, "Running")
    api.succeed(a)
    time.sleep(0.3)
    assert mock.count("/batch-done") == 0
    api.fail(b)  # c fails with it: the batch is complete
    hit = mock.wait_hits("/batch-done", 1)[0]
    assert hit.header("Idempotency-Key") == "batch:%s:complete" % bid
    assert "handle" not in hit.params
    payload = hit.json()
    info = payload["arcrun"]
    assert info["batch_id"] == bid
    assert info["counts"] == {"success": 1, "failure": 2, "canceled": 0}
    assert TS_RE.match(info["completed_at"])
    time.sleep(0.5)
    assert mock.count("/batch-done") == 1


def test_on_batch_complete_after_stop(api, mock):
    r = api.create_raw({"tasks": [api.task("a")], "on_batch_complete": [api.hook("/batch-done")]})
    bid = r.headers["X-Batch-ID"]
    api.wait_status(r.json()[0]["id"], "Running")
    assert api.delete("/batch/" + bid).status_code == 200
    hit = mock.wait_hits("/batch-done", 1)[0]
    assert hit.header("Idempotency-Key") == "batch:%s:complete" % bid
    assert hit.json()["arcrun"]["counts"] == {"success": 0, "failure": 0, "canceled": 1}
