"""Task retries with backoff: the `retry` policy, the state of a task waiting for its next
attempt (status Pending, state "retrying"), the three causes (on_start
failure, inactivity timeout, explicit PATCH Failure), start keys per attempt,
and children that see only the final outcome."""

import time

import pytest

from harness import STATUSES, Behaviour, metric, parse_ts, wait_for

POLICY = {"max_retries": 2, "initial_delay_secs": 0.2, "backoff_multiplier": 2, "max_delay_secs": 1,
          "retry_on": ["timeout", "webhook_failure", "explicit"]}
POLICY_KEYS = set(POLICY)


def policy(**kw):
    p = dict(POLICY)
    p.update(kw)
    return p


def watch(api, tid, until, timeout=2.0):
    """Polls the task until its state is `until`; returns (states seen in
    order without repeats, last DTO)."""
    seen = []
    last = {}

    def check():
        t = api.get_task(tid)
        last["t"] = t
        if not seen or seen[-1] != t["state"]:
            seen.append(t["state"])
        return t["state"] == until

    wait_for(check, timeout=timeout, interval=0.01, desc="task %s to be %s (seen %s)" % (tid, until, seen))
    return seen, last["t"]


def start_keys(mock, path):
    return [h.header("Idempotency-Key") for h in mock.hits(path)]


# ---- DTO ----------------------------------------------------------------------------


def test_new_task_fields(api):
    hold = api.hold()
    created = api.create([api.task("r", retry=policy(), **hold.kw()), api.task("plain", **hold.kw())])
    for dto in (created[0], api.get_task(created[0]["id"])):
        assert dto["retry"] == POLICY
        # attempt counts tries from 1
        assert (dto["attempt"], dto["next_retry_at"], dto["group"], dto["start_after"]) == (1, None, None, None)
    plain = api.get_task(created[1]["id"])
    assert (plain["retry"], plain["attempt"], plain["next_retry_at"]) == (None, 1, None)


def test_partial_policy_stored_with_every_field(api):
    t = api.create([api.task("r", retry={"max_retries": 3})])[0]
    got = api.get_task(t["id"])["retry"]
    assert set(got) == POLICY_KEYS
    assert got["max_retries"] == 3
    # the defaults: 5 s, ×2 per attempt, at most 300 s
    assert (got["initial_delay_secs"], got["backoff_multiplier"], got["max_delay_secs"]) == (5, 2, 300)
    assert isinstance(got["retry_on"], list)
    assert set(got["retry_on"]) <= {"timeout", "webhook_failure", "explicit"}


# ---- on_start failures (webhook_failure) -----------------------------------------------------


def test_on_start_failures_retried_until_running(api, mock):
    mock.on("/start/a", Behaviour(status=500), Behaviour(status=502), Behaviour())
    created = api.create([api.task("a", retry=policy(), on_failure=[api.hook("/ko")]),
                          api.task("child", deps=["a"])])
    a, child = (t["id"] for t in created)
    seen, got = watch(api, a, "running")
    assert "retrying" in seen, seen
    assert got["attempt"] == 3
    assert got["next_retry_at"] is None
    assert start_keys(mock, "/start/a") == ["%s:start" % a, "%s:start:2" % a, "%s:start:3" % a]
    hits = mock.hits("/start/a")
    gaps = [b.time - a_.time for a_, b in zip(hits, hits[1:])]
    assert gaps[0] >= 0.16 and gaps[1] >= 0.32, gaps  # 0.2 s, then 0.4 s
    assert api.status(child) == "Waiting"
    assert mock.count("/ko") == 0
    api.succeed(a)
    api.wait_status(child, "Running")
    time.sleep(0.2)
    assert mock.count("/ko") == 0


