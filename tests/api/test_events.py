"""Audit trail of status transitions: GET /task/{id}/events."""

import uuid

from harness import TS_RE, parse_ts

EVENT_KEYS = {"at", "from", "to", "from_state", "to_state", "reason", "actor"}


def transitions(events):
    return [(e["from"], e["to"]) for e in events]


def check_shape(events):
    for e in events:
        assert set(e) == EVENT_KEYS, e
        assert TS_RE.match(e["at"]), e
        assert isinstance(e["actor"], str) and e["actor"], e
    times = [parse_ts(e["at"]) for e in events]
    assert times == sorted(times), "events not oldest first: %r" % events


def test_lifecycle_events(api):
    t = api.running("a")
    api.succeed(t["id"])
    events = api.events(t["id"])
    check_shape(events)
    assert transitions(events) == [(None, "Pending"), ("Pending", "Claimed"), ("Claimed", "Running"),
                                   ("Running", "Success")]
    assert events[0]["reason"] == "created"


def test_cascade_failure_recorded_as_system(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    p, c = (t["id"] for t in created)
    api.wait_status(p, "Running")
    api.fail(p, "boom")
    api.wait_status(c, "Failure")
    events = api.events(c)
    check_shape(events)
    assert transitions(events) == [(None, "Waiting"), ("Waiting", "Failure")]
    assert events[0]["reason"] == "created"
    assert events[1]["actor"] == "system"
    assert transitions(api.events(p))[-1] == ("Running", "Failure")


def test_operator_actions_recorded(api):
    hold = api.hold()
    t = api.create([api.task("p", **hold.kw())])[0]
    assert api.pause(t["id"]).status_code == 200
    assert api.resume(t["id"]).status_code == 200
    assert api.cancel(t["id"]).status_code == 200
    events = api.events(t["id"])
    check_shape(events)
    assert transitions(events) == [(None, "Pending"), ("Pending", "Paused"), ("Paused", "Pending"),
                                   ("Pending", "Canceled")]


def test_events_of_unknown_task_is_404(api):
    t = api.create([api.task("a")])[0]
    assert api.get("/task/%s/events" % t["id"]).status_code == 200
    assert api.get("/task/%s/events" % uuid.uuid4()).status_code == 404
