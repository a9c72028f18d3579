"""Outbox of end, cancel and batch-complete webhooks: each is written in the
transaction of the state change that causes it, then delivered at least
once, with a stable Idempotency-Key, exponential backoff, exhaustion,
start-before-end ordering,
body enrichment under "arcrun", GET /webhook-deliveries, the delivery record
of each action in GET /task/{id}, and HMAC signatures."""

import hashlib
import hmac
import re
import time

from harness import TS_RE, Behaviour, closed_port_url, parse_ts, stays, wait_for, webhook

# Retries a tenth of a second apart: every retry test ends well within 2 s.
FAST = {"WEBHOOK_RETRY_BACKOFF_BASE_SECS": "0.1", "WEBHOOK_RETRY_BACKOFF_CAP_SECS": "0.2"}

DELIVERY_KEYS = {"id", "idempotency_key", "event", "task_id", "batch_id", "url", "status", "attempts",
                 "max_attempts", "next_attempt_at", "last_attempt_at", "last_http_status", "last_error",
                 "created_at"}
ACTION_DELIVERY_KEYS = {"status", "attempts", "last_http_status", "last_error", "last_attempt_at"}
TASK_ENRICHMENT_KEYS = {"task_id", "batch_id", "status", "trigger", "attempt", "failure_reason", "success",
                        "failures", "ended_at"}

SECRET = "s3cret"
SIGNATURE_RE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


def keys_of(hits):
    return [h.header("Idempotency-Key") for h in hits]


def same_instant(a, b, tolerance=0.002):
    return abs(parse_ts(a) - parse_ts(b)) <= tolerance


# ---- retries, backoff, exhaustion -----------------------------------------------


def test_failing_end_webhook_retried_until_success(make_api, mock):
    api = make_api(**FAST)
    mock.on("/ok", Behaviour(status=500), Behaviour(status=503), Behaviour(status=200))
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    key = "%s:end:success" % t["id"]
    d = api.wait_delivery(key, "success", timeout=2.0)
    hits = mock.hits("/ok")
    assert keys_of(hits) == [key, key, key]
    assert (d["attempts"], d["last_http_status"], d["event"], d["task_id"]) == (3, 200, "end_success", t["id"])
    time.sleep(0.4)
    assert mock.count("/ok") == 3


def test_end_webhook_exhausted_after_max_attempts(make_api, mock):
    api = make_api(WEBHOOK_MAX_ATTEMPTS="3", **FAST)
    mock.on("/ko", status=500)
    t = api.running("a", on_failure=[api.hook("/ko")])
    api.fail(t["id"], "nope")
    key = "%s:end:failure" % t["id"]
    d = api.wait_delivery(key, "exhausted", timeout=2.0)
    assert keys_of(mock.hits("/ko")) == [key, key, key]
    assert (d["attempts"], d["max_attempts"], d["last_http_status"], d["event"]) == (3, 3, 500, "end_failure")
    assert d["last_error"]
    assert [x["idempotency_key"] for x in api.deliveries("exhausted")] == [key]
    assert api.deliveries("failure") == [] and api.deliveries("pending") == []
    action = api.actions(t["id"], "End", mock.url("/ko"))[0]
    rec = action["delivery"]
    assert set(rec) == ACTION_DELIVERY_KEYS
    assert (rec["status"], rec["attempts"], rec["last_http_status"]) == ("exhausted", 3, 500)
    assert rec["last_error"] and TS_RE.match(rec["last_attempt_at"])
    assert same_instant(rec["last_attempt_at"], d["last_attempt_at"])
    time.sleep(0.5)
    assert mock.count("/ko") == 3


def test_backoff_is_exponential_and_capped(make_api, mock):
    # nominal delays: 0.1, 0.2, then capped at 0.3 (instead of 0.4 and 0.8)
    api = make_api(WEBHOOK_MAX_ATTEMPTS="5", WEBHOOK_RETRY_BACKOFF_BASE_SECS="0.1",
                   WEBHOOK_RETRY_BACKOFF_CAP_SECS="0.3")
    mock.on("/ko", status=500)
    t = api.running("a", on_success=[api.hook("/ko")])
    api.succeed(t["id"])
    hits = mock.wait_hits("/ko", 5, timeout=2.5)
    gaps = [round(b.time - a.time, 3) for a, b in zip(hits, hits[1:])]
    assert gaps[0] >= 0.08, gaps
    assert gaps[1] >= 0.16, gaps          # doubled
    assert gaps[2] >= 0.24, gaps          # 0.4 capped at 0.3
    assert 0.24 <= gaps[3] < 0.6, gaps    # 0.8 capped at 0.3
    d = api.wait_delivery("%s:end:success" % t["id"], "exhausted", timeout=1.0)
    assert (d["attempts"], d["max_attempts"]) == (5, 5)
    time.sleep(0.5)
    assert mock.count("/ko") == 5


