"""Status changes through the API: PATCH /task/{id}, DELETE /task/{id},
PATCH /task/pause/{id}, PATCH /task/resume/{id}: which transitions each
allows, the answers to the others, and the webhooks they fire."""

import time
import uuid

from harness import TS_RE, parse_ts, stays


def assert_conflict(r, current):
    assert r.status_code == 409, "expected 409, got %d: %s" % (r.status_code, r.text)
    body = r.json()
    assert body["current_status"] == current, body
    assert "error" in body
    assert body.get("status", 409) == 409


def assert_not_found(r):
    assert r.status_code == 404, "expected 404, got %d: %s" % (r.status_code, r.text)
    body = r.json()
    assert body["status"] == 404
    assert isinstance(body["error"], str) and body["error"]


# ---- PATCH -------------------------------------------------------------------


def test_update_task_status_via_api(api):
    t = api.running("a")
    r = api.patch_task(t["id"], {"status": "Success"})
    assert r.status_code == 200
    assert "Task updated successfully" in r.text
    got = api.get_task(t["id"])
    assert got["status"] == "Success"
    assert TS_RE.match(got["ended_at"])
    assert got["failure_reason"] is None


def test_update_task_with_failure_reason(api):
    t = api.running("a")
    api.fail(t["id"], "disk full")
    got = api.get_task(t["id"])
    assert got["status"] == "Failure"
    assert got["failure_reason"] == "disk full"
    assert got["ended_at"] is not None


def test_failure_with_empty_reason_allowed(api):
    t = api.running("a")
    assert api.patch_task(t["id"], {"status": "Failure", "failure_reason": ""}).status_code == 200
    assert api.get_task(t["id"])["failure_reason"] == ""


def test_success_keeps_failure_reason_if_given(api):
    t = api.running("a")
    api.succeed(t["id"], failure_reason="partial")
    got = api.get_task(t["id"])
    assert got["status"] == "Success" and got["failure_reason"] == "partial"


def test_patch_with_status_applies_all_fields(api):
    t = api.running("a")
    api.succeed(t["id"], new_success=10, new_failures=2, metadata={"done": True}, expected_count=12, priority=7)
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"], got["metadata"], got["expected_count"], got["priority"]) == \
        (10, 2, {"done": True}, 12, 7)


def test_metadata_only_update(api):
    t = api.running("a", metadata={"a": 1, "b": 2})
    before = api.get_task(t["id"])
    time.sleep(0.01)
    r = api.patch_task(t["id"], {"metadata": {"c": 3}, "failure_reason": "ignored"})
    assert r.status_code == 200
    got = api.get_task(t["id"])
    assert got["status"] == "Running"
    assert got["metadata"] == {"c": 3}  # replaced, not merged
    assert got["failure_reason"] is None
    assert parse_ts(got["last_updated"]) >= parse_ts(before["last_updated"])
    assert got["ended_at"] is None


def test_counter_only_patch(api):
    t = api.running("a")
    assert api.patch_task(t["id"], {"new_success": 3}).status_code == 200
    assert api.patch_task(t["id"], {"new_success": 2, "new_failures": 1}).status_code == 200
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"], got["status"]) == (5, 1, "Running")


def test_patch_unknown_id_404(api):
    assert_not_found(api.patch_task(str(uuid.uuid4()), {"status": "Success"}))
    assert_not_found(api.patch_task(str(uuid.uuid4()), {"new_success": 1}))


def test_patch_pending_task_409(api):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    assert_conflict(api.patch_task(t["id"], {"status": "Success"}), "Pending")
    assert_conflict(api.patch_task(t["id"], {"new_success": 1}), "Pending")
    got = api.get_task(t["id"])
    assert got["status"] == "Pending" and got["success"] == 0


