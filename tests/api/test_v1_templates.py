"""Templates over /v1/templates: a version is registered once (the same
body again answers 200, another body under the version 409), listed
newest first with a cursor, read back with its canonical body; its steps
are checked by the decoder of POST /v1/runs with errors naming the step.
A run of a version is an ordinary run whose queue steps carry
{"context", "config"} as their input, in DAG order; its identity (the
context, a key, or none) decides whether a repeated request answers the
same run."""

import threading

import pytest

TEMPLATE = {
    "name": "onboard",
    "version": "1.0.0",
    "description": "Onboard a customer",
    "steps": [
        {"ref": "fetch", "queue": "tpl-fetch", "input": {"source": "crm"}},
        {"ref": "store", "queue": "tpl-store", "parents": [{"ref": "fetch"}]},
    ],
}


def register(api, body, expect=201, **query):
    r = api.post("/v1/templates", json=body, params=query or None)
    assert r.status_code == expect, r.text
    return r.json()


def start(api, name="onboard", version="1.0.0", expect=201, **body):
    r = api.post("/v1/templates/%s/%s/runs" % (name, version), json=body)
    assert r.status_code == expect, r.text
    return r.json()


def claim(api, queue):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w1", "max_jobs": 10})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def complete(api, job, result=None):
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"], "result": result})
    assert r.status_code == 200, r.text


def details(r, status=400):
    assert r.status_code == status, r.text
    e = r.json()["error"]
    return e.get("details") or [e.get("message")]


def test_register_same_body_and_conflict(api):
    t = register(api, TEMPLATE)
    assert t["namespace"] == "default" and t["name"] == "onboard" and t["version"] == "1.0.0"
    assert t["steps"] == 2 and t["description"] == "Onboard a customer"
    assert len(t["body_hash"]) == 64
    assert t["body"]["steps"] == TEMPLATE["steps"] and "namespace" not in t["body"]
    # The same body, its keys in another order: unchanged.
    reordered = {k: TEMPLATE[k] for k in reversed(list(TEMPLATE))}
    again = register(api, reordered, expect=200)
    assert again["id"] == t["id"] and again["body_hash"] == t["body_hash"]
    # Another body under the version: refused, naming the conflict; the first stays.
    changed = dict(TEMPLATE, steps=TEMPLATE["steps"][:1])
    r = api.post("/v1/templates", json=changed)
    assert r.status_code == 409, r.text
    e = r.json()["error"]
    assert e["code"] == "conflict"
    assert "onboard@1.0.0" in e["message"] and t["body_hash"] in e["message"], e
    got = api.get("/v1/templates/onboard/1.0.0")
    assert got.status_code == 200 and got.json()["steps"] == 2
    # A new version of it is a new row; another namespace is apart.
    assert register(api, dict(changed, version="1.1.0"))["steps"] == 1
    assert register(api, dict(changed, namespace="other"))["namespace"] == "other"
    assert api.get("/v1/templates/onboard/1.0.0?namespace=other").json()["steps"] == 1
    assert api.get("/v1/templates/onboard/1.0.0?namespace=nowhere").status_code == 404
    assert api.get("/v1/templates/onboard/9.9").status_code == 404