def test_hanging_receiver_is_a_failed_attempt(make_api, mock):
    api = make_api(WEBHOOK_TIMEOUT_MS="300", **FAST)
    mock.on("/ok", Behaviour(delay=1.5), Behaviour(delay=1.5), Behaviour())
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    key = "%s:end:success" % t["id"]
    d = api.wait_delivery(key, "success", timeout=2.5)
    hits = mock.hits("/ok")
    assert keys_of(hits) == [key, key, key]
    # each retry comes after the 300 ms timeout of the previous attempt
    assert all(b.time - a.time >= 0.28 for a, b in zip(hits, hits[1:])), [h.time for h in hits]
    assert d["attempts"] == 3


def test_hanging_receiver_exhausts(make_api, mock):
    api = make_api(WEBHOOK_TIMEOUT_MS="300", WEBHOOK_MAX_ATTEMPTS="2", **FAST)
    mock.on("/ok", delay=3.0)
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    d = api.wait_delivery("%s:end:success" % t["id"], "exhausted", timeout=2.0)
    assert mock.count("/ok") == 2
    assert d["attempts"] == 2
    assert d["last_http_status"] is None
    assert d["last_error"]


def test_redirect_is_a_failed_delivery(make_api, mock):
    api = make_api(WEBHOOK_MAX_ATTEMPTS="2", **FAST)
    mock.on("/ok", status=302, location=mock.url("/target"))
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    d = api.wait_delivery("%s:end:success" % t["id"], "exhausted", timeout=2.0)
    assert (d["attempts"], d["last_http_status"]) == (2, 302)
    assert mock.count("/ok") == 2
    time.sleep(0.2)
    assert mock.count("/target") == 0


def test_unreachable_receiver_is_a_failed_delivery(make_api, mock):
    api = make_api(WEBHOOK_MAX_ATTEMPTS="2", **FAST)
    url = closed_port_url("/gone")
    t = api.running("a", on_success=[webhook(url)])
    api.succeed(t["id"])
    d = api.wait_delivery("%s:end:success" % t["id"], "exhausted", timeout=2.0)
    assert d["attempts"] == 2
    assert d["last_http_status"] is None
    assert d["last_error"]
    assert d["url"].startswith(url)


def test_failed_delivery_listed_as_failure_until_retried(make_api, mock):
    api = make_api(WEBHOOK_RETRY_BACKOFF_BASE_SECS="30", WEBHOOK_RETRY_BACKOFF_CAP_SECS="30")
    mock.on("/ok", status=500)
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    key = "%s:end:success" % t["id"]
    mock.wait_hits("/ok", 1)
    d = api.wait_delivery(key, "failure", timeout=1.0)
    assert (d["attempts"], d["last_http_status"]) == (1, 500)
    assert d["last_error"]
    wait = parse_ts(d["next_attempt_at"]) - parse_ts(d["last_attempt_at"])
    assert 24 <= wait <= 36, d  # 30 s with a small jitter
    assert [x["idempotency_key"] for x in api.deliveries("failure")] == [key]
    assert api.deliveries("pending") == [] and api.deliveries("success") == []
    rec = api.actions(t["id"], "End")[0]["delivery"]
    assert (rec["status"], rec["attempts"], rec["last_http_status"]) == ("failure", 1, 500)
    stays(lambda: mock.count("/ok") == 1, 0.3, desc="no early retry")


def test_each_action_is_a_delivery_of_its_own(make_api, mock):
    api = make_api(**FAST)
    mock.on("/ok2", Behaviour(status=500), Behaviour())
    t = api.running("a", on_success=[api.hook("/ok1"), api.hook("/ok2"), api.hook("/ok3")])
    api.succeed(t["id"])
    base = "%s:end:success" % t["id"]
    for key in (base, base + ":1", base + ":2"):
        api.wait_delivery(key, "success", timeout=2.0)
    assert keys_of(mock.hits("/ok1")) == [base]
    assert keys_of(mock.hits("/ok2")) == [base + ":1", base + ":1"]
    assert keys_of(mock.hits("/ok3")) == [base + ":2"]
    assert sorted(d["event"] for d in api.deliveries()) == ["end_success"] * 3


# ---- ordering -----------------------------------------------------------------------


