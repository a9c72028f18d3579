"""/v1 task reads: GET /v1/tasks/{id} (its shape), GET /v1/tasks (filters,
keyset pages that neither skip nor repeat a task while tasks are created
and finished between pages, cursors refused with other filters) and
GET /v1/tasks/{id}/events; the /v1 error body."""

import re

import pytest

from harness import wait_for

TASK_KEYS = {"id", "run_id", "namespace", "executor", "queue", "name", "status", "attempt", "max_attempts",
             "priority", "input", "result", "metadata", "created_at", "started_at", "ended_at", "dead_letter",
             "attempts"}
SUMMARY_KEYS = TASK_KEYS - {"input", "result", "attempts"}
MS_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:500])
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def create(api, n, prefix, **kw):
    bid, tasks = api.create_batch([api.task("%s%d" % (prefix, i), **kw) for i in range(n)])
    return bid, [tasks["%s%d" % (prefix, i)]["id"] for i in range(n)]


def test_get_task_shape(api):
    bid, (tid,) = create(api, 1, "a", metadata={"k": "v"}, priority=3)
    api.wait_status(tid, "Running")
    r = api.get("/v1/tasks/" + tid)
    assert r.status_code == 200, r.text
    t = r.json()
    assert set(t) == TASK_KEYS, set(t) ^ TASK_KEYS
    assert t["id"] == tid and t["run_id"] == bid
    assert t["namespace"] == "default"
    assert t["executor"] == "webhook" and t["queue"] is None
    assert t["status"] == "running" and t["attempt"] == 1 and t["max_attempts"] == 1
    assert t["priority"] == 3 and t["metadata"] == {"k": "v"}
    assert t["input"] is None and t["result"] is None and t["attempts"] == []
    assert t["dead_letter"] is False
    assert MS_TS.match(t["created_at"]) and MS_TS.match(t["started_at"]) and t["ended_at"] is None

    api.fail(tid, reason="it broke")
    t = api.get("/v1/tasks/" + tid).json()
    assert t["status"] == "failure"
    assert t["error"] == {"code": "failed", "message": "it broke"}
    assert MS_TS.match(t["ended_at"])


def test_unknown_and_malformed(api):
    e = error_of(api.get("/v1/tasks/00000000-0000-4000-8000-000000000000"), 404, "not_found")
    assert e["details"] == []
    error_of(api.get("/v1/tasks/not-a-uuid"), 404, "not_found")
    error_of(api.get("/v1/nothing"), 404, "not_found")
    error_of(api.get("/v1/tasks/00000000-0000-4000-8000-000000000000/events"), 404, "not_found")


def test_list_filters(api):
    _, first = create(api, 3, "f", kind="alpha")
    bid, second = create(api, 2, "s", kind="beta")
    for tid in first + second:
        api.wait_status(tid, "Running")
    api.succeed(second[0])

    page = api.get("/v1/tasks").json()
    assert set(page) == {"tasks", "next_cursor"} and page["next_cursor"] is None
    ids = [t["id"] for t in page["tasks"]]
    assert sorted(ids) == sorted(first + second)
    assert all(set(t) == SUMMARY_KEYS for t in page["tasks"])
    keys = [(t["created_at"], t["id"]) for t in page["tasks"]]
    assert keys == sorted(keys, reverse=True)          # newest first

    got = api.get("/v1/tasks", params={"run_id": bid}).json()["tasks"]
    assert sorted(t["id"] for t in got) == sorted(second)
    got = api.get("/v1/tasks", params={"status": "success"}).json()["tasks"]
    assert [t["id"] for t in got] == [second[0]]
    got = api.get("/v1/tasks", params={"status": "running,success", "executor": "webhook"}).json()["tasks"]
    assert len(got) == 5
    assert api.get("/v1/tasks", params={"executor": "queue"}).json()["tasks"] == []
    assert api.get("/v1/tasks", params={"queue": "alpha"}).json()["tasks"] == []   # not jobs
    assert len(api.get("/v1/tasks", params={"namespace": "default"}).json()["tasks"]) == 5
    assert api.get("/v1/tasks", params={"namespace": "other"}).json()["tasks"] == []

    t0 = api.get("/v1/tasks/" + second[0]).json()["created_at"]
    got = api.get("/v1/tasks", params={"created_after": t0}).json()["tasks"]
    assert sorted(t["id"] for t in got) == sorted(second)
    got = api.get("/v1/tasks", params={"created_before": t0}).json()["tasks"]
    assert sorted(t["id"] for t in got) == sorted(first)


