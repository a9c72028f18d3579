"""Outgoing webhooks: start, end and cancel calls, their requests, what the
start call's answer does, parallel starts, and stale claims."""

import time
import urllib.parse

from harness import Behaviour, closed_port_url, metric


def handle_of(api, task_id):
    return "%s/task/%s" % (api.server.host_url, task_id)


# ---- on_start ------------------------------------------------------------------


def test_start_loop_e2e_happy_path(api, mock):
    t = api.create([api.task("a")])[0]
    api.wait_status(t["id"], "Running")
    assert mock.count("/start/a") == 1


def test_tasks_start_without_waiting_for_a_tick(make_api, mock):
    # the safety sweep is far away: starting must be driven by the commit
    api = make_api(WORKER_LOOP_INTERVAL_MS="60000")
    created = api.create([api.task("a"), api.task("b", deps=["a"])])
    t0 = time.monotonic()
    api.wait_status(created[0]["id"], "Running", timeout=1.0)
    api.succeed(created[0]["id"])
    api.wait_status(created[1]["id"], "Running", timeout=1.0)
    assert time.monotonic() - t0 < 1.5


def test_webhook_receives_handle_query_param(api, mock):
    t = api.running("a")
    hit = mock.hits("/start/a")[0]
    expected = handle_of(api, t["id"])
    assert hit.params["handle"] == [expected]
    # percent-encoded (hex digits compared case-insensitively, RFC 3986 §2.1)
    assert ("handle=" + urllib.parse.quote(expected, safe="")).lower() in hit.query.lower()
    assert hit.header("X-Task-Id") == t["id"]
    assert hit.header("X-Task-Trigger") == "start"
    assert hit.header("Idempotency-Key") == "%s:start" % t["id"]
    assert hit.method == "POST"
    assert hit.body == b""


def test_handle_appended_after_existing_query(api, mock):
    t = api.create([api.task("a", start=mock.url("/start/a?x=1&y=two"))])[0]
    api.wait_status(t["id"], "Running")
    hit = mock.hits("/start/a")[0]
    assert hit.query.startswith("x=1&y=two&handle=")
    assert hit.params["x"] == ["1"] and hit.params["handle"] == [handle_of(api, t["id"])]


def test_webhook_custom_headers_and_body(api, mock):
    t = api.task("a")
    t["on_start"]["params"].update({"headers": {"X-Custom": "header", "Authorization": "Bearer abc"},
                                    "body": {"hello": "world", "n": [1, 2, 3]}})
    created = api.create([t])[0]
    api.wait_status(created["id"], "Running")
    hit = mock.hits("/start/a")[0]
    assert hit.header("X-Custom") == "header"
    assert hit.header("Authorization") == "Bearer abc"
    assert hit.header("Content-Type").startswith("application/json")
    assert hit.json() == {"hello": "world", "n": [1, 2, 3]}


def test_webhook_verbs(api, mock):
    verbs = ["Get", "Put", "Patch", "Delete", "Post"]
    tasks = []
    for v in verbs:
        t = api.task(v)
        t["on_start"]["params"]["verb"] = v
        tasks.append(t)
    created = api.create(tasks)
    for c in created:
        api.wait_status(c["id"], "Running")
    for v in verbs:
        assert mock.hits("/start/" + v)[0].method == v.upper()


def test_webhook_500_triggers_failure(api, mock):
    mock.on("/start/a", status=500)
    created = api.create([api.task("a", on_failure=[api.hook("/a-failed")]), api.task("c", deps=["a"])])
    got = api.wait_status(created[0]["id"], "Failure")
    assert "on_start" in got["failure_reason"]
    assert got["ended_at"] is not None
    api.wait_status(created[1]["id"], "Failure")
    hit = mock.wait_hits("/a-failed", 1)[0]
    assert hit.header("X-Task-Trigger") == "end"
    assert hit.header("Idempotency-Key") == "%s:end:failure" % created[0]["id"]


def test_webhook_4xx_triggers_failure(api, mock):
    mock.on("/start/a", status=404)
    t = api.create([api.task("a")])[0]
    assert "on_start" in api.wait_status(t["id"], "Failure")["failure_reason"]


def test_webhook_redirect_rejected(api, mock):
    mock.on("/start/a", status=302, location=mock.url("/redirected"))
    t = api.create([api.task("a")])[0]
    got = api.wait_status(t["id"], "Failure")
    assert "on_start" in got["failure_reason"]
    time.sleep(0.2)
    assert mock.count("/redirected") == 0


def test_unreachable_on_start_fails(api):
    t = api.create([api.task("a", start=closed_port_url())])[0]
    got = api.wait_status(t["id"], "Failure")
    assert "on_start" in got["failure_reason"]


def test_on_start_timeout_fails(make_api, mock):
    api = make_api(WEBHOOK_TIMEOUT_MS="500")
    mock.on("/start/a", delay=2.0)
    t = api.create([api.task("a")])[0]
    got = api.wait_status(t["id"], "Failure", timeout=2.0)
    assert "on_start" in got["failure_reason"]