def test_retry_pending_task_shows_next_retry_at(api, mock):
    mock.on("/start/a", Behaviour(status=500), Behaviour())
    created = api.create([api.task("a", retry=policy(initial_delay_secs=0.6)), api.task("child", deps=["a"])])
    a, child = (t["id"] for t in created)
    got = api.wait_state(a, "retrying")
    assert got["status"] == "Pending"
    due = parse_ts(got["next_retry_at"]) - time.time()
    assert 0.1 < due <= 0.75, got["next_retry_at"]
    assert api.status(child) == "Waiting"
    assert a in [t["id"] for t in api.list_tasks(status="RetryPending")]
    counts = api.get("/batch/" + got["batch_id"]).json()["status_counts"]
    assert (counts["pending"], counts["retrying"], counts["waiting"]) == (1, 1, 1), counts
    assert mock.count("/start/a") == 1
    api.wait_status(a, "Running", timeout=2.0)
    assert mock.count("/start/a") == 2


def test_retries_exhausted_fail_task_and_children(api, mock):
    mock.on("/start/a", status=500)
    created = api.create([api.task("a", retry=policy(max_retries=1), on_failure=[api.hook("/ko")]),
                          api.task("child", deps=["a"], on_failure=[api.hook("/child-ko")])])
    a, child = (t["id"] for t in created)
    seen, got = watch(api, a, "failure")
    assert "retrying" in seen, seen
    assert "on_start" in got["failure_reason"]
    assert got["attempt"] == 2
    assert start_keys(mock, "/start/a") == ["%s:start" % a, "%s:start:2" % a]
    c = api.wait_status(child, "Failure")
    assert c["failure_reason"] == "Required parent task %s failed" % a
    hit = mock.wait_hits("/ko", 1)[0]
    assert hit.header("Idempotency-Key") == "%s:end:failure" % a
    assert hit.json()["arcrun"]["attempt"] == 2
    mock.wait_hits("/child-ko", 1)
    time.sleep(0.4)
    assert mock.count("/ko") == 1
    assert mock.count("/start/a") == 2


def test_on_start_failure_not_retried_without_webhook_failure_cause(api, mock):
    mock.on("/start/a", status=500)
    t = api.create([api.task("a", retry=policy(retry_on=["explicit", "timeout"]))])[0]
    seen, got = watch(api, t["id"], "failure")
    assert "retrying" not in seen, seen
    assert got["attempt"] == 1
    time.sleep(0.4)
    assert mock.count("/start/a") == 1


# ---- explicit failures -----------------------------------------------------------------------------


def test_explicit_failure_retried(api, mock):
    created = api.create([api.task("a", retry=policy(initial_delay_secs=0.5, retry_on=["explicit"]),
                                   on_success=[api.hook("/ok")], on_failure=[api.hook("/ko")]),
                          api.task("child", deps=["a"])])
    a, child = (t["id"] for t in created)
    api.wait_status(a, "Running")
    r = api.patch_task(a, {"status": "Failure", "failure_reason": "try again"})
    assert r.status_code == 200, r.text
    got = api.get_task(a)
    assert (got["status"], got["state"]) == ("Pending", "retrying")
    assert 0.2 < parse_ts(got["next_retry_at"]) - time.time() <= 0.6
    assert api.status(child) == "Waiting"
    seen, got = watch(api, a, "running")
    assert seen[-1] == "running" and "success" not in seen and "failure" not in seen, seen
    assert got["attempt"] == 2
    assert start_keys(mock, "/start/a") == ["%s:start" % a, "%s:start:2" % a]
    api.succeed(a)
    assert api.status(a) == "Success"
    api.wait_status(child, "Running")
    hit = mock.wait_hits("/ok", 1)[0]
    assert hit.header("Idempotency-Key") == "%s:end:success" % a
    assert hit.json()["arcrun"]["attempt"] == 2
    time.sleep(0.3)
    assert mock.count("/ko") == 0 and mock.count("/ok") == 1
    events = api.events(a)
    assert all(e["to"] in STATUSES and e["from"] in STATUSES + (None,) for e in events), events
    transitions = [(e["from_state"], e["to_state"]) for e in events]
    assert ("running", "retrying") in transitions, transitions
    assert ("retrying", "pending") in transitions, transitions
    shown = [(e["from"], e["to"]) for e in events]
    assert ("Running", "Pending") in shown and ("Pending", "Pending") in shown, shown