def test_list_validation_names_the_parameter(api):
    for params, name in (({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"), ({"status": "done"}, "status"),
                         ({"namespace": "Bad NS"}, "namespace"), ({"queue": "-x"}, "queue"),
                         ({"run_id": "x"}, "run_id"), ({"created_after": "soon"}, "created_after"),
                         ({"cursor": "garbage"}, "cursor"), ({"executor": "Web Hook"}, "executor")):
        e = error_of(api.get("/v1/tasks", params=params), 400, "invalid_request")
        assert len(e["details"]) == 1 and e["details"][0].startswith(name + ": "), (params, e)
        assert name in e["message"]


def page_through(api, limit, params=None, between=None):
    seen, cursor, pages = [], None, 0
    while True:
        q = dict(params or {}, limit=limit)
        if cursor:
            q["cursor"] = cursor
        r = api.get("/v1/tasks", params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["tasks"]) <= limit
        seen += [t["id"] for t in body["tasks"]]
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None:
            return seen, pages
        if between:
            between(pages)


def test_pages_neither_skip_nor_repeat_while_tasks_change(api):
    original = []
    for b in range(4):
        original += create(api, 60, "o%d-" % b)[1]
    finished = set()

    def between(page):
        # New tasks arrive at the front; some of the listed ones finish
        # (their rows change, their place in the order does not).
        create(api, 7, "n%d-" % page)
        victim = original[(page * 37) % len(original)]
        if victim not in finished and api.status(victim) == "Running":
            api.succeed(victim)
            finished.add(victim)

    seen, pages = page_through(api, 25, between=between)
    assert pages >= 10
    assert len(seen) == len(set(seen)), "a task was listed twice"
    missing = set(original) - set(seen)
    assert not missing, "%d tasks skipped" % len(missing)


def test_cursor_bound_to_its_filters(api):
    create(api, 5, "c")
    body = api.get("/v1/tasks", params={"limit": 2}).json()
    cursor = body["next_cursor"]
    assert cursor
    assert api.get("/v1/tasks", params={"limit": 3, "cursor": cursor}).status_code == 200   # limit may change
    e = error_of(api.get("/v1/tasks", params={"limit": 2, "cursor": cursor, "status": "running"}), 400,
                 "invalid_request")
    assert e["details"][0].startswith("cursor: ")
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert api.get("/v1/tasks", params={"cursor": tampered}).status_code == 400


def test_events(api):
    _, (tid,) = create(api, 1, "e")
    api.wait_status(tid, "Running")
    api.succeed(tid)
    body = api.get("/v1/tasks/%s/events" % tid).json()
    assert body["next_cursor"] is None
    ev = body["events"]
    assert ev[0]["from"] is None and ev[0]["actor"] == "api"
    assert [e["to"] for e in ev][-1] == "success"
    assert all(MS_TS.match(e["at"]) and set(e) == {"at", "from", "to", "reason", "actor"} for e in ev)

    # Paged one by one, the same trail.
    got, cursor = [], None
    while True:
        q = {"limit": 1}
        if cursor:
            q["cursor"] = cursor
        page = api.get("/v1/tasks/%s/events" % tid, params=q).json()
        got += page["events"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert got == ev
    # Another task's cursor is refused.
    _, (other,) = create(api, 1, "x")
    first = api.get("/v1/tasks/%s/events" % tid, params={"limit": 1}).json()["next_cursor"]
    error_of(api.get("/v1/tasks/%s/events" % other, params={"cursor": first}), 400, "invalid_request")


def test_openapi_document_served_without_token(make_api):
    api = make_api(AUTH_TOKEN="s3cret-token")
    r = api.get("/v1/openapi.json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.") and "/v1/tasks" in doc["paths"]
    error_of(api.get("/v1/tasks"), 401, "unauthorized")


def test_a_lone_jobs_run_is_itself(api):
    """A job enqueued alone is a run of one task whose run_id is its own id:
    filtering tasks by that run finds the job, and nothing else."""
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "solo", "input": 1}, {"queue": "solo", "input": 2}]})
    assert r.status_code == 201, r.text
    first, second = (j["id"] for j in r.json()["jobs"])
    job = api.get("/v1/tasks/" + first).json()
    assert job["run_id"] == first
    got = api.get("/v1/tasks", params={"run_id": first}).json()["tasks"]
    assert [t["id"] for t in got] == [first]
    got = api.get("/v1/tasks", params={"run_id": first, "status": "success"}).json()["tasks"]
    assert got == []