def test_validation_names_the_field(api):
    bad_steps = [
        {"ref": "a", "queue": "q"},
        {"ref": "b", "queue": "q", "max_attempts": 0},
        {"ref": "c", "queue": "q", "parents": [{"ref": "nope"}]},
        {"ref": "d", "executor": "rocket"},
    ]
    r = api.post("/v1/templates", json={"name": "Bad Name", "version": "1 0", "steps": bad_steps, "colour": 1})
    d = details(r)
    for prefix in ("name", "version", "colour", "steps[1].max_attempts", "steps[2].parents[0].ref",
                   "steps[3].executor"):
        assert any(x.startswith(prefix) for x in d), (prefix, d)
    assert not any(x.startswith("tasks") for x in d), d
    d = details(api.post("/v1/templates", json={"name": "x", "version": "1"}))
    assert any(x.startswith("steps") for x in d), d
    d = details(api.post("/v1/templates", json={"name": "x", "version": "1", "steps": []}))
    assert any(x.startswith("steps: must have 1 to") for x in d), d
    d = details(api.post("/v1/templates", json={"name": "x", "version": "v" * 33, "steps": [{"ref": "a",
                                                                                           "queue": "q"}]}))
    assert any(x.startswith("version") for x in d), d
    d = details(api.post("/v1/templates", json={"name": "x" * 65, "version": "1", "description": "d" * 1025,
                                                "steps": [{"ref": "a", "queue": "q"}]}), status=413)
    assert any(x.startswith("name") for x in d) and any(x.startswith("description") for x in d), d
    r = api.post("/v1/templates", json={"name": "x", "version": "1",
                                        "steps": [{"ref": "a", "queue": "q"}] * 1001})
    assert r.status_code == 413, r.text
    register(api, TEMPLATE)
    for body, field in (({"identity": "sometimes"}, "identity"), ({"identity": "key"}, "idempotency_key"),
                        ({"identity": "none", "idempotency_key": "k"}, "idempotency_key"),
                        ({"idempotency_key": "k" * 256}, "idempotency_key"), ({"shape": 1}, "shape")):
        d = details(api.post("/v1/templates/onboard/1.0.0/runs", json=body), status=(413 if "k" * 256 in
                                                                                    str(body) else 400))
        assert any(x.startswith(field) for x in d), (body, d)
    assert api.get("/v1/templates/Bad/1").status_code == 400
    assert api.post("/v1/templates/onboard/2.0/runs", json={}).status_code == 404