def test_explicit_failure_not_in_retry_on_fails_at_once(api, mock):
    created = api.create([api.task("a", retry=policy(retry_on=["timeout", "webhook_failure"]),
                                   on_failure=[api.hook("/ko")]),
                          api.task("child", deps=["a"])])
    a, child = (t["id"] for t in created)
    api.wait_status(a, "Running")
    api.fail(a, "final")
    got = api.get_task(a)
    assert (got["status"], got["failure_reason"], got["attempt"]) == ("Failure", "final", 1)
    api.wait_status(child, "Failure")
    mock.wait_hits("/ko", 1)
    time.sleep(0.4)
    assert mock.count("/start/a") == 1


def test_zero_retries_fail_at_once(api, mock):
    t = api.running("a", retry=policy(max_retries=0))
    api.fail(t["id"], "no")
    assert api.status(t["id"]) == "Failure"
    time.sleep(0.4)
    assert mock.count("/start/a") == 1


def test_explicit_retries_exhausted(api, mock):
    t = api.running("a", retry=policy(max_retries=1, initial_delay_secs=0.1), on_failure=[api.hook("/ko")])
    api.fail(t["id"], "first")
    assert api.get_task(t["id"])["state"] == "retrying"
    got = api.wait_status(t["id"], "Running", timeout=2.0)
    assert got["attempt"] == 2
    api.fail(t["id"], "second")
    got = api.get_task(t["id"])
    assert (got["status"], got["failure_reason"]) == ("Failure", "second")
    hit = mock.wait_hits("/ko", 1)[0]
    assert hit.json()["arcrun"]["failure_reason"] == "second"
    time.sleep(0.3)
    assert mock.count("/ko") == 1 and mock.count("/start/a") == 2


# ---- timeouts ------------------------------------------------------------------------------------------


def test_timeout_retried_instead_of_failing(api, mock):
    created = api.create([api.task("a", timeout=1, retry=policy(max_retries=1, retry_on=["timeout"]),
                                   on_failure=[api.hook("/ko")]),
                          api.task("child", deps=["a"])])
    a, child = (t["id"] for t in created)
    api.wait_status(a, "Running")
    # the first attempt times out after 1 s and is retried 0.2 s after that
    api.advance(1.1)
    waiting = api.get_task(a)
    assert (waiting["status"], waiting["state"]) == ("Pending", "retrying")
    assert waiting["next_retry_at"] is not None
    assert api.status(child) == "Waiting"
    api.advance(0.25)
    got = api.wait_status(a, "Running", timeout=1.0)
    assert got["attempt"] == 2
    assert start_keys(mock, "/start/a") == ["%s:start" % a, "%s:start:2" % a]
    assert api.status(child) == "Waiting"
    assert mock.count("/ko") == 0
    api.succeed(a)
    api.wait_status(child, "Running")
    time.sleep(0.2)
    assert mock.count("/ko") == 0


# ---- validation -------------------------------------------------------------------------------------------


def post_invalid(api, tasks):
    r = api.create_raw(tasks)
    assert r.status_code == 400, "expected 400, got %d: %s" % (r.status_code, r.text[:1000])
    body = r.json()
    assert body["error"] == "Validation failed"
    return body["details"]


@pytest.mark.parametrize("value", [101, -1, 1000])
def test_max_retries_range(api, value):
    details = post_invalid(api, [api.task("a", retry=policy(max_retries=value))])
    assert "tasks[0].retry.max_retries: max_retries must be between 0 and 100" in details, details


@pytest.mark.parametrize("field,value", [
    ("initial_delay_secs", -1),
    ("backoff_multiplier", -2),
    ("max_delay_secs", -5),
    ("retry_on", ["bogus"]),
    ("retry_on", "explicit"),
])
def test_retry_field_errors_name_the_field(api, field, value):
    r = api.create_raw([api.task("ok"), api.task("a", retry=policy(**{field: value}))])
    assert r.status_code == 400, r.text[:500]
    assert "error" in r.json()
    assert field in r.text, r.text[:500]
    assert api.list_tasks() == []