def test_end_webhook_waits_for_start_webhook(api, mock):
    mock.on("/start/a", delay=0.8)
    t = api.create([api.task("a", on_success=[api.hook("/ok")])])[0]
    start = mock.wait_hits("/start/a", 1)[0]
    assert api.status(t["id"]) == "Claimed"
    api.succeed(t["id"])  # the PATCH arrives while on_start is still in flight
    assert api.status(t["id"]) == "Success"
    key = "%s:end:success" % t["id"]
    waiting = [d for d in api.deliveries("pending") if d["idempotency_key"] == key]
    assert len(waiting) == 1, api.deliveries()
    assert (waiting[0]["attempts"], waiting[0]["last_attempt_at"]) == (0, None)
    end = mock.wait_hits("/ok", 1, timeout=2.0)[0]
    assert end.time - start.time >= 0.75
    api.wait_delivery(key, "success", timeout=1.0)


# ---- enrichment -------------------------------------------------------------------------


def test_end_body_enriched(api, mock):
    bid, ids = api.create_batch([api.task("a", on_success=[api.hook("/ok", body={"msg": "done", "n": 1})])])
    tid = ids["a"]["id"]
    api.wait_status(tid, "Running")
    api.succeed(tid, new_success=5, new_failures=2)
    hit = mock.wait_hits("/ok", 1)[0]
    assert hit.header("Content-Type").startswith("application/json")
    body = hit.json()
    info = body.pop("arcrun")
    assert body == {"msg": "done", "n": 1}
    assert set(info) == TASK_ENRICHMENT_KEYS
    t = api.get_task(tid)
    assert same_instant(info.pop("ended_at"), t["ended_at"])
    assert info == {"task_id": tid, "batch_id": bid, "status": "Success", "trigger": "end", "attempt": 1,
                    "failure_reason": None, "success": 5, "failures": 2}


def test_absent_body_becomes_arcrun_object(api, mock):
    t = api.running("a", on_failure=[api.hook("/ko")])
    api.fail(t["id"], "nope")
    hit = mock.wait_hits("/ko", 1)[0]
    assert hit.header("Content-Type").startswith("application/json")
    body = hit.json()
    assert list(body) == ["arcrun"]
    info = body["arcrun"]
    assert set(info) == TASK_ENRICHMENT_KEYS
    assert (info["task_id"], info["batch_id"], info["status"], info["trigger"], info["failure_reason"]) == \
        (t["id"], t["batch_id"], "Failure", "end", "nope")
    assert TS_RE.match(info["ended_at"])


def test_non_object_body_sent_unchanged(api, mock):
    t = api.running("a", on_success=[api.hook("/list", body=[1, "two", {"three": 3}]),
                                      api.hook("/text", body="plain")])
    api.succeed(t["id"])
    assert mock.wait_hits("/list", 1)[0].json() == [1, "two", {"three": 3}]
    assert mock.wait_hits("/text", 1)[0].json() == "plain"


def test_cancel_webhook_enriched_and_delivered_once(api, mock):
    mock.on("/start/a", json={"kind": "Webhook",
                              "params": {"url": mock.url("/cancel/a"), "verb": "Post", "body": {"why": "stop"}}})
    t = api.running("a")
    assert api.cancel(t["id"]).status_code == 200
    hit = mock.wait_hits("/cancel/a", 1)[0]
    key = "%s:cancel" % t["id"]
    assert hit.header("Idempotency-Key") == key
    assert hit.header("Content-Type").startswith("application/json")
    body = hit.json()
    info = body.pop("arcrun")
    assert body == {"why": "stop"}
    got = api.get_task(t["id"])
    assert (info["task_id"], info["batch_id"], info["status"], info["trigger"], info["attempt"]) == \
        (t["id"], t["batch_id"], "Canceled", "cancel", 1)
    assert info["failure_reason"] == got["failure_reason"]
    d = api.wait_delivery(key, "success", timeout=1.0)
    assert (d["event"], d["task_id"], d["attempts"]) == ("cancel", t["id"], 1)
    rec = api.actions(t["id"], "Cancel")[0]["delivery"]
    assert (rec["status"], rec["attempts"], rec["last_http_status"]) == ("success", 1, 200)
    time.sleep(0.3)
    assert mock.count("/cancel/a") == 1


# ---- batch complete ------------------------------------------------------------------------


