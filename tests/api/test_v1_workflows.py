"""/v1/workflows: a run is a job of its queue, claimed by ordinary workers;
an idempotent start answers the active run holding its key (200) and
creates nothing, a finished run frees the key; a run is read by id and by
key; a run of a namespace the token may not see is unknown; bad bodies are
refused naming the field."""

import pytest

A = "token-of-team-a-0123"
B = "token-of-team-b-0123"
TOKENS = "a %s a client; b %s b client" % (A, B)


def h(token):
    return {"Authorization": "Bearer " + token}


def start(api, status=201, headers=None, **body):
    body.setdefault("type", "order")
    body.setdefault("queue", "wf")
    r = api.post("/v1/workflows", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def test_start_get_and_claim(api):
    run = start(api, input={"order": 7}, max_attempts=3)
    assert run["status"] == "pending" and run["type"] == "order" and run["queue"] == "wf"
    assert run["namespace"] == "default" and run["input"] == {"order": 7}
    assert run["output"] is None and run["error"] is None and run["suspended"] is None
    assert run["idempotency_key"] is None and run["ended_at"] is None
    got = api.get("/v1/workflows/" + run["id"])
    assert got.status_code == 200 and got.json() == run
    # The run is a job of its queue: an ordinary worker claims it, with the
    # run's input, under a lease.
    r = api.post("/v1/jobs/claim", json={"queues": ["wf"], "worker_id": "w1"})
    assert r.status_code == 200, r.text
    (job,) = r.json()["jobs"]
    assert job["id"] == run["id"] and job["input"] == {"order": 7} and job["name"] == "order"
    assert job["max_attempts"] == 3 and job["lease_token"]


def test_idempotent_start(api):
    first = start(api, idempotency_key="order-7", input=1)
    # The same key while the run is active: that run, 200, nothing new.
    again = start(api, status=200, idempotency_key="order-7", input=2)
    assert again["id"] == first["id"] and again["input"] == 1
    # Another key, or no key: new runs.
    other = start(api, idempotency_key="order-8")
    assert other["id"] != first["id"]
    by_key = api.get("/v1/workflows/by-key/order-7")
    assert by_key.status_code == 200 and by_key.json()["id"] == first["id"]
    error_of(api.get("/v1/workflows/by-key/order-9"), 404, "not_found")
    # Only one job was enqueued for the key.
    r = api.post("/v1/jobs/claim", json={"queues": ["wf"], "worker_id": "w1", "max_jobs": 10})
    assert sorted(j["id"] for j in r.json()["jobs"]) == sorted([first["id"], other["id"]])


def test_key_per_namespace(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    a = start(api, headers=h(A), idempotency_key="k")
    b = start(api, headers=h(B), idempotency_key="k")
    assert a["id"] != b["id"] and a["namespace"] == "a" and b["namespace"] == "b"
    # A run of another namespace is unknown, by id and by key.
    error_of(api.get("/v1/workflows/" + a["id"], headers=h(B)), 404, "not_found")
    error_of(api.get("/v1/workflows/by-key/k?namespace=a", headers=h(B)), 404, "not_found")
    assert api.get("/v1/workflows/by-key/k", headers=h(B)).json()["id"] == b["id"]
    # Starting in a namespace the token may not see.
    error_of(api.post("/v1/workflows", json={"namespace": "a", "type": "t", "queue": "q"}, headers=h(B)),
             403, "forbidden_namespace")


@pytest.mark.parametrize("body, field", [
    ({"queue": "wf"}, "type"),
    ({"type": "t"}, "queue"),
    ({"type": "t", "queue": "wf", "dedup": {"key": "x"}}, "dedup"),
    ({"type": "t", "queue": "wf", "idempotency_key": ""}, "idempotency_key"),
    ({"type": "t", "queue": "wf", "idempotency_key": 5}, "idempotency_key"),
    ({"type": "t", "queue": "wf", "namespace": "Bad NS"}, "namespace"),
    ({"type": "t", "queue": "wf", "max_attempts": 0}, "max_attempts"),
    ({"type": "t", "queue": "wf", "surprise": 1}, "surprise"),
])
def test_start_validation(api, body, field):
    e = error_of(api.post("/v1/workflows", json=body), 400, "invalid_request")
    assert field in str(e), e


def test_unknown_run(api):
    error_of(api.get("/v1/workflows/00000000-0000-4000-8000-000000000000"), 404, "not_found")