def test_list_pages_newest_first(api):
    for i in range(5):
        register(api, dict(TEMPLATE, version="1.%d" % i))
    register(api, dict(TEMPLATE, name="other-flow"))
    register(api, dict(TEMPLATE, namespace="elsewhere"))
    seen, cursor = [], None
    while True:
        q = "/v1/templates?limit=2" + ("&cursor=" + cursor if cursor else "")
        r = api.get(q)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["templates"]) <= 2
        assert all("body" not in t for t in page["templates"])
        seen += [(t["name"], t["version"]) for t in page["templates"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("other-flow", "1.0.0")] + [("onboard", "1.%d" % i) for i in range(4, -1, -1)]
    only = api.get("/v1/templates?name=other-flow").json()["templates"]
    assert [(t["name"], t["namespace"]) for t in only] == [("other-flow", "default")]
    assert [t["namespace"] for t in api.get("/v1/templates?namespace=elsewhere").json()["templates"]] == [
        "elsewhere"]
    first = api.get("/v1/templates?limit=1").json()
    r = api.get("/v1/templates?name=onboard&cursor=" + first["next_cursor"])
    assert r.status_code == 400 and "cursor" in r.text, r.text
    assert api.get("/v1/templates?limit=0").status_code == 400


def test_run_carries_context_in_dag_order(api):
    register(api, TEMPLATE)
    ctx = {"customer": {"id": 7, "tier": "gold"}, "tags": ["a", "b"]}
    run = start(api, context=ctx)
    assert run["created"] is True and run["name"] == "onboard@1.0.0"
    assert run["template"] == {"name": "onboard", "version": "1.0.0"}
    assert [t["ref"] for t in run["tasks"]] == ["fetch", "store"]
    # The child waits for its parent: nothing to claim on its queue yet.
    assert claim(api, "tpl-store") == []
    jobs = claim(api, "tpl-fetch")
    assert len(jobs) == 1
    assert jobs[0]["input"] == {"context": ctx, "config": {"source": "crm"}}
    assert jobs[0]["run_id"] == run["id"]
    complete(api, jobs[0], {"rows": 3})
    jobs = claim(api, "tpl-store")
    assert len(jobs) == 1
    assert jobs[0]["input"] == {"context": ctx, "config": None}
    assert [p["name"] for p in jobs[0]["parents"]] == ["fetch"]
    complete(api, jobs[0])
    got = api.get("/v1/runs/" + run["id"]).json()
    assert got["status"] == "success" and got["name"] == "onboard@1.0.0"
    assert got["template"] == {"name": "onboard", "version": "1.0.0"} and got["context"] == ctx


def test_identity_strategies(api):
    register(api, TEMPLATE)
    first = start(api, context={"a": 1, "b": {"c": 2, "d": 3}})
    # The same context, its keys in another order: the same run.
    again = start(api, expect=200, context={"b": {"d": 3, "c": 2}, "a": 1})
    assert again["id"] == first["id"] and again["created"] is False
    assert start(api, context={"a": 2})["id"] != first["id"]
    # key: the key decides, whatever the context.
    k1 = start(api, context={"x": 1}, idempotency_key="order-1")
    assert start(api, expect=200, context={"x": 2}, idempotency_key="order-1", identity="key")["id"] == k1["id"]
    assert start(api, context={"x": 1}, idempotency_key="order-2")["id"] != k1["id"]
    # none: every request a new run.
    n1 = start(api, context={"a": 1, "b": {"c": 2, "d": 3}}, identity="none")
    n2 = start(api, context={"a": 1, "b": {"c": 2, "d": 3}}, identity="none")
    assert len({n1["id"], n2["id"], first["id"]}) == 3
    # Identity is per version: the same context on another version is another run.
    register(api, dict(TEMPLATE, version="2.0.0"))
    other = start(api, version="2.0.0", context={"a": 1, "b": {"c": 2, "d": 3}})
    assert other["id"] != first["id"]


def test_concurrent_starts_make_one_run(api):
    register(api, TEMPLATE)
    ids, errors = [], []

    def go():
        try:
            r = api.post("/v1/templates/onboard/1.0.0/runs", json={"context": {"race": True}})
            if r.status_code in (200, 201):
                ids.append(r.json()["id"])
            else:
                errors.append(r.text)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(ids) == 8
    assert len(set(ids)) == 1


@pytest.mark.parametrize("executor", ["webhook"])
def test_webhook_step_is_checked_like_a_run_task(api, executor):
    r = api.post("/v1/templates", json={"name": "hooks", "version": "1",
                                        "steps": [{"ref": "a", "executor": executor}]})
    d = details(r)
    assert any(x.startswith("steps[0].on_start") for x in d), d


def test_idempotency_key_header_replays_the_answer(api):
    register(api, TEMPLATE)
    h = {"Idempotency-Key": "tpl-replay-1"}
    body = {"context": {"n": 1}, "identity": "none"}
    first = api.post("/v1/templates/onboard/1.0.0/runs", json=body, headers=h)
    assert first.status_code == 201, first.text
    again = api.post("/v1/templates/onboard/1.0.0/runs", json=body, headers=h)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    reg = api.post("/v1/templates", json=dict(TEMPLATE, version="3"), headers={"Idempotency-Key": "tpl-put-1"})
    assert reg.status_code == 201, reg.text
    rereg = api.post("/v1/templates", json=dict(TEMPLATE, version="3"), headers={"Idempotency-Key": "tpl-put-1"})
    assert rereg.status_code == 201 and rereg.json()["id"] == reg.json()["id"], rereg.text


@pytest.mark.postgres_only
def test_nodes_racing_on_one_database_make_one_run_and_one_version(weft_factory):
    """Four nodes on one PostgreSQL database: each applies its commands
    with its own engine, so the unique indexes decide the races."""
    first = weft_factory.start()
    nodes = [first] + [weft_factory.start(db=first.db) for _ in range(3)]
    apis = nodes   # each node answers HTTP itself (Server.get/post)
    codes, errors = [], []

    def register_on(a):
        try:
            codes.append(a.post("/v1/templates", json=TEMPLATE).status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=register_on, args=(apis[i % 4],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(codes) == [200] * 7 + [201], codes

    ids = []

    def start_on(a):
        try:
            r = a.post("/v1/templates/onboard/1.0.0/runs", json={"context": {"race": "nodes"}})
            ids.append((r.status_code, r.json().get("id")))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=start_on, args=(apis[i % 4],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({i for _, i in ids}) == 1, ids
    assert sorted(s for s, _ in ids) == [200] * 11 + [201], ids
    runs = apis[0].get("/v1/runs").json()["runs"]
    assert [r["name"] for r in runs] == ["onboard@1.0.0"]


def test_a_context_as_deep_as_a_request_allows_runs(api):
    # JSON_MAX_DEPTH is 64 levels for the whole body: {"context": ...} leaves 63.
    register(api, TEMPLATE)
    deep = 1
    for _ in range(63):
        deep = [deep]
    run = start(api, context=deep)
    assert run["created"] is True
    jobs = claim(api, "tpl-fetch")
    assert len(jobs) == 1 and jobs[0]["input"]["context"] == deep
    too_deep = api.post("/v1/templates/onboard/1.0.0/runs", json={"context": [deep]})
    assert too_deep.status_code == 400, too_deep.text


ROUTING = {
    "name": "route-order",
    "version": "2.0.0",
    "steps": [
        {"ref": "triage", "queue": "tpl-triage", "decision": True},
        {"ref": "express", "queue": "tpl-ship", "parents": [{"ref": "triage"}], "input": {"speed": "fast"}},
        {"ref": "standard", "queue": "tpl-ship", "parents": [{"ref": "triage"}], "input": {"speed": "slow"}},
        {"ref": "label", "queue": "tpl-ship", "parents": [{"ref": "standard"}]},
        {"ref": "notify", "queue": "tpl-notify", "parents": [{"ref": "express"}, {"ref": "label"}]},
    ],
}


def test_a_template_run_with_a_decision_step(api):
    """The decision's result names the branch; the other branch and what
    only it leads to end skipped, and the join after both runs."""
    register(api, ROUTING)
    run = start(api, name="route-order", version="2.0.0", context={"order": 42, "total": 950})
    (triage,) = claim(api, "tpl-triage")
    assert triage["input"] == {"context": {"order": 42, "total": 950}, "config": None}
    assert claim(api, "tpl-ship") == []
    complete(api, triage, {"next": ["express"], "reason": "total over 500"})

    (ship,) = claim(api, "tpl-ship")
    assert ship["input"]["config"] == {"speed": "fast"}
    assert claim(api, "tpl-ship") == []
    complete(api, ship, {"tracking": "X1"})
    (notify,) = claim(api, "tpl-notify")
    assert {p["name"]: p["status"] for p in notify["parents"]} == {"express": "success", "label": "skipped"}
    complete(api, notify)

    tasks = api.get("/v1/tasks", params={"run_id": run["id"], "limit": 10}).json()["tasks"]
    by_id = {t["id"]: t["status"] for t in tasks}
    status = {t["ref"]: by_id[t["id"]] for t in run["tasks"]}
    assert status == {"triage": "success", "express": "success", "standard": "skipped", "label": "skipped",
                      "notify": "success"}, status
    got = api.get("/v1/runs/" + run["id"]).json()
    assert got["status"] == "success" and got["template"] == {"name": "route-order", "version": "2.0.0"}


def test_a_template_decision_naming_no_child_fails_the_step(api):
    register(api, ROUTING)
    start(api, name="route-order", version="2.0.0", context={"order": 43})
    (triage,) = claim(api, "tpl-triage")
    complete(api, triage, {"next": ["notify"]})
    got = api.get("/v1/tasks/" + triage["id"]).json()
    assert got["status"] == "failure" and got["error"]["code"] == "invalid_decision", got
    assert "notify" in got["error"]["message"]