def test_batch_complete_one_delivery_per_action(api, mock):
    r = api.create_raw({"tasks": [api.task("a"), api.task("b")],
                        "on_batch_complete": [api.hook("/done1", body={"team": "x"}), api.hook("/done2", verb="Put")]})
    assert r.status_code == 201, r.text
    bid = r.headers["X-Batch-ID"]
    a, b = (t["id"] for t in r.json())
    api.wait_status(a, "Running")
    api.wait_status(b, "Running")
    api.succeed(a)
    time.sleep(0.2)
    assert mock.count("/done1") + mock.count("/done2") == 0
    assert api.cancel(b).status_code == 200
    h1 = mock.wait_hits("/done1", 1)[0]
    h2 = mock.wait_hits("/done2", 1)[0]
    assert h1.header("Idempotency-Key") == "batch:%s:complete" % bid
    assert h2.header("Idempotency-Key") == "batch:%s:complete:1" % bid
    assert (h1.method, h2.method) == ("POST", "PUT")
    assert "handle" not in h1.params and "handle" not in h2.params
    expected_info = {"batch_id": bid, "counts": {"success": 1, "failure": 0, "canceled": 1}}
    b1, b2 = h1.json(), h2.json()
    info1, info2 = b1.pop("arcrun"), b2.pop("arcrun")
    assert b1 == {"team": "x"} and b2 == {}
    for info in (info1, info2):
        assert set(info) == {"batch_id", "counts", "completed_at"}
        assert {k: info[k] for k in ("batch_id", "counts")} == expected_info
        assert parse_ts(info["completed_at"]) >= parse_ts(api.get_task(b)["ended_at"]) - 0.002
    rows = [d for d in api.deliveries() if d["event"] == "batch_complete"]
    assert sorted(d["idempotency_key"] for d in rows) == ["batch:%s:complete" % bid, "batch:%s:complete:1" % bid]
    assert all(d["task_id"] is None and d["batch_id"] == bid for d in rows)
    time.sleep(0.4)
    assert (mock.count("/done1"), mock.count("/done2")) == (1, 1)


def test_batch_complete_retried_with_the_same_key(make_api, mock):
    api = make_api(**FAST)
    mock.on("/done", Behaviour(status=500), Behaviour())
    r = api.create_raw({"tasks": [api.task("a")], "on_batch_complete": [api.hook("/done")]})
    bid = r.headers["X-Batch-ID"]
    tid = r.json()[0]["id"]
    api.wait_status(tid, "Running")
    api.fail(tid)
    key = "batch:%s:complete" % bid
    d = api.wait_delivery(key, "success", timeout=2.0)
    assert keys_of(mock.hits("/done")) == [key, key]
    assert (d["attempts"], d["event"]) == (2, "batch_complete")
    assert mock.hits("/done")[1].json()["arcrun"]["counts"] == {"success": 0, "failure": 1, "canceled": 0}


# ---- GET /webhook-deliveries ---------------------------------------------------------------


def test_delivery_row_shape(api, mock):
    r = api.create_raw({"tasks": [api.task("a", on_success=[api.hook("/ok")])],
                        "on_batch_complete": [api.hook("/done")]})
    bid = r.headers["X-Batch-ID"]
    tid = r.json()[0]["id"]
    api.wait_status(tid, "Running")
    api.succeed(tid)
    d = api.wait_delivery("%s:end:success" % tid, "success")
    bd = api.wait_delivery("batch:%s:complete" % bid, "success")
    for row in (d, bd):
        assert set(row) == DELIVERY_KEYS, row
        assert (row["attempts"], row["max_attempts"], row["last_http_status"]) == (1, 10, 200)
        assert TS_RE.match(row["created_at"]) and TS_RE.match(row["last_attempt_at"])
        assert parse_ts(row["last_attempt_at"]) >= parse_ts(row["created_at"]) - 0.002
    assert (d["event"], d["task_id"], d["batch_id"]) == ("end_success", tid, bid)
    assert d["url"].startswith(mock.url("/ok"))
    assert (bd["event"], bd["task_id"], bd["batch_id"]) == ("batch_complete", None, bid)
    assert bd["url"] == mock.url("/done")
    assert d["id"] != bd["id"]


def test_deliveries_newest_first_and_paginated(api, mock):
    ids = []
    for i in range(3):
        t = api.running("t%d" % i, on_success=[api.hook("/ok")])
        api.succeed(t["id"])
        mock.wait_hits("/ok", i + 1)
        ids.append(t["id"])
        time.sleep(0.01)
    rows = api.get("/webhook-deliveries").json()
    assert [d["task_id"] for d in rows] == ids[::-1]
    page0 = api.get("/webhook-deliveries", params={"page": 0, "page_size": 2}).json()
    page1 = api.get("/webhook-deliveries", params={"page": 1, "page_size": 2}).json()
    assert [d["task_id"] for d in page0] == [ids[2], ids[1]]
    assert [d["task_id"] for d in page1] == [ids[0]]
    assert api.get("/webhook-deliveries", params={"page": 5, "page_size": 2}).json() == []
    wait_for(lambda: len(api.deliveries("success")) == 3, desc="three successful deliveries")
    ok = api.get("/webhook-deliveries", params={"status": "success", "page_size": 1}).json()
    assert [d["task_id"] for d in ok] == [ids[2]]


