"""/v1 jobs end to end: enqueue -> claim -> complete, the fencing token
(a stale token changes nothing: 409 stale_lease), failures and release,
validation naming each field, namespaces of two scoped tokens, and the
long poll of a claim (answered by an enqueue, by the end of its wait, and
not holding up the server's stop)."""

import json
import re
import socket
import threading
import time

import pytest

from harness import wait_for

A = "token-of-team-a-0123"
B = "token-of-team-b-0123"
ADMIN = "admin-token-0123456789"
TOKENS = "a %s a client; b %s b client; root %s * admin" % (A, B, ADMIN)


def h(token):
    return {"Authorization": "Bearer " + token}


def enqueue(api, jobs, token=None, **body):
    body["jobs"] = jobs
    r = api.post("/v1/jobs", json=body, headers=h(token) if token else None)
    assert r.status_code in (200, 201), r.text
    return r.json()["jobs"]


def claim(api, queues, token=None, worker="w1", **kw):
    body = dict(queues=queues, worker_id=worker, **kw)
    r = api.post("/v1/jobs/claim", json=body, headers=h(token) if token else None)
    assert r.status_code == 200, r.text
    return r.json()


def parked(api):
    """Claims the server holds waiting for jobs (the job_claims_parked gauge)."""
    m = re.search(r"^job_claims_parked (\S+)$", api.get("/metrics").text, re.M)
    return int(float(m.group(1))) if m else 0


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def test_enqueue_claim_complete(api):
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "emails", "input": {"to": "x@y"}, "priority": 5,
                                              "metadata": {"m": 1}}]})
    assert r.status_code == 201, r.text
    (job,) = r.json()["jobs"]
    assert set(job) == {"id", "run_id", "queue", "status", "duplicate"}
    assert job["queue"] == "emails" and job["status"] == "pending" and job["duplicate"] is False
    assert job["run_id"] == job["id"]

    got = claim(api, ["emails"], max_jobs=10)
    assert got["drain"] is False
    (c,) = got["jobs"]
    assert c["id"] == job["id"] and c["queue"] == "emails" and c["name"] == "emails"
    assert c["attempt"] == 1 and c["max_attempts"] == 5
    assert isinstance(c["lease_token"], str) and c["lease_token"].isdigit()
    assert c["input"] == {"to": "x@y"} and c["metadata"] == {"m": 1} and c["parents"] == []
    assert c["heartbeat_ms"] == 20000
    assert c["lease_until"] <= c["timeout_at"]
    assert claim(api, ["emails"])["jobs"] == []          # held: nothing more to claim

    t = api.get("/v1/tasks/" + c["id"]).json()
    assert t["status"] == "running" and t["executor"] == "queue" and t["queue"] == "emails"
    assert t["lease"]["worker_id"] == "w1" and "lease_token" not in t["lease"]

    r = api.post("/v1/jobs/%s/complete" % c["id"], json={"lease_token": c["lease_token"], "result": {"sent": True}})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": c["id"], "outcome": "completed"}
    # Sent again: safe, nothing changes.
    r = api.post("/v1/jobs/complete", json={"items": [{"id": c["id"], "lease_token": c["lease_token"]}]})
    assert r.json() == {"results": [{"id": c["id"], "outcome": "already_completed"}]}
    t = api.get("/v1/tasks/" + c["id"]).json()
    assert t["status"] == "success" and t["result"] == {"sent": True} and "lease" not in t


