"""Inactivity timeouts of Running tasks. The server's clock is moved forward
(api.advance) instead of waiting for the timeouts."""

import time

from harness import metric


def test_timeout_fails_task_and_fires_on_failure(api, mock):
    created = api.create([api.task("a", timeout=1, on_failure=[api.hook("/a-failed")]),
                          api.task("child", deps=["a"], on_failure=[api.hook("/child-failed")]),
                          api.task("opt", deps=[("a", False)])])
    a, child, opt = (t["id"] for t in created)
    api.wait_status(a, "Running")
    api.advance(0.5)
    assert api.status(a) == "Running"
    api.advance(0.6)
    got = api.get_task(a)
    assert (got["status"], got["failure_reason"]) == ("Failure", "Timeout")
    assert got["ended_at"] is not None
    hit = mock.wait_hits("/a-failed", 1)[0]
    assert hit.header("Idempotency-Key") == "%s:end:failure" % a
    c = api.wait_status(child, "Failure")
    assert c["failure_reason"] == "Required parent task %s failed" % a
    mock.wait_hits("/child-failed", 1)
    api.wait_status(opt, "Running")
    samples = api.metrics()
    assert metric(samples, "tasks_timed_out_total") == 1
    time.sleep(0.3)
    assert mock.count("/a-failed") == 1


def test_heartbeats_keep_task_alive(api, mock):
    hold = api.hold()
    created = api.create([api.task("p", timeout=1),
                          api.task("waiting", timeout=1, deps=["p"]),
                          api.task("paused", timeout=1, deps=["p"]),
                          api.task("pending", timeout=1, **hold.kw())])
    p, waiting, paused, pending = (t["id"] for t in created)
    assert api.pause(paused).status_code == 200
    api.wait_status(p, "Running")
    for n in range(5):
        if n % 2:
            assert api.counters(p, 1).status_code == 202
        else:
            assert api.patch_task(p, {"new_failures": 1}).status_code == 200
        api.advance(0.6)
        assert api.status(p) == "Running"
    assert api.status(waiting) == "Waiting"
    assert api.status(paused) == "Paused"
    assert api.status(pending) == "Pending"
    # without heartbeats it times out: the deadline moved with each one
    api.advance(0.5)
    got = api.get_task(p)
    assert (got["status"], got["failure_reason"]) == ("Failure", "Timeout")


def test_metadata_patch_is_a_heartbeat(api):
    t = api.running("a", timeout=1)
    for i in range(4):
        api.advance(0.6)
        assert api.patch_task(t["id"], {"metadata": {"beat": i}}).status_code == 200
    assert api.status(t["id"]) == "Running"
    api.advance(1.1)
    assert api.status(t["id"]) == "Failure"


def test_timeout_does_not_touch_success(api):
    t = api.running("a", timeout=1)
    api.succeed(t["id"])
    api.advance(1.3)
    got = api.get_task(t["id"])
    assert got["status"] == "Success" and got["failure_reason"] is None


def test_timeout_cascades_dead_end(api):
    created = api.create([api.task("slow", timeout=1), api.task("other"),
                          api.task("join", deps=["slow", "other"])])
    slow, other, join = (t["id"] for t in created)
    api.wait_status(other, "Running")
    api.wait_status(slow, "Running")
    api.advance(1.1)
    assert api.status(slow) == "Failure"
    api.wait_status(join, "Failure")
    assert "All child tasks already terminated" in api.wait_status(other, "Canceled")["failure_reason"]


def test_timeout_calls_cancel_webhook_and_on_failure(api, mock):
    mock.on("/start/a", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/a"), "verb": "Post",
                                                              "body": {"job": 7}}})
    t = api.running("a", timeout=1, on_failure=[api.hook("/a-failed")])
    api.advance(1.1)
    got = api.get_task(t["id"])
    assert (got["status"], got["failure_reason"]) == ("Failure", "Timeout")
    cancel = mock.wait_hits("/cancel/a", 1)[0]
    assert cancel.header("Idempotency-Key") == "%s:cancel" % t["id"]
    assert cancel.header("X-Task-Trigger") == "cancel"
    body = cancel.json()
    assert body["job"] == 7
    assert (body["arcrun"]["task_id"], body["arcrun"]["status"], body["arcrun"]["failure_reason"]) == \
        (t["id"], "Failure", "Timeout")
    end = mock.wait_hits("/a-failed", 1)[0]
    assert end.header("Idempotency-Key") == "%s:end:failure" % t["id"]
    assert end.json()["arcrun"]["failure_reason"] == "Timeout"
    time.sleep(0.3)
    assert (mock.count("/cancel/a"), mock.count("/a-failed")) == (1, 1)
