"""The audit log (GET /v1/audit): every operator action and configuration
change is recorded once, in the transaction of the change, with the acting
token's name; a refused action (400, 404, 409) records nothing; a token's
secret never appears. The list filters by time, actor, action, object and
namespace, pages newest first by a keyset cursor, is for admin tokens only
(an admin limited to some namespaces sees only theirs), and old entries go
with AUDIT_RETENTION_AFTER_SECS (the server's clock is moved, not waited
for)."""

from collections import Counter

from harness import parse_ts, wait_for

ROOT = "admin-token-0123456789"     # AUTH_TOKEN: every namespace, admin, named auth_token
JOB = {"kind": "job", "queue": "reports", "input": {"report": "daily"}}


def h(token):
    return {"Authorization": "Bearer " + token}


def make(make_api, **env):
    env.setdefault("AUTH_TOKEN", ROOT)
    return make_api(**env)


def ok(r, status=(200, 201, 202, 204)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), (r.status_code, r.text[:1000])
    return r.json() if r.content else None


def error_of(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert code is None or e["code"] == code, e
    return e


def token(api, name, by=ROOT, namespaces=("*",), role="admin"):
    made = ok(api.post("/v1/tokens", json={"name": name, "namespaces": list(namespaces), "role": role},
                       headers=h(by)))
    return made["secret"]


def audit(api, tok=ROOT, **params):
    return ok(api.get("/v1/audit", params=params, headers=h(tok)))


def entries(api, tok=ROOT, **params):
    params.setdefault("limit", 1000)
    got = audit(api, tok, **params)
    assert got["next_cursor"] is None, got
    return got["entries"]


def enqueue(api, tok, queue="q", ns=None, **job):
    body = {"jobs": [dict(queue=queue, **job)]}
    if ns:
        body["namespace"] = ns
    return ok(api.post("/v1/jobs", json=body, headers=h(tok)))["jobs"][0]["id"]


def claim_one(api, tok, queue="q", worker="w1", ns=None):
    body = {"queues": [queue], "worker_id": worker}
    if ns:
        body["namespace"] = ns
    jobs = ok(api.post("/v1/jobs/claim", json=body, headers=h(tok)))["jobs"]
    assert len(jobs) == 1, jobs
    return jobs[0]


def fail_for_good(api, tok, queue="q"):
    """A job of `queue` enqueued, claimed and failed by a non-retryable error: a dead letter."""
    tid = enqueue(api, tok, queue)
    job = claim_one(api, tok, queue)
    r = ok(api.post("/v1/jobs/fail", json={"items": [{"id": job["id"], "lease_token": job["lease_token"],
                                                       "error": {"code": "boom", "retryable": False}}]},
                    headers=h(tok)))
    assert r["results"][0]["outcome"] == "dead_lettered", r
    return tid


def test_each_action_is_recorded_once_with_the_acting_tokens_name(make_api):
    api = make(make_api)
    alice = token(api, "ops-alice")
    bob = token(api, "ops-bob", by=alice)
    doomed = token(api, "doomed", by=alice, namespaces=["default"], role="client")

    # Queues (bob).
    ok(api.patch("/v1/queues/q", json={"concurrency_limit": 5}, headers=h(bob)))
    ok(api.post("/v1/queues/q/pause", headers=h(bob)))
    ok(api.post("/v1/queues/q/resume", headers=h(bob)))

    # Schedules (alice).
    ok(api.post("/v1/schedules", json={"name": "daily", "cron": "30 6 * * *", "target": JOB}, headers=h(alice)))
    ok(api.post("/v1/schedules/daily/pause", headers=h(alice)))
    ok(api.post("/v1/schedules/daily/resume", headers=h(alice)))
    ok(api.post("/v1/schedules/daily/trigger", headers=h(alice)))
    ok(api.delete("/v1/schedules/daily", headers=h(alice)))

    # A template (bob).
    ok(api.post("/v1/templates", json={"name": "etl", "version": "1", "steps": [{"ref": "a", "queue": "tpl"}]},
                headers=h(bob)))

    # Tasks (alice): a dead letter requeued, failed again and retried, then
    # reset; another paused, resumed, resolved; a third canceled.
    dead = fail_for_good(api, alice, "dl")
    ok(api.post("/v1/dead-letters/requeue", json={"ids": [dead], "reason": "fixed"}, headers=h(alice)))
    job = claim_one(api, alice, "dl")
    ok(api.post("/v1/jobs/fail", json={"items": [{"id": job["id"], "lease_token": job["lease_token"],
                                                   "error": {"code": "boom", "retryable": False}}]},
                headers=h(alice)))
    ok(api.post("/v1/tasks/%s/retry" % dead, json={}, headers=h(alice)))
    job = claim_one(api, alice, "dl")
    ok(api.post("/v1/jobs/fail", json={"items": [{"id": job["id"], "lease_token": job["lease_token"],
                                                   "error": {"code": "boom", "retryable": False}}]},
                headers=h(alice)))
    ok(api.post("/v1/tasks/%s/reset" % dead, json={}, headers=h(alice)))
    held = enqueue(api, alice, "held")
    ok(api.post("/v1/tasks/%s/pause" % held, json={}, headers=h(alice)))
    ok(api.post("/v1/tasks/%s/resume" % held, json={}, headers=h(alice)))
    ok(api.post("/v1/tasks/%s/resolve" % held, json={"result": {"by": "hand"}, "reason": "done upstream"},
                headers=h(alice)))
    gone = enqueue(api, alice, "gone")
    ok(api.post("/v1/tasks/%s/cancel" % gone, json={}, headers=h(doomed)))

    # A run (bob): paused, resumed, canceled.
    run = ok(api.post("/v1/runs", json={"tasks": [{"ref": "a", "queue": "r"}, {"ref": "b", "queue": "r",
                                                                               "parents": [{"ref": "a"}]}]},
                      headers=h(bob)))["id"]
    ok(api.post("/v1/runs/%s/pause" % run, headers=h(bob)))
    ok(api.post("/v1/runs/%s/resume" % run, headers=h(bob)))
    ok(api.post("/v1/runs/%s/cancel" % run, headers=h(bob)))

    # Workflows (alice): one canceled then retried, one terminated.
    wf1 = ok(api.post("/v1/workflows", json={"type": "order", "queue": "wf"}, headers=h(alice)))["id"]
    wf2 = ok(api.post("/v1/workflows", json={"type": "order", "queue": "wf"}, headers=h(alice)))["id"]
    ok(api.post("/v1/workflows/%s/cancel" % wf1, json={"reason": "wrong order"}, headers=h(alice)))
    ok(api.post("/v1/workflows/%s/retry" % wf1, json={}, headers=h(alice)))
    ok(api.post("/v1/workflows/%s/terminate" % wf2, json={}, headers=h(alice)))

    # A worker drained (bob), a token revoked (alice).
    enqueue(api, bob, "wq")
    claim_one(api, bob, "wq", worker="host-1")
    ok(api.post("/v1/workers/host-1/drain", headers=h(bob)))
    ok(api.delete("/v1/tokens/doomed", headers=h(alice)))

    got = entries(api)
    seen = Counter((e["action"], e["object_id"]) for e in got)
    tpl = "etl@1"
    expected = {
        ("token.create", "ops-alice"): "auth_token",
        ("token.create", "ops-bob"): "ops-alice",
        ("token.create", "doomed"): "ops-alice",
        ("queue.update", "q"): "ops-bob",
        ("queue.pause", "q"): "ops-bob",
        ("queue.resume", "q"): "ops-bob",
        ("schedule.create", "daily"): "ops-alice",
        ("schedule.pause", "daily"): "ops-alice",
        ("schedule.resume", "daily"): "ops-alice",
        ("schedule.trigger", "daily"): "ops-alice",
        ("schedule.delete", "daily"): "ops-alice",
        ("template.register", tpl): "ops-bob",
        ("dead_letter.requeue", "default"): "ops-alice",
        ("task.retry", dead): "ops-alice",
        ("task.reset", dead): "ops-alice",
        ("task.pause", held): "ops-alice",
        ("task.resume", held): "ops-alice",
        ("task.resolve", held): "ops-alice",
        ("task.cancel", gone): "doomed",
        ("run.pause", run): "ops-bob",
        ("run.resume", run): "ops-bob",
        ("run.cancel", run): "ops-bob",
        ("workflow.cancel", wf1): "ops-alice",
        ("workflow.retry", wf1): "ops-alice",
        ("workflow.terminate", wf2): "ops-alice",
        ("worker.drain", "host-1"): "ops-bob",
        ("token.revoke", "doomed"): "ops-alice",
    }
    for key, actor in expected.items():
        assert seen[key] == 1, (key, seen[key], got)
        one = next(e for e in got if (e["action"], e["object_id"]) == key)
        assert one["actor"] == actor, one
    # Nothing else: a workflow's cancel is not also a task's, enqueues and
    # claims are not configuration changes.
    assert sorted(seen) == sorted(expected), sorted(set(seen) - set(expected))

    # Newest first, each with its shape.
    ats = [parse_ts(e["at"]) for e in got]
    assert ats == sorted(ats, reverse=True)
    by = {(e["action"], e["object_id"]): e for e in got}
    assert by[("token.create", "doomed")]["namespace"] is None
    assert by[("token.create", "doomed")]["detail"] == {"admin": False, "namespaces": "default"}
    assert by[("queue.pause", "q")]["namespace"] == "default" and by[("queue.pause", "q")]["object_kind"] == "queue"
    assert by[("queue.update", "q")]["detail"] == {"concurrency_limit": 5}
    assert by[("schedule.create", "daily")]["detail"]["cron"] == "30 6 * * *"
    assert by[("schedule.trigger", "daily")]["detail"] == {"started": 1}
    assert by[("task.resolve", held)]["detail"] == {"status": "success", "reason": "done upstream"}
    assert by[("dead_letter.requeue", "default")]["detail"]["count"] == 1
    assert by[("dead_letter.requeue", "default")]["detail"]["ids"] == [dead]
    assert by[("workflow.cancel", wf1)]["detail"] == {"type": "order", "reason": "wrong order"}
    assert by[("run.cancel", run)]["detail"] == {"canceled": 2}

    # No secret, nor its digest, anywhere in the log.
    text = api.get("/v1/audit", params={"limit": 1000}, headers=h(ROOT)).text
    for secret in (alice, bob, doomed, ROOT):
        assert secret not in text
    assert "wft_" not in text and "digest" not in text


def test_refused_actions_record_nothing(make_api):
    api = make(make_api)
    alice = token(api, "ops-alice")
    # 409: a taken token name; a pending task retried; a workflow canceled
    # or terminated after its end, its job resumed; a template version
    # registered again with another body; 404: unknown schedule, token,
    # worker, run; 400: a bad schedule, a bad queue limit. A requeue of a
    # task that is no dead letter requeues nothing and records nothing.
    tid = enqueue(api, alice)
    wf = ok(api.post("/v1/workflows", json={"type": "order", "queue": "wf"}, headers=h(alice)))["id"]
    ok(api.post("/v1/workflows/%s/cancel" % wf, json={}, headers=h(alice)))
    before = entries(api)
    error_of(api.post("/v1/tokens", json={"name": "ops-alice", "namespaces": ["*"], "role": "admin"},
                      headers=h(alice)), 409)
    error_of(api.post("/v1/tasks/%s/retry" % tid, json={}, headers=h(alice)), 409)
    error_of(api.post("/v1/workflows/%s/cancel" % wf, json={}, headers=h(alice)), 409)
    error_of(api.post("/v1/workflows/%s/terminate" % wf, json={}, headers=h(alice)), 409)
    error_of(api.post("/v1/tasks/%s/resume" % wf, json={}, headers=h(alice)), 409)
    r = ok(api.post("/v1/dead-letters/requeue", json={"ids": [tid]}, headers=h(alice)))
    assert r["requeued"] == [], r
    error_of(api.post("/v1/workers/nobody/drain", headers=h(alice)), 404)
    error_of(api.post("/v1/runs/%s/pause" % "00000000-0000-7000-8000-000000000000", headers=h(alice)), 404)
    ok(api.post("/v1/templates", json={"name": "etl", "version": "1", "steps": [{"ref": "a", "queue": "t"}]},
                headers=h(alice)))
    after_register = entries(api)
    assert len(after_register) == len(before) + 1
    error_of(api.post("/v1/templates", json={"name": "etl", "version": "1", "steps": [{"ref": "b", "queue": "t"}]},
                      headers=h(alice)), 409)
    # The same body again changes nothing: not recorded either.
    ok(api.post("/v1/templates", json={"name": "etl", "version": "1", "steps": [{"ref": "a", "queue": "t"}]},
                headers=h(alice)))
    error_of(api.delete("/v1/schedules/nope", headers=h(alice)), 404)
    error_of(api.post("/v1/schedules/nope/pause", headers=h(alice)), 404)
    error_of(api.delete("/v1/tokens/nope", headers=h(alice)), 404)
    error_of(api.post("/v1/schedules", json={"name": "bad", "cron": "61 * * * *", "target": JOB},
                      headers=h(alice)), 400)
    error_of(api.patch("/v1/queues/q", json={"concurrency_limit": -1}, headers=h(alice)), 400)
    error_of(api.post("/v1/workflows/%s/retry" % tid, json={}, headers=h(alice)), 404)
    assert entries(api) == after_register


def test_filters_by_time_actor_action_object_and_namespace(make_api):
    api = make(make_api)
    alice = token(api, "ops-alice")
    bob = token(api, "ops-bob")
    ok(api.post("/v1/queues/q1/pause", headers=h(alice)))
    api.advance(60)
    ok(api.post("/v1/queues/q2/pause", headers=h(bob)))
    ok(api.post("/v1/queues/q2/pause", params={"namespace": "other"}, headers=h(bob)))
    api.advance(60)
    ok(api.post("/v1/queues/q1/resume", headers=h(bob)))

    def keys(**params):
        return [(e["actor"], e["action"], e["object_id"], e["namespace"]) for e in entries(api, **params)]

    assert keys(actor="ops-alice") == [("ops-alice", "queue.pause", "q1", "default")]
    assert keys(actor="ops-bob") == [("ops-bob", "queue.resume", "q1", "default"),
                                     ("ops-bob", "queue.pause", "q2", "other"),
                                     ("ops-bob", "queue.pause", "q2", "default")]
    assert keys(action="queue.resume") == [("ops-bob", "queue.resume", "q1", "default")]
    assert keys(object_kind="queue", object_id="q1") == [("ops-bob", "queue.resume", "q1", "default"),
                                                         ("ops-alice", "queue.pause", "q1", "default")]
    assert keys(object_kind="token") == [("auth_token", "token.create", "ops-bob", None),
                                         ("auth_token", "token.create", "ops-alice", None)]
    assert keys(namespace="other") == [("ops-bob", "queue.pause", "q2", "other")]
    assert keys(actor="ops-bob", namespace="default", action="queue.pause") == [
        ("ops-bob", "queue.pause", "q2", "default")]

    # Time: since is inclusive, until exclusive.
    all_ = entries(api, object_kind="queue")
    middle = [e for e in all_ if e["object_id"] == "q2"]
    since, until = middle[-1]["at"], all_[0]["at"]
    assert [e["id"] for e in entries(api, object_kind="queue", since=since, until=until)] == \
        [e["id"] for e in middle]
    assert [e["id"] for e in entries(api, object_kind="queue", until=since)] == [all_[-1]["id"]]
    assert entries(api, actor="nobody") == []

    # Bad filters name the field.
    for params, field in (({"since": "yesterday"}, "since"), ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"),
                          ({"namespace": "Bad NS"}, "namespace"), ({"object_id": "x" * 301}, "object_id"),
                          ({"action": "a" * 65}, "action"), ({"since": until, "until": since}, "until"),
                          ({"cursor": "nonsense"}, "cursor")):
        e = error_of(api.get("/v1/audit", params=params, headers=h(ROOT)), 400)
        assert field in str(e), (params, e)


def test_pages_newest_first_without_repeats(make_api):
    api = make(make_api)
    for i in range(7):
        ok(api.post("/v1/queues/q%d/pause" % i, headers=h(ROOT)))
    whole = [e["id"] for e in entries(api, action="queue.pause")]
    assert len(whole) == 7
    paged, cursor = [], None
    while True:
        params = {"action": "queue.pause", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = audit(api, **params)
        assert len(page["entries"]) <= 3
        paged += [e["id"] for e in page["entries"]]
        # A new entry between pages does not shift what follows.
        ok(api.post("/v1/queues/late/resume", headers=h(ROOT)))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == whole
    # A cursor made for other filters is refused.
    first = audit(api, action="queue.pause", limit=3)
    error_of(api.get("/v1/audit", params={"action": "queue.resume", "cursor": first["next_cursor"]},
                     headers=h(ROOT)), 400)


def test_admin_only_and_namespace_confined(make_api):
    api = make(make_api)
    client = token(api, "client-a", namespaces=["a"], role="client")
    admin_a = token(api, "admin-a", namespaces=["a"])
    ok(api.post("/v1/queues/qa/pause", params={"namespace": "a"}, headers=h(admin_a)))
    ok(api.post("/v1/queues/qb/pause", params={"namespace": "b"}, headers=h(ROOT)))
    error_of(api.get("/v1/audit", headers=h(client)), 403, "forbidden")
    error_of(api.get("/v1/audit"), 401)
    # The confined admin sees its namespace's entries only: not b's, nor
    # the tokens' (no namespace).
    seen = entries(api, admin_a)
    assert [(e["action"], e["object_id"], e["namespace"]) for e in seen] == [("queue.pause", "qa", "a")]
    error_of(api.get("/v1/audit", params={"namespace": "b"}, headers=h(admin_a)), 403, "forbidden_namespace")
    assert len(entries(api, ROOT)) == 4


def test_old_entries_go_with_retention(make_api):
    api = make(make_api, AUDIT_RETENTION_AFTER_SECS="3600", RETENTION_CLEANUP_INTERVAL_SECS="1")
    ok(api.post("/v1/queues/old/pause", headers=h(ROOT)))
    api.advance(1800)
    ok(api.post("/v1/queues/young/pause", headers=h(ROOT)))
    api.advance(1900)      # old: 3700 s; young: 1900 s
    wait_for(lambda: [e["object_id"] for e in entries(api)] == ["young"], timeout=10)