def test_stale_token_changes_nothing(api):
    (job,) = enqueue(api, [{"queue": "q"}])
    (c,) = claim(api, ["q"])["jobs"]
    stale = str(int(c["lease_token"]) + 1)
    e = error_of(api.post("/v1/jobs/%s/complete" % c["id"], json={"lease_token": stale}), 409, "stale_lease")
    assert e["details"] == []
    error_of(api.post("/v1/jobs/%s/fail" % c["id"], json={"lease_token": stale, "error": {"code": "x"}}), 409,
             "stale_lease")
    r = api.post("/v1/jobs/complete", json={"items": [{"id": c["id"], "lease_token": stale}]})
    assert r.json()["results"] == [{"id": c["id"], "outcome": "stale_lease"}]
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": c["id"], "lease_token": stale}]})
    assert r.json()["leases"][0]["state"] == "lost"
    t = api.get("/v1/tasks/" + c["id"]).json()
    assert t["status"] == "running" and t["result"] is None and t["lease"]["worker_id"] == "w1"
    # The holder's token still works.
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": c["id"], "lease_token": c["lease_token"]}]})
    assert r.json()["leases"][0]["state"] == "held" and r.json()["leases"][0]["lease_until"]
    unknown = "00000000-0000-4000-8000-000000000000"
    error_of(api.post("/v1/jobs/%s/complete" % unknown, json={"lease_token": "1"}), 404, "not_found")


def test_fail_retry_and_release(api):
    (job,) = enqueue(api, [{"queue": "q", "max_attempts": 2, "backoff": {"initial_ms": 1000, "jitter": 0}}])
    (c,) = claim(api, ["q"])["jobs"]
    r = api.post("/v1/jobs/fail", json={"items": [{"id": c["id"], "lease_token": c["lease_token"],
                                                   "error": {"code": "boom", "message": "it broke"}}]})
    (res,) = r.json()["results"]
    assert res["outcome"] == "retrying" and res["next_attempt_at"]
    assert claim(api, ["q"])["jobs"] == []              # not before its backoff
    api.advance(1.5)
    (c2,) = claim(api, ["q"])["jobs"]
    assert c2["id"] == c["id"] and c2["attempt"] == 2 and c2["lease_token"] != c["lease_token"]
    r = api.post("/v1/jobs/release", json={"items": [{"id": c2["id"], "lease_token": c2["lease_token"]}]})
    assert r.json()["results"] == [{"id": c2["id"], "outcome": "released"}]
    (c3,) = claim(api, ["q"])["jobs"]
    assert c3["attempt"] == 2
    r = api.post("/v1/jobs/%s/fail" % c3["id"], json={"lease_token": c3["lease_token"],
                                                      "error": {"code": "boom", "retryable": True}})
    assert r.status_code == 200 and r.json()["outcome"] == "dead_lettered"
    t = api.get("/v1/tasks/" + c["id"]).json()
    assert t["status"] == "failure" and t["dead_letter"] is True
    assert t["error"]["code"] == "boom"
    assert [a["outcome"] for a in t["attempts"]][:1] == ["failed"]


def test_validation_names_fields(api):
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "q", "priority": 5000},
                                            {"queue": "bad queue", "max_attempts": 0, "delay_ms": 5,
                                             "run_at": "2026-01-01T00:00:00Z"}]})
    e = error_of(r, 400, "invalid_request")
    for prefix in ("jobs[0].priority:", "jobs[1].queue:", "jobs[1].max_attempts:", "jobs[1].delay_ms:"):
        assert any(d.startswith(prefix) for d in e["details"]), (prefix, e["details"])
    e = error_of(api.post("/v1/jobs", json={"jobs": [{"queue": "q"}] * 1001}), 413, "payload_too_large")
    assert e["details"] == ["jobs: must have 1 to 1000 elements, has 1001"]
    e = error_of(api.post("/v1/jobs", data="{not json", headers={"Content-Type": "application/json"}), 400,
                 "invalid_request")
    assert "JSON" in e["message"]
    e = error_of(api.post("/v1/jobs/claim", json={"queues": ["q"], "wait_ms": 60001}), 400, "invalid_request")
    assert sorted(e["details"]) == ["wait_ms: must be from 0 to 60000", "worker_id: missing field"]
    e = error_of(api.post("/v1/jobs/complete", json={"items": [{"id": "x", "lease_token": 3}]}), 400,
                 "invalid_request")
    assert any(d.startswith("items[0].id:") for d in e["details"])
    assert any(d.startswith("items[0].lease_token:") for d in e["details"])