def test_retry_limits_inclusive(api):
    r = api.create_raw([api.task("a", retry=policy(max_retries=100)), api.task("b", retry=policy(max_retries=0))])
    assert r.status_code == 201, r.text
    assert [t["retry"]["max_retries"] for t in r.json()] == [100, 0]


def test_retry_not_an_object(api):
    r = api.create_raw([api.task("a", retry="often")])
    assert r.status_code == 400, r.text
    assert "retry" in r.text


def test_cancel_key_names_the_attempt(api, mock):
    # only the second start call registers a cancel action
    mock.on("/start/a", Behaviour(),
            Behaviour(json={"kind": "Webhook", "params": {"url": mock.url("/cancel/a"), "verb": "Post"}}))
    t = api.running("a", retry=policy(max_retries=1, initial_delay_secs=0.1, retry_on=["explicit"]))
    api.fail(t["id"], "again")
    got = api.wait_status(t["id"], "Running", timeout=2.0)
    assert got["attempt"] == 2
    assert len(api.actions(t["id"], "Cancel")) == 1
    assert api.cancel(t["id"]).status_code == 200
    hit = mock.wait_hits("/cancel/a", 1)[0]
    # a cancel belongs to the attempt it stops: attempt 2's cancel must not
    # collide with (and be dropped as) a cancel of attempt 1
    assert hit.header("Idempotency-Key") == "%s:cancel:attempt:2" % t["id"]
    assert hit.json()["arcrun"]["attempt"] == 2


# ---- ArcRun's eight statuses --------------------------------------------------------------------------------


def test_retrying_task_shows_as_pending_everywhere(api, mock):
    """ArcRun's clients know eight statuses and reject any other: a task
    waiting for its next attempt shows as Pending on every ArcRun route, its
    precise state in additive fields."""
    mock.on("/start/a", Behaviour(status=500), Behaviour())
    created = api.create([api.task("a", retry=policy(initial_delay_secs=30)), api.task("child", deps=["a"])])
    a, child = (t["id"] for t in created)
    got = api.wait_state(a, "retrying")
    bid = got["batch_id"]
    assert got["status"] == "Pending"
    assert api.get_task(child)["state"] == "waiting"

    listed = {t["id"]: t for t in api.list_tasks(batch_id=bid)}
    assert (listed[a]["status"], listed[a]["state"]) == ("Pending", "retrying")
    for t in api.dag(bid)["tasks"] + api.list_tasks():
        assert t["status"] in STATUSES, t
    # ?status=Pending includes it; RetryPending still selects only tasks waiting for a retry
    assert a in [t["id"] for t in api.list_tasks(status="Pending")]
    assert [t["id"] for t in api.list_tasks(status="RetryPending")] == [a]
    assert [t["id"] for t in api.list_tasks(status="Waiting", batch_id=bid)] == [child]

    counts = api.get("/batch/" + bid).json()["status_counts"]
    assert (counts["pending"], counts["retrying"], counts["waiting"]) == (1, 1, 1), counts
    listed = [b for b in api.get("/batches").json() if b["batch_id"] == bid][0]
    assert (listed["status_counts"]["pending"], listed["status_counts"]["retrying"]) == (1, 1)
    assert bid in [b["batch_id"] for b in api.get("/batches", params={"status": "Pending"}).json()]

    r = api.patch_task(a, {"status": "Success"})
    assert r.status_code == 409
    assert (r.json()["current_status"], r.json()["current_state"]) == ("Pending", "retrying")
    r = api.pause(a)
    assert r.status_code == 409
    assert (r.json()["current_status"], r.json()["current_state"]) == ("Pending", "retrying")

    ev = api.events(a)
    assert all(e["to"] in STATUSES and e["from"] in STATUSES + (None,) for e in ev), ev
    assert ev[-1]["to_state"] == "retrying" and ev[-1]["to"] == "Pending"
    # weft's own metric labels keep the precise state
    assert metric(api.metrics(), "tasks_by_status", status="RetryPending") == 1