def test_patch_waiting_task_409(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    assert_conflict(api.patch_task(created[1]["id"], {"status": "Success"}), "Waiting")
    assert api.status(created[1]["id"]) == "Waiting"


def test_patch_paused_task_409(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    assert api.pause(created[1]["id"]).status_code == 200
    assert_conflict(api.patch_task(created[1]["id"], {"status": "Failure", "failure_reason": "x"}), "Paused")


def test_patch_different_final_status_409(api, mock):
    t = api.running("a", on_failure=[api.hook("/fail")])
    api.succeed(t["id"])
    assert_conflict(api.patch_task(t["id"], {"status": "Failure", "failure_reason": "late"}), "Success")
    assert_conflict(api.patch_task(t["id"], {"new_success": 1}), "Success")
    got = api.get_task(t["id"])
    assert got["status"] == "Success" and got["failure_reason"] is None and got["success"] == 0
    time.sleep(0.3)
    assert mock.count("/fail") == 0


def test_patch_canceled_task_409(api):
    t = api.running("a")
    assert api.cancel(t["id"]).status_code == 200
    assert_conflict(api.patch_task(t["id"], {"status": "Success"}), "Canceled")


def test_double_success_is_noop(api, mock):
    t = api.running("a", on_success=[api.hook("/ok")])
    api.succeed(t["id"], new_success=5, metadata={"v": 1})
    first = api.get_task(t["id"])
    mock.wait_hits("/ok", 1)
    r = api.patch_task(t["id"], {"status": "Success", "new_success": 7, "metadata": {"v": 2}})
    assert r.status_code == 200
    second = api.get_task(t["id"])
    assert second["success"] == 5
    assert second["metadata"] == {"v": 1}
    assert second["ended_at"] == first["ended_at"]
    assert second["status"] == "Success"
    time.sleep(0.5)
    assert mock.count("/ok") == 1


def test_double_failure_is_noop(api, mock):
    t = api.running("a", on_failure=[api.hook("/ko")])
    api.fail(t["id"], "first")
    mock.wait_hits("/ko", 1)
    assert api.patch_task(t["id"], {"status": "Failure", "failure_reason": "second",
                                    "new_failures": 3}).status_code == 200
    got = api.get_task(t["id"])
    assert got["failure_reason"] == "first" and got["failures"] == 0
    time.sleep(0.5)
    assert mock.count("/ko") == 1


def test_update_rejects_invalid_status_transitions(api):
    t = api.running("a")
    for s in ("Running", "Pending", "Waiting", "Claimed", "Paused", "Canceled"):
        r = api.patch_task(t["id"], {"status": s})
        assert r.status_code == 400, (s, r.status_code, r.text)
        assert "status: Status can only be updated to Success or Failure" in r.json()["details"]
    assert api.status(t["id"]) == "Running"


def test_failure_requires_reason(api):
    t = api.running("a")
    r = api.patch_task(t["id"], {"status": "Failure"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "Validation failed"
    assert "failure_reason: failure_reason is required when status is Failure" in body["details"]
    assert api.status(t["id"]) == "Running"


def test_rejects_negative_counters(api):
    t = api.running("a")
    r = api.patch_task(t["id"], {"new_success": -5})
    assert r.status_code == 400
    assert "new_success: new_success cannot be negative" in r.json()["details"]
    r = api.patch_task(t["id"], {"new_failures": -3})
    assert r.status_code == 400
    assert "new_failures: new_failures cannot be negative" in r.json()["details"]
    r = api.patch_task(t["id"], {"expected_count": -1})
    assert r.status_code == 400
    assert "expected_count: expected_count cannot be negative" in r.json()["details"]
    r = api.patch_task(t["id"], {"priority": 1001})
    assert r.status_code == 400
    assert "priority: priority must be between -1000 and 1000" in r.json()["details"]
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"], got["priority"]) == (0, 0, 0)


def test_patch_claimed_task(api, mock):
    # the service answers through the handle before its on_start returns
    mock.on("/start/a", delay=1.5)
    t = api.create([api.task("a")])[0]
    mock.wait_hits("/start/a", 1)
    assert api.status(t["id"]) == "Claimed"
    api.succeed(t["id"], new_success=1)
    assert api.status(t["id"]) == "Success"
    # the late 200 from on_start must not revive it
    time.sleep(1.7)
    got = api.get_task(t["id"])
    assert got["status"] == "Success" and got["success"] == 1


# ---- DELETE (cancel) -----------------------------------------------------------


def test_cancel_pending_task(api):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    r = api.cancel(t["id"])
    assert r.status_code == 200
    assert r.content == b""
    got = api.get_task(t["id"])
    assert got["status"] == "Canceled"
    assert got["ended_at"] is not None


def test_cancel_waiting_task(api):
    created = api.create([api.task("p"), api.task("c1", deps=["p"]), api.task("c2", deps=["p"])])
    p, c1, c2 = (t["id"] for t in created)
    api.wait_status(p, "Running")
    r = api.cancel(c1)
    assert r.status_code == 200
    assert api.status(c1) == "Canceled"
    api.stays_status(p, "Running", 0.2)
    api.succeed(p)
    api.wait_status(c2, "Running")
    assert api.status(c1) == "Canceled"


def test_cancel_paused_task(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"]), api.task("d", deps=["p"])])
    assert api.pause(created[1]["id"]).status_code == 200
    assert api.cancel(created[1]["id"]).status_code == 200
    assert api.status(created[1]["id"]) == "Canceled"


def test_cancel_claimed_task(api, mock):
    mock.on("/start/a", delay=1.0)
    t = api.create([api.task("a")])[0]
    mock.wait_hits("/start/a", 1)
    assert api.status(t["id"]) == "Claimed"
    assert api.cancel(t["id"]).status_code == 200
    assert api.status(t["id"]) == "Canceled"
    time.sleep(1.2)
    assert api.status(t["id"]) == "Canceled"


def test_cancel_running_task(api, mock):
    created = api.create([api.task("parent", on_failure=[api.hook("/parent-failed")]),
                          api.task("req", deps=["parent"], on_failure=[api.hook("/req-failed")]),
                          api.task("req2", deps=["parent"]),
                          api.task("opt", deps=[("parent", False)])])
    parent, req, req2, opt = (t["id"] for t in created)
    api.wait_status(parent, "Running")
    assert api.cancel(parent).status_code == 200
    got = api.get_task(parent)
    assert got["status"] == "Canceled"
    for child in (req, req2):
        c = api.wait_status(child, "Failure")
        assert c["failure_reason"] == "Required parent task %s failed" % parent
    api.wait_status(opt, "Running")
    mock.wait_hits("/req-failed", 1)
    time.sleep(0.4)
    assert mock.count("/parent-failed") == 0


def test_cancel_webhook_fires_once(api, mock):
    cancel_action = {"kind": "Webhook", "params": {"url": mock.url("/cancel/a"), "verb": "Post",
                                                   "body": {"why": "stop"}, "headers": {"X-Stop": "1"}}}
    mock.on("/start/a", json=cancel_action)
    t = api.running("a", on_failure=[api.hook("/a-failed")])
    actions = api.get_task(t["id"])["actions"]
    cancels = [a for a in actions if a["trigger"] == "Cancel"]
    assert len(cancels) == 1
    assert cancels[0]["params"]["url"] == mock.url("/cancel/a")
    assert api.cancel(t["id"]).status_code == 200
    hit = mock.wait_hits("/cancel/a", 1)[0]
    assert hit.method == "POST"
    assert hit.header("X-Task-Trigger") == "cancel"
    assert hit.header("X-Task-Id") == t["id"]
    assert hit.header("Idempotency-Key") == "%s:cancel" % t["id"]
    assert hit.header("X-Stop") == "1"
    assert hit.params["handle"] == ["%s/task/%s" % (api.server.host_url, t["id"])]
    body = hit.json()
    assert body.get("why") == "stop"
    time.sleep(0.5)
    assert mock.count("/cancel/a") == 1
    assert mock.count("/a-failed") == 0


def test_cancel_without_registered_action_calls_nothing(api, mock):
    t = api.running("a")
    assert api.cancel(t["id"]).status_code == 200
    time.sleep(0.3)
    assert [h.path for h in mock.hits()] == ["/start/a"]


def test_cancel_pending_does_not_fire_cancel_webhook(api, mock):
    # A cancel action is only registered by a successful start.
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    assert api.cancel(t["id"]).status_code == 200
    time.sleep(0.3)
    assert mock.count("/start/p") == 0


def test_cancel_terminal_task_returns_409(api):
    t = api.running("a")
    api.succeed(t["id"])
    assert_conflict(api.cancel(t["id"]), "Success")


def test_cancel_failed_task_returns_409(api):
    t = api.running("a")
    api.fail(t["id"])
    assert_conflict(api.cancel(t["id"]), "Failure")


def test_cancel_canceled_task_returns_409(api):
    t = api.running("a")
    assert api.cancel(t["id"]).status_code == 200
    assert_conflict(api.cancel(t["id"]), "Canceled")


def test_cancel_unknown_404(api):
    assert_not_found(api.cancel(str(uuid.uuid4())))


# ---- pause / resume -------------------------------------------------------------


def test_pause_pending_task(api, mock):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    r = api.pause(t["id"])
    assert r.status_code == 200
    assert r.content == b""
    assert api.status(t["id"]) == "Paused"
    # a paused task is not started even when it could be
    hold.release()
    time.sleep(0.4)
    assert api.status(t["id"]) == "Paused"
    assert mock.count("/start/p") == 0


def test_pause_waiting_task(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    r = api.pause(created[1]["id"])
    assert r.status_code == 200
    assert api.status(created[1]["id"]) == "Paused"


def test_pause_running_task_400(api):
    t = api.running("a")
    r = api.pause(t["id"])
    assert r.status_code == 400
    assert r.json()["current_status"] == "Running"
    assert api.status(t["id"]) == "Running"


def test_pause_claimed_task_refused(api, mock):
    mock.on("/start/a", delay=1.0)
    t = api.create([api.task("a")])[0]
    mock.wait_hits("/start/a", 1)
    r = api.pause(t["id"])
    assert r.status_code in (400, 409), r.status_code
    assert r.json()["current_status"] == "Claimed"
    assert api.status(t["id"]) == "Claimed"


def test_pause_already_paused_task_returns_409(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    assert api.pause(created[1]["id"]).status_code == 200
    assert_conflict(api.pause(created[1]["id"]), "Paused")


def test_pause_terminal_task_returns_409(api):
    t = api.running("a")
    api.succeed(t["id"])
    assert_conflict(api.pause(t["id"]), "Success")


def test_pause_unknown_404(api):
    assert_not_found(api.pause(str(uuid.uuid4())))


def test_resume_unknown_404(api):
    assert_not_found(api.resume(str(uuid.uuid4())))


def test_resume_non_paused_409(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    p, c = created[0]["id"], created[1]["id"]
    api.wait_status(p, "Running")
    assert_conflict(api.resume(p), "Running")
    assert_conflict(api.resume(c), "Waiting")
    api.succeed(p)
    assert_conflict(api.resume(p), "Success")


def test_resume_to_pending_starts(api, mock):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    assert api.pause(t["id"]).status_code == 200
    hold.release()
    r = api.resume(t["id"])
    assert r.status_code == 200
    api.wait_status(t["id"], "Running")
    assert mock.count("/start/p") == 1


def test_resume_to_pending_respects_rules(api):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    assert api.pause(t["id"]).status_code == 200
    assert api.resume(t["id"]).status_code == 200
    api.stays_status(t["id"], "Pending", 0.3)
    hold.release()
    api.wait_status(t["id"], "Running")


def test_resume_to_waiting(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    p, c = created[0]["id"], created[1]["id"]
    assert api.pause(c).status_code == 200
    assert api.resume(c).status_code == 200
    assert api.status(c) == "Waiting"
    api.wait_status(p, "Running")
    api.succeed(p)
    api.wait_status(c, "Running")


def test_paused_child_fails_with_required_parent(api, mock):
    created = api.create([api.task("p"), api.task("c", deps=["p"], on_failure=[api.hook("/c-failed")]),
                          api.task("d", deps=["p"])])
    p, c = created[0]["id"], created[1]["id"]
    assert api.pause(c).status_code == 200
    api.wait_status(p, "Running")
    api.fail(p)
    got = api.wait_status(c, "Failure")
    assert got["failure_reason"] == "Required parent task %s failed" % p
    mock.wait_hits("/c-failed", 1)
    assert_conflict(api.resume(c), "Failure")


def test_paused_child_released_by_parents_then_resumed(api, mock):
    created = api.create([api.task("p1"), api.task("p2"), api.task("c", deps=["p1", ("p2", False)])])
    p1, p2, c = (t["id"] for t in created)
    assert api.pause(c).status_code == 200
    api.wait_status(p1, "Running")
    api.wait_status(p2, "Running")
    api.succeed(p1)
    api.fail(p2)
    stays(lambda: api.status(c) == "Paused", 0.3, desc="child paused")
    assert mock.count("/start/c") == 0
    assert api.resume(c).status_code == 200
    api.wait_status(c, "Running")
    assert mock.count("/start/c") == 1


def test_paused_child_partially_released_resumes_waiting(api):
    created = api.create([api.task("p1"), api.task("p2"), api.task("c", deps=["p1", "p2"])])
    p1, p2, c = (t["id"] for t in created)
    assert api.pause(c).status_code == 200
    api.wait_status(p1, "Running")
    api.succeed(p1)
    assert api.resume(c).status_code == 200
    assert api.status(c) == "Waiting"
    api.wait_status(p2, "Running")
    api.succeed(p2)
    api.wait_status(c, "Running")