def test_on_start_called_exactly_once(api, mock):
    created = api.create([api.task("a"), api.task("b")])
    for t in created:
        api.wait_status(t["id"], "Running")
    time.sleep(0.5)
    assert mock.count("/start/a") == 1 and mock.count("/start/b") == 1


def test_cancel_action_registered_from_on_start_response(api, mock):
    mock.on("/start/a", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/a"), "verb": "Delete"}})
    t = api.running("a")
    cancels = [a for a in api.get_task(t["id"])["actions"] if a["trigger"] == "Cancel"]
    assert cancels == [{"kind": "Webhook", "trigger": "Cancel",
                        "params": {"url": mock.url("/cancel/a"), "verb": "Delete"}, "delivery": None}]


def test_non_action_response_body_is_ignored(api, mock):
    mock.on("/start/a", json={"ok": True, "job": 12})
    t = api.running("a")
    assert [a["trigger"] for a in api.get_task(t["id"])["actions"]] == ["Start"]


def test_invalid_json_response_body_is_ignored(api, mock):
    mock.on("/start/a", body=b"<html>ok</html>", headers={"Content-Type": "text/html"})
    t = api.running("a")
    assert api.actions(t["id"], "Cancel") == []


# ---- end webhooks ----------------------------------------------------------------


def test_on_success_webhook_fires(api, mock):
    t = api.running("a", on_success=[api.hook("/ok", headers={"X-H": "1"})], on_failure=[api.hook("/ko")])
    api.succeed(t["id"])
    hit = mock.wait_hits("/ok", 1)[0]
    assert hit.header("X-Task-Trigger") == "end"
    assert hit.header("Idempotency-Key") == "%s:end:success" % t["id"]
    assert hit.header("X-Task-Id") == t["id"]
    assert hit.header("X-H") == "1"
    assert hit.params["handle"] == [handle_of(api, t["id"])]
    time.sleep(0.4)
    assert mock.count("/ok") == 1
    assert mock.count("/ko") == 0


def test_on_failure_webhook_fires_on_explicit_failure(api, mock):
    t = api.running("a", on_success=[api.hook("/ok")], on_failure=[api.hook("/ko")])
    api.fail(t["id"], "nope")
    hit = mock.wait_hits("/ko", 1)[0]
    assert hit.header("X-Task-Trigger") == "end"
    assert hit.header("Idempotency-Key") == "%s:end:failure" % t["id"]
    time.sleep(0.4)
    assert mock.count("/ko") == 1
    assert mock.count("/ok") == 0


def test_several_end_actions_all_fire(api, mock):
    t = api.running("a", on_success=[api.hook("/ok1"), api.hook("/ok2", verb="Put")])
    api.succeed(t["id"])
    mock.wait_hits("/ok1", 1)
    assert mock.wait_hits("/ok2", 1)[0].method == "PUT"


def test_end_webhook_body_forwarded(api, mock):
    t = api.running("a", on_success=[api.hook("/ok", body={"msg": "done"})])
    api.succeed(t["id"])
    body = mock.wait_hits("/ok", 1)[0].json()
    assert body["msg"] == "done"


def test_webhook_deliveries_endpoint(api, mock):
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    mock.wait_hits("/ok", 1)
    r = api.get("/webhook-deliveries")
    assert r.status_code == 200
    rows = r.json()
    assert isinstance(rows, list)
    assert [(d["idempotency_key"], d["event"], d["task_id"]) for d in rows] == \
        [("%s:end:success" % t["id"], "end_success", t["id"])]
    api.wait_delivery("%s:end:success" % t["id"], "success", timeout=1.0)
    ok = api.get("/webhook-deliveries", params={"status": "success"})
    assert ok.status_code == 200
    assert [d["task_id"] for d in ok.json()] == [t["id"]]
    for status in ("pending", "failure", "exhausted"):
        r = api.get("/webhook-deliveries", params={"status": status})
        assert (r.status_code, r.json()) == (200, []), status
    bogus = api.get("/webhook-deliveries", params={"status": "bogus"})
    assert bogus.status_code == 400
    assert "bogus" in bogus.text


def test_end_webhook_retried_after_failure(make_api, mock):
    api = make_api(WEBHOOK_RETRY_BACKOFF_BASE_SECS="0.2", WEBHOOK_RETRY_BACKOFF_CAP_SECS="0.2")
    mock.on("/ok", Behaviour(status=500), Behaviour(status=200))
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    hits = mock.wait_hits("/ok", 2, timeout=2.0)
    assert {h.header("Idempotency-Key") for h in hits} == {"%s:end:success" % t["id"]}
    assert hits[1].time - hits[0].time >= 0.15
    time.sleep(0.5)
    assert mock.count("/ok") == 2


def test_end_webhooks_do_not_block_patch(api, mock):
    # end webhooks go through the outbox: a slow receiver does not hold the PATCH
    mock.on("/slow-ok", delay=2.0)
    t = api.running("a", on_success=[api.hook("/slow-ok")])
    t0 = time.monotonic()
    api.succeed(t["id"])
    assert time.monotonic() - t0 < 1.0
    mock.wait_hits("/slow-ok", 1)


def test_cascade_on_failure_webhooks(api, mock):
    created = api.create([api.task("p", on_failure=[api.hook("/p-failed")]),
                          api.task("c1", deps=["p"], on_failure=[api.hook("/c1-failed")]),
                          api.task("c2", deps=["c1"], on_failure=[api.hook("/c2-failed")])])
    api.wait_status(created[0]["id"], "Running")
    api.fail(created[0]["id"])
    for path, tid in (("/p-failed", created[0]["id"]), ("/c1-failed", created[1]["id"]),
                      ("/c2-failed", created[2]["id"])):
        hit = mock.wait_hits(path, 1)[0]
        assert hit.header("X-Task-Id") == tid
        assert hit.header("Idempotency-Key") == "%s:end:failure" % tid


# ---- parallel starts ----------------------------------------------------------------


def test_parallel_webhooks_all_tasks_started(api, mock):
    created = api.create([api.task("t%d" % i, start="/start") for i in range(3)])
    for t in created:
        api.wait_status(t["id"], "Running")
    assert mock.count("/start") == 3
    assert {h.header("X-Task-Id") for h in mock.hits("/start")} == {t["id"] for t in created}


def test_parallel_webhooks_failure_isolation(api, mock):
    mock.on("/start/bad", status=500)
    created = api.create([api.task("bad"), api.task("good")])
    api.wait_status(created[0]["id"], "Failure")
    api.wait_status(created[1]["id"], "Running")


def test_parallel_webhooks_slow_does_not_block_fast(api, mock):
    mock.on("/start/slow", delay=2.0)
    slow = api.create([api.task("slow")])[0]
    mock.wait_hits("/start/slow", 1)
    t0 = time.monotonic()
    fast = api.create([api.task("fast")])[0]
    api.wait_status(fast["id"], "Running", timeout=0.5)
    assert time.monotonic() - t0 < 0.5
    assert api.status(slow["id"]) == "Claimed"
    api.wait_status(slow["id"], "Running", timeout=3.0)


def test_webhook_concurrency_one_still_works(make_api, mock):
    api = make_api(WORKER_WEBHOOK_CONCURRENCY="1")
    created = api.create([api.task("a"), api.task("b"), api.task("c")])
    for t in created:
        api.wait_status(t["id"], "Running")
    assert sum(mock.count("/start/" + k) for k in "abc") == 3


def test_many_parallel_starts(api, mock):
    mock.on("/start", delay=0.3)
    created = api.create([api.task("t%d" % i, start="/start") for i in range(20)])
    # with 10 starts in flight at a time, 20 slow starts take about 0.6 s
    for t in created:
        api.wait_status(t["id"], "Running", timeout=3.0)
    assert mock.count("/start") == 20
    samples = api.metrics()
    assert metric(samples, "webhook_executions_total", trigger="start", outcome="success") >= 20


def test_timeout_triggers_cancel_webhook(api, mock):
    mock.on("/start/a", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/a"), "verb": "Post"}})
    t = api.running("a", timeout=1, on_failure=[api.hook("/a-failed")])
    api.advance(1.1)
    got = api.get_task(t["id"])
    assert (got["status"], got["failure_reason"]) == ("Failure", "Timeout")
    hit = mock.wait_hits("/cancel/a", 1)[0]
    assert hit.header("X-Task-Trigger") == "cancel"
    mock.wait_hits("/a-failed", 1)


# ---- stale claims ------------------------------------------------------------------


def test_stale_claim_requeued_and_started_again(make_api, mock):
    api = make_api(WORKER_CLAIM_TIMEOUT_SECS="1")
    mock.on("/start/a", Behaviour(delay=2.5), Behaviour())
    t = api.create([api.task("a")])[0]
    mock.wait_hits("/start/a", 1)
    assert api.status(t["id"]) == "Claimed"
    api.wait_status(t["id"], "Running", timeout=2.5)
    hits = mock.hits("/start/a")
    assert len(hits) == 2
    assert {h.header("Idempotency-Key") for h in hits} == {"%s:start" % t["id"]}
    assert metric(api.metrics(), "task_status_transitions_total", from_status="Claimed", to_status="Pending") == 1


def test_recent_claim_not_requeued(api, mock):
    mock.on("/start/a", delay=1.2)
    t = api.create([api.task("a")])[0]
    mock.wait_hits("/start/a", 1)
    api.stays_status(t["id"], "Claimed", 0.8)
    api.wait_status(t["id"], "Running", timeout=2.0)
    assert mock.count("/start/a") == 1