def test_namespaces_of_two_tokens(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    (ja,) = enqueue(api, [{"queue": "q", "input": 1}], token=A)        # namespace a: A's only one
    (jb,) = enqueue(api, [{"queue": "q", "input": 2}], token=B)
    error_of(api.post("/v1/jobs", json={"namespace": "a", "jobs": [{"queue": "q"}]}, headers=h(B)), 403,
             "forbidden_namespace")
    error_of(api.post("/v1/jobs/claim", json={"namespace": "a", "queues": ["q"], "worker_id": "w"}, headers=h(B)),
             403, "forbidden_namespace")

    # Each sees only its own.
    error_of(api.get("/v1/tasks/" + ja["id"], headers=h(B)), 404, "not_found")
    assert api.get("/v1/tasks/" + ja["id"], headers=h(A)).json()["namespace"] == "a"
    assert [t["id"] for t in api.get("/v1/tasks", headers=h(B)).json()["tasks"]] == [jb["id"]]
    assert len(api.get("/v1/tasks", headers=h(ADMIN)).json()["tasks"]) == 2

    # B's claim on the queue of the same name takes B's job only.
    (cb,) = claim(api, ["q"], token=B, max_jobs=10)["jobs"]
    assert cb["id"] == jb["id"] and cb["input"] == 2
    (ca,) = claim(api, ["q"], token=A, max_jobs=10)["jobs"]
    assert ca["id"] == ja["id"]
    # B cannot report on A's job, even with its token.
    error_of(api.post("/v1/jobs/%s/complete" % ca["id"], json={"lease_token": ca["lease_token"]}, headers=h(B)),
             404, "not_found")
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w", "leases": [{"id": ca["id"], "lease_token": ca["lease_token"]}]},
                 headers=h(B))
    assert r.json()["leases"][0]["state"] == "not_found"
    assert api.get("/v1/tasks/" + ca["id"], headers=h(A)).json()["status"] == "running"
    r = api.post("/v1/jobs/%s/complete" % ca["id"], json={"lease_token": ca["lease_token"]}, headers=h(A))
    assert r.status_code == 200
    assert api.get("/v1/tasks/" + ca["id"], headers=h(A)).json()["status"] == "success"


def test_job_trail_names_the_token(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    enqueue(api, [{"queue": "q"}], token=A)
    (c,) = claim(api, ["q"], token=A)["jobs"]
    api.post("/v1/jobs/%s/complete" % c["id"], json={"lease_token": c["lease_token"]}, headers=h(A))
    ev = api.get("/v1/tasks/%s/events" % c["id"], headers=h(A)).json()["events"]
    assert [(e["from"], e["to"], e["actor"]) for e in ev[1:]] == [("pending", "running", "token:a"),
                                                                   ("running", "success", "token:a")], ev


def test_claim_waits_for_an_enqueue(api):
    out = {}

    def waiter():
        t0 = time.monotonic()
        out["body"] = claim(api, ["later"], wait_ms=30000)
        out["secs"] = time.monotonic() - t0

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)                                   # the claim is parked (nothing to wait on but time)
    assert th.is_alive()
    (job,) = enqueue(api, [{"queue": "later"}])
    th.join(10)
    assert not th.is_alive()
    assert [j["id"] for j in out["body"]["jobs"]] == [job["id"]]
    assert out["secs"] < 5


def test_claim_answered_empty_after_its_wait(api):
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("body", claim(api, ["none"], wait_ms=60000)))
    th.start()
    wait_for(lambda: parked(api) == 1, desc="the claim waits on the server")
    assert th.is_alive()
    api.advance(61)
    th.join(10)
    assert out["body"] == {"jobs": [], "drain": False}