def test_deliveries_unknown_status_is_400(api):
    for bad in ("bogus", "delivering"):
        r = api.get("/webhook-deliveries", params={"status": bad})
        assert r.status_code == 400, (bad, r.status_code, r.text)
        assert bad in r.text  # the answer names the bad value


# ---- delivery record of each action (GET /task/{id}) -----------------------------------------


def test_action_delivery_records(make_api, mock):
    api = make_api(**FAST)
    hold = api.hold()
    mock.on("/ok", Behaviour(status=500), Behaviour())
    t = api.create([api.task("a", on_success=[api.hook("/ok")], on_failure=[api.hook("/ko")], **hold.kw())])[0]
    actions = api.get_task(t["id"])["actions"]
    assert len(actions) == 3
    assert [a["delivery"] for a in actions] == [None, None, None]
    hold.release()
    api.wait_status(t["id"], "Running")
    start = api.actions(t["id"], "Start")[0]["delivery"]
    assert set(start) == ACTION_DELIVERY_KEYS
    assert (start["status"], start["attempts"], start["last_http_status"], start["last_error"]) == \
        ("success", 1, 200, None)
    assert TS_RE.match(start["last_attempt_at"])
    api.succeed(t["id"])
    api.wait_delivery("%s:end:success" % t["id"], "success", timeout=2.0)
    ok = api.actions(t["id"], "End", mock.url("/ok"))[0]["delivery"]
    assert (ok["status"], ok["attempts"], ok["last_http_status"]) == ("success", 2, 200)
    assert parse_ts(ok["last_attempt_at"]) >= parse_ts(start["last_attempt_at"])
    assert api.actions(t["id"], "End", mock.url("/ko"))[0]["delivery"] is None


def test_failed_start_action_delivery_record(api, mock):
    mock.on("/start/a", status=500)
    t = api.create([api.task("a")])[0]
    api.wait_status(t["id"], "Failure")
    rec = api.actions(t["id"], "Start")[0]["delivery"]
    assert (rec["status"], rec["attempts"], rec["last_http_status"]) == ("failure", 1, 500)
    assert rec["last_error"]


# ---- signatures ---------------------------------------------------------------------------------


def check_signature(hit, secret=SECRET):
    sig = hit.header("X-Weft-Signature")
    assert sig, "no X-Weft-Signature on %s %s" % (hit.method, hit.path)
    m = SIGNATURE_RE.match(sig)
    assert m, sig
    ts = m.group(1)
    expected = hmac.new(secret.encode(), ts.encode() + b"." + hit.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(m.group(2), expected), (hit.path, sig, hit.body[:200])
    assert abs(int(ts) - time.time()) < 60, ts


def test_every_webhook_is_signed(make_api, mock):
    api = make_api(WEBHOOK_SIGNING_SECRET=SECRET)
    mock.on("/start/c", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/c"), "verb": "Post"}})
    starting = api.task("s", on_success=[api.hook("/ok", body={"x": "é"})])
    starting["on_start"]["params"]["body"] = {"hello": [1, 2]}
    r = api.create_raw({"tasks": [starting, api.task("c"), api.task("f", on_failure=[api.hook("/ko")])],
                        "on_batch_complete": [api.hook("/done")]})
    assert r.status_code == 201, r.text
    s, c, f = (t["id"] for t in r.json())
    for tid in (s, c, f):
        api.wait_status(tid, "Running")
    api.succeed(s)
    assert api.cancel(c).status_code == 200
    api.fail(f)
    for path in ("/start/s", "/start/c", "/start/f", "/ok", "/cancel/c", "/ko", "/done"):
        hit = mock.wait_hits(path, 1)[0]
        check_signature(hit)
    assert mock.hits("/start/c")[0].body == b""          # signed over "<t>."
    assert mock.hits("/start/s")[0].json() == {"hello": [1, 2]}


def test_no_signature_without_secret(api, mock):
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"])
    for hit in (mock.hits("/start/a")[0], mock.wait_hits("/ok", 1)[0]):
        assert hit.header("X-Weft-Signature") is None
