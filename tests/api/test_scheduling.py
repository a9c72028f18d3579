"""Delayed start (`start_after`) and task groups (DELETE /group/{name},
PATCH /group/{name}/pause and /resume)."""

import time
from datetime import datetime, timezone

import pytest

from harness import Api, parse_ts, stays, wait_for

BAD_START_AFTER = "tasks[0].start_after: start_after must be an RFC 3339 timestamp"


def rfc3339(wall):
    """Unix seconds -> 'YYYY-MM-DDTHH:MM:SS.mmmZ'."""
    dt = datetime.fromtimestamp(wall, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def future(seconds):
    """(RFC 3339 text, the same instant on the monotonic clock of mock hits)."""
    wall, mono = time.time(), time.monotonic()
    text = rfc3339(wall + seconds)
    return text, mono + (parse_ts(text) - wall)


# ---- start_after ------------------------------------------------------------------------


def test_start_after_delays_the_start(api, mock):
    when, due = future(1.0)
    t = api.create([api.task("a", start_after=when)])[0]
    assert t["status"] == "Pending"
    assert abs(parse_ts(t["start_after"]) - parse_ts(when)) < 0.002
    time.sleep(0.5)
    got = api.get_task(t["id"])
    assert got["status"] == "Pending"
    assert got["blocked_reason"] == "start_after %s is not reached yet" % t["start_after"]
    assert mock.count("/start/a") == 0
    hit = mock.wait_hits("/start/a", 1, timeout=2.0)[0]
    assert hit.time >= due - 0.02, "on_start called %.3f s early" % (due - hit.time)
    assert hit.time - due < 0.5, "on_start called %.3f s late" % (hit.time - due)
    api.wait_status(t["id"], "Running")
    assert api.get_task(t["id"])["start_after"] == t["start_after"]


def test_start_after_in_the_past_starts_at_once(api, mock):
    t0 = time.monotonic()
    created = api.create([api.task("a", start_after=rfc3339(time.time() - 60)),
                          api.task("b", start_after="2020-01-01T12:00:00+02:00")])
    for t in created:
        api.wait_status(t["id"], "Running", timeout=1.0)
    assert time.monotonic() - t0 < 1.0
    assert parse_ts(api.get_task(created[1]["id"])["start_after"]) == parse_ts("2020-01-01T10:00:00Z")


def test_start_after_applies_when_dependencies_resolve_early(api, mock):
    when, due = future(1.0)
    created = api.create([api.task("p"), api.task("c", deps=["p"], start_after=when)])
    p, c = (t["id"] for t in created)
    api.wait_status(p, "Running")
    api.succeed(p)
    api.wait_status(c, "Pending")
    api.stays_status(c, "Pending", 0.3)
    hit = mock.wait_hits("/start/c", 1, timeout=2.0)[0]
    assert hit.time >= due - 0.02
    api.wait_status(c, "Running")


def test_start_after_survives_kill9(api, mock):
    when, due = future(1.0)
    t = api.create([api.task("a", start_after=when)])[0]
    api.server.kill()
    api2 = Api(api.server.restart(), mock)
    assert api2.status(t["id"]) == "Pending"
    hit = mock.wait_hits("/start/a", 1, timeout=2.0)[0]
    assert hit.time >= due - 0.02
    api2.wait_status(t["id"], "Running")


@pytest.mark.parametrize("value", ["tomorrow", "2024-13-45T00:00:00Z", "2024-01-01T00:00:00", ""])
def test_start_after_must_be_rfc3339(api, value):
    r = api.create_raw([api.task("a", start_after=value)])
    assert r.status_code == 400, r.text
    assert BAD_START_AFTER in r.json()["details"], r.json()


# ---- groups ---------------------------------------------------------------------------------


def test_group_field_in_dto(api):
    created = api.create([api.task("a", group="g1"), api.task("b")])
    assert [t["group"] for t in created] == ["g1", None]
    assert api.get_task(created[0]["id"])["group"] == "g1"


def test_cancel_group(api, mock):
    mock.on("/start/r", json={"kind": "Webhook", "params": {"url": mock.url("/cancel/r"), "verb": "Post"}})
    hold = api.hold()
    created = api.create([
        api.task("r", group="g1", on_failure=[api.hook("/r-failed")]),
        api.task("s", group="g1"),
        api.task("p", group="g1", **hold.kw()),
        api.task("c", deps=["r"], on_failure=[api.hook("/c-failed")]),
        api.task("o", group="g2"),
    ])
    r, s, p, c, o = (t["id"] for t in created)
    for tid in (r, s, o):
        api.wait_status(tid, "Running")
    api.succeed(s)
    resp = api.delete("/group/g1")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"group": "g1", "canceled": 2}
    assert [api.status(x) for x in (r, s, p, o)] == ["Canceled", "Success", "Canceled", "Running"]
    assert api.wait_status(c, "Failure")["failure_reason"] == "Required parent task %s failed" % r
    hit = mock.wait_hits("/cancel/r", 1)[0]
    assert hit.header("Idempotency-Key") == "%s:cancel" % r
    mock.wait_hits("/c-failed", 1)
    time.sleep(0.3)
    assert mock.count("/r-failed") == 0 and mock.count("/start/p") == 0
    again = api.delete("/group/g1")
    assert (again.status_code, again.json()) == (200, {"group": "g1", "canceled": 0})


def test_pause_and_resume_group(api, mock):
    hold = api.hold()
    created = api.create([
        api.task("p1", group="g1", **hold.kw()),
        api.task("p2", group="g1", **hold.kw()),
        api.task("r", group="g1"),
        api.task("w", group="g1", deps=["r"]),
        api.task("x", group="g2", **hold.kw()),
    ])
    p1, p2, r, w, x = (t["id"] for t in created)
    api.wait_status(r, "Running")
    resp = api.patch("/group/g1/pause")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"group": "g1", "paused": 3}
    assert [api.status(i) for i in (p1, p2, r, w, x)] == ["Paused", "Paused", "Running", "Paused", "Pending"]
    hold.release()  # the slot goes to x: p1 and p2 are paused
    api.wait_status(x, "Running")
    stays(lambda: api.status(p1) == "Paused" and api.status(p2) == "Paused", 0.3, desc="p1, p2 paused")
    assert mock.count("/start/p1") + mock.count("/start/p2") == 0
    resp = api.patch("/group/g1/resume")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"group": "g1", "resumed": 3}
    assert [api.status(i) for i in (p1, p2, w)] == ["Pending", "Pending", "Waiting"]
    api.succeed(x)  # the lane's slot is free again: p1 and p2 run one after the other
    wait_for(lambda: mock.count("/start/p1") + mock.count("/start/p2") == 1, desc="one of p1, p2 started")
    first = p1 if mock.count("/start/p1") else p2
    api.succeed(api.wait_status(first, "Running")["id"])
    api.wait_status(p2 if first == p1 else p1, "Running")
    api.succeed(r)
    api.wait_status(w, "Running")


def test_unknown_group_is_404(api):
    api.create([api.task("a", group="known")])
    for method, path in (("DELETE", "/group/nope"), ("PATCH", "/group/nope/pause"),
                         ("PATCH", "/group/nope/resume")):
        r = api.server.request(method, path)
        assert r.status_code == 404, (method, path, r.status_code)
        assert "error" in r.json(), r.text