def test_parked_claim_does_not_hold_the_stop(api):
    out = {}

    def waiter():
        r = api.post("/v1/jobs/claim", json={"queues": ["none"], "worker_id": "w", "wait_ms": 60000})
        out["status"] = r.status_code

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    assert api.server.stop() == []
    assert time.monotonic() - t0 < 5
    th.join(10)
    assert out["status"] in (200, 503)


def test_arcrun_shows_scoped_tokens_the_default_namespace(make_api):
    both = "token-default-and-b-01"
    api = make_api(WEFT_TOKENS=TOKENS + "; d %s default,b client" % both)
    (jb,) = enqueue(api, [{"queue": "q"}], token=B)
    (jd,) = enqueue(api, [{"queue": "q"}], token=both)          # two namespaces: default
    r = api.get("/task", headers=h(both))
    assert r.status_code == 200
    assert [t["id"] for t in r.json()] == [jd["id"]]
    assert api.get("/task/" + jb["id"], headers=h(both)).status_code == 404
    assert api.get("/task/" + jd["id"], headers=h(both)).status_code == 200
    # Through /v1 the same token sees both namespaces; "*" sees all through ArcRun.
    assert len(api.get("/v1/tasks", headers=h(both)).json()["tasks"]) == 2
    assert sorted(t["id"] for t in api.get("/task", headers=h(ADMIN)).json()) == sorted([jb["id"], jd["id"]])


def test_lost_lease_fences_the_first_worker(api):
    enqueue(api, [{"queue": "q", "max_attempts": 3}])
    (first,) = claim(api, ["q"], worker="w1", lease_ms=5000)["jobs"]
    api.advance(6)                                    # the lease runs out: pending again
    (second,) = wait_for(lambda: claim(api, ["q"], worker="w2")["jobs"], desc="the job to be claimable again")
    assert second["id"] == first["id"] and second["attempt"] == 2
    assert int(second["lease_token"]) > int(first["lease_token"])
    error_of(api.post("/v1/jobs/%s/complete" % first["id"], json={"lease_token": first["lease_token"]}), 409,
             "stale_lease")
    r = api.post("/v1/jobs/fail", json={"items": [{"id": first["id"], "lease_token": first["lease_token"],
                                                   "error": {"code": "late"}}]})
    assert r.json()["results"][0]["outcome"] == "stale_lease"
    t = api.get("/v1/tasks/" + first["id"]).json()
    assert t["status"] == "running" and t["lease"]["worker_id"] == "w2" and t["result"] is None
    r = api.post("/v1/jobs/%s/complete" % second["id"], json={"lease_token": second["lease_token"], "result": 7})
    assert r.json()["outcome"] == "completed"
    t = api.get("/v1/tasks/" + first["id"]).json()
    assert t["status"] == "success" and t["result"] == 7
    assert [a["outcome"] for a in t["attempts"]] == ["lease_expired"]


def test_duplicates_answer_200_with_the_existing_job(api):
    (j1,) = enqueue(api, [{"queue": "q", "dedup": {"key": "k"}}])
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "q", "dedup": {"key": "k"}},
                                            {"queue": "q", "dedup": {"key": "k"}}]})
    assert r.status_code == 200, r.text
    assert [(j["id"], j["duplicate"]) for j in r.json()["jobs"]] == [(j1["id"], True), (j1["id"], True)]
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "q", "dedup": {"key": "k"}}, {"queue": "q"}]})
    assert r.status_code == 201
    assert [j["duplicate"] for j in r.json()["jobs"]] == [True, False]


def test_idempotency_key_replays_an_enqueue(api):
    body = {"jobs": [{"queue": "q", "input": 1}, {"queue": "q", "input": 2}]}
    r1 = api.post("/v1/jobs", json=body, headers={"Idempotency-Key": "batch-1"})
    r2 = api.post("/v1/jobs", json=body, headers={"Idempotency-Key": "batch-1"})
    assert r1.status_code == r2.status_code == 201
    assert r2.headers.get("Idempotent-Replayed") == "true"
    assert [j["id"] for j in r2.json()["jobs"]] == [j["id"] for j in r1.json()["jobs"]]
    assert len(claim(api, ["q"], max_jobs=10)["jobs"]) == 2
    r3 = api.post("/v1/jobs", json={"jobs": [{"queue": "q"}]}, headers={"Idempotency-Key": "batch-1"})
    assert r3.status_code == 422 and r3.json()["error"]["code"] == "conflict"


def test_body_limit_of_v1(api):
    # Past ArcRun's 2 MiB: /v1 takes up to 16 MiB (each input up to 1 MiB).
    big = "x" * (900 * 1024)
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "big", "input": big}] * 3})
    assert r.status_code == 201, r.text[:300]
    (c,) = claim(api, ["big"])["jobs"]
    assert c["input"] == big
    r = api.post("/v1/jobs", data=b"{" + b" " * (17 << 20) + b"}", headers={"Content-Type": "application/json"})
    e = error_of(r, 413, "payload_too_large")
    assert "16777216" in e["message"]


def test_arcrun_cannot_act_on_another_namespace(make_api):
    both = "token-default-and-b-01"
    api = make_api(WEFT_TOKENS=TOKENS + "; d %s default,b client" % both)
    (jb,) = enqueue(api, [{"queue": "q"}], token=B)
    for method, path in (("DELETE", "/task/" + jb["id"]), ("PATCH", "/task/pause/" + jb["id"]),
                         ("PATCH", "/task/" + jb["id"]), ("PUT", "/task/" + jb["id"]),
                         ("GET", "/task/%s/events" % jb["id"])):
        r = api.server.request(method, path, json={"status": "Success"} if method == "PATCH" else {}, headers=h(both))
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert api.get("/v1/tasks/" + jb["id"], headers=h(B)).json()["status"] == "pending"
    # A "*" token acts through ArcRun on any task.
    assert api.delete("/task/" + jb["id"], headers=h(ADMIN)).status_code == 200
    assert api.get("/v1/tasks/" + jb["id"], headers=h(B)).json()["status"] == "canceled"


def test_canceled_while_held(api):
    (job,) = enqueue(api, [{"queue": "q"}])
    (c,) = claim(api, ["q"])["jobs"]
    assert api.delete("/task/" + c["id"]).status_code == 200          # canceled through ArcRun
    r = api.post("/v1/jobs/heartbeat", json={"worker_id": "w1", "leases": [{"id": c["id"], "lease_token": c["lease_token"]}]})
    assert r.json()["leases"] == [{"id": c["id"], "state": "canceled"}]
    error_of(api.post("/v1/jobs/%s/complete" % c["id"], json={"lease_token": c["lease_token"]}), 409, "canceled")
    r = api.post("/v1/jobs/release", json={"items": [{"id": c["id"], "lease_token": c["lease_token"]}]})
    assert r.json()["results"] == [{"id": c["id"], "outcome": "canceled"}]
    assert api.get("/v1/tasks/" + c["id"]).json()["status"] == "canceled"


def test_claim_of_a_client_gone_takes_no_job(api):
    """A client that closes its connection while its claim waits is not
    handed the next job: the job goes to the next claim, as its first
    attempt, instead of waiting out a lease nobody holds."""
    body = json.dumps({"queues": ["gone"], "worker_id": "w-gone", "wait_ms": 60000}).encode()
    s = socket.create_connection(("127.0.0.1", api.server.port))
    s.sendall(b"POST /v1/jobs/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    wait_for(lambda: parked(api) == 1, desc="the claim waits on the server")
    s.close()
    wait_for(lambda: parked(api) == 0, desc="the abandoned claim is answered")
    (job,) = enqueue(api, [{"queue": "gone"}])
    (c,) = claim(api, ["gone"], worker="w-next")["jobs"]
    assert c["id"] == job["id"] and c["attempt"] == 1
