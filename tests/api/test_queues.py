"""/v1 queues: pause and resume (a parked claim stays parked, resume
answers it at once), the figures (depth by status, oldest ready job,
throughput), configuration with validation naming each field and the
actor in the queue's trail, namespaces, and the limits: a per-key
concurrency limit held by 8 concurrent workers (one node, and two nodes on
one PostgreSQL database), a total concurrency limit, and a token-bucket
rate limit held over 3 s of server time."""

import datetime
import random
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
    return r.json()["jobs"]


def complete(api, job):
    r = api.post("/v1/jobs/%s/complete" % job["id"], json={"lease_token": job["lease_token"]})
    assert r.status_code == 200, r.text


def patch(api, name, body, token=None, **params):
    return api.patch("/v1/queues/" + name, json=body, params=params, headers=h(token) if token else None)


def queue(api, name, token=None, **params):
    r = api.get("/v1/queues/" + name, params=params, headers=h(token) if token else None)
    assert r.status_code == 200, r.text
    return r.json()


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def ms(ts):
    """RFC 3339 with milliseconds -> ms since the epoch."""
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(d.timestamp() * 1000)


def max_overlap(intervals):
    """Most intervals [start, end) open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


# ---- pause and resume ------------------------------------------------------------------


def test_pause_keeps_jobs_and_resume_answers_a_parked_claim(api):
    (job,) = enqueue(api, [{"queue": "pq"}])
    r = api.post("/v1/queues/pq/pause")
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["paused"] is True and q["depth"]["ready"] == 0 and q["depth"]["paused"] == 1
    assert claim(api, ["pq"], wait_ms=0) == []          # paused: nothing, at once

    got = {}

    def parked():
        t0 = time.monotonic()
        got["jobs"] = claim(api, ["pq"], wait_ms=30000)
        got["secs"] = time.monotonic() - t0

    th = threading.Thread(target=parked)
    th.start()
    time.sleep(0.5)
    enqueue(api, [{"queue": "pq"}])                      # an enqueue does not unpause it
    time.sleep(0.3)
    assert th.is_alive(), "a claim on a paused queue must stay parked"
    t0 = time.monotonic()
    r = api.post("/v1/queues/pq/resume")
    assert r.status_code == 200 and r.json()["paused"] is False
    th.join(timeout=5)
    assert not th.is_alive()
    assert time.monotonic() - t0 < 2.0                   # woken, not polled
    assert [j["id"] for j in got["jobs"]] == [job["id"]]
    assert got["secs"] < 10


# ---- figures ---------------------------------------------------------------------------


def test_stats_follow_enqueue_claim_complete_and_fail(api):
    enqueue(api, [{"queue": "st", "input": {"i": i}} for i in range(4)])
    enqueue(api, [{"queue": "st", "delay_ms": 3600000}])
    q = queue(api, "st")
    assert q["depth"] == {"ready": 4, "scheduled": 1, "running": 0, "retrying": 0, "paused": 0, "dead": 0}
    assert q["oldest_ready_age_ms"] is not None and q["oldest_ready_age_ms"] >= 0
    assert q["throughput"]["completed"] == {"1m": 0, "5m": 0, "15m": 0}

    jobs = claim(api, ["st"], max_jobs=3)
    assert len(jobs) == 3
    assert queue(api, "st")["depth"]["running"] == 3
    complete(api, jobs[0])
    r = api.post("/v1/jobs/fail", json={"items": [
        {"id": jobs[1]["id"], "lease_token": jobs[1]["lease_token"], "error": {"code": "boom"}},
        {"id": jobs[2]["id"], "lease_token": jobs[2]["lease_token"],
         "error": {"code": "fatal", "retryable": False}}]})
    assert [x["outcome"] for x in r.json()["results"]] == ["retrying", "dead_lettered"]
    q = queue(api, "st")
    assert q["depth"] == {"ready": 1, "scheduled": 1, "running": 0, "retrying": 1, "paused": 0, "dead": 1}
    t = q["throughput"]
    assert t["completed"] == {"1m": 1, "5m": 1, "15m": 1}
    assert t["failed"] == {"1m": 2, "5m": 2, "15m": 2}
    assert t["dead_lettered"]["1m"] == 1
    # Six minutes later the 1-minute and 5-minute windows are empty.
    api.advance(6 * 60)
    t = queue(api, "st")["throughput"]
    assert t["completed"] == {"1m": 0, "5m": 0, "15m": 1}


def test_list_pages_with_a_cursor(api):
    for i in range(5):
        enqueue(api, [{"queue": "list-%d" % i}])
    seen, cursor = [], None
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/v1/queues", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["queues"]) <= 2
        seen += [q["name"] for q in page["queues"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["list-%d" % i for i in range(5)]
    error_of(api.get("/v1/queues", params={"cursor": "nope"}), 400, "invalid_request")
    error_of(api.get("/v1/queues", params={"limit": 0}), 400, "invalid_request")
    error_of(api.get("/v1/queues/nothing-here"), 404, "not_found")


# ---- configuration -----------------------------------------------------------------------


def test_patch_sets_and_removes_limits_and_names_bad_fields(api):
    r = patch(api, "cfg", {"concurrency_limit": 5, "key_concurrency_limit": 2,
                           "rate_limit": {"limit": 10, "period_ms": 500}})
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["concurrency_limit"] == 5 and q["key_concurrency_limit"] == 2
    assert q["rate_limit"] == {"limit": 10, "period_ms": 500, "burst": 10}
    assert q["updated_by"] == "api"
    q = patch(api, "cfg", {"rate_limit": None, "concurrency_limit": None}).json()
    assert q["rate_limit"] is None and q["concurrency_limit"] is None and q["key_concurrency_limit"] == 2
    assert [c["action"] for c in q["recent_changes"]] == ["configure", "configure"]

    e = error_of(patch(api, "cfg", {"concurrency_limit": 0, "key_concurrency_limit": "2",
                                    "rate_limit": {"limit": 0, "period_ms": 86400001, "burst": -1, "x": 1},
                                    "color": "red"}), 400, "invalid_request")
    text = " ".join(e["details"])
    for field in ("concurrency_limit", "key_concurrency_limit", "rate_limit.limit", "rate_limit.period_ms",
                  "rate_limit.burst", "rate_limit.x", "color"):
        assert field + ":" in text, (field, e["details"])
    error_of(patch(api, "cfg", {"rate_limit": {"period_ms": 10}}), 400, "invalid_request")
    error_of(patch(api, "cfg", {}), 400, "invalid_request")
    error_of(patch(api, "cfg", []), 400, "invalid_request")
    error_of(patch(api, "cfg", {"concurrency_limit": 1}, namespace="Bad NS"), 400, "invalid_request")


def test_changes_honour_an_idempotency_key(api):
    body = {"concurrency_limit": 3}
    hdr = {"Idempotency-Key": "cfg-once-1"}
    r1 = api.patch("/v1/queues/idem", json=body, headers=hdr)
    r2 = api.patch("/v1/queues/idem", json=body, headers=hdr)
    assert r1.status_code == r2.status_code == 200
    assert len(queue(api, "idem")["recent_changes"]) == 1
    r3 = api.patch("/v1/queues/idem", json={"concurrency_limit": 4}, headers=hdr)
    assert r3.status_code == 422, r3.text                # the key names another request


def test_namespaces_and_admin_tokens(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    enqueue(api, [{"queue": "shared"}], token=A)
    enqueue(api, [{"queue": "shared"}, {"queue": "only-b"}], token=B)
    # Client tokens read their own namespace's queues only.
    assert queue(api, "shared", token=A)["namespace"] == "a"
    error_of(api.get("/v1/queues/only-b", headers=h(A)), 404, "not_found")
    error_of(api.get("/v1/queues/shared", params={"namespace": "b"}, headers=h(A)), 404, "not_found")
    names = [(q["namespace"], q["name"]) for q in api.get("/v1/queues", headers=h(B)).json()["queues"]]
    assert names == [("b", "only-b"), ("b", "shared")]
    error_of(api.get("/v1/queues", params={"namespace": "a"}, headers=h(B)), 403, "forbidden_namespace")
    # Changes need an admin token; another namespace's queue is unknown.
    error_of(api.post("/v1/queues/shared/pause", headers=h(A)), 403, "forbidden")
    error_of(patch(api, "shared", {"concurrency_limit": 1}, token=A), 403, "forbidden")
    error_of(api.post("/v1/queues/shared/pause", params={"namespace": "b"}, headers=h(A)), 404, "not_found")
    r = api.post("/v1/queues/shared/pause", params={"namespace": "a"}, headers=h(ADMIN))
    assert r.status_code == 200 and r.json()["paused"] is True
    assert r.json()["updated_by"] == "token:root"
    assert r.json()["recent_changes"][0]["actor"] == "token:root"
    # Pausing a's queue leaves b's queue of the same name alone.
    assert claim(api, ["shared"], token=A) == []
    assert len(claim(api, ["shared"], token=B)) == 1
    everything = api.get("/v1/queues", headers=h(ADMIN)).json()["queues"]
    assert [(q["namespace"], q["name"]) for q in everything] == [("a", "shared"), ("b", "only-b"), ("b", "shared")]


# ---- limits ------------------------------------------------------------------------------


def run_workers(apis, queue_name, n_threads, total, hold=(0.0, 0.02), wait_ms=500):
    """n_threads workers (spread over apis) claim one job at a time, hold
    it a random while and complete it, until `total` jobs are done."""
    done = []
    lock = threading.Lock()
    errors = []

    def work(i):
        api = apis[i % len(apis)]
        try:
            while True:
                with lock:
                    if len(done) >= total:
                        return
                jobs = claim(api, [queue_name], worker="w%d" % i, wait_ms=wait_ms)
                for j in jobs:
                    time.sleep(random.uniform(*hold))
                    complete(api, j)
                    with lock:
                        done.append(j["id"])
        except Exception as ex:  # noqa: BLE001 - reported below
            errors.append(repr(ex))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return done


def overlaps_per_key(api, jobs_by_key):
    out = {}
    for key, ids in jobs_by_key.items():
        spans = []
        for i in ids:
            t = api.get("/v1/tasks/" + i).json()
            assert t["status"] == "success", t
            spans.append((ms(t["started_at"]), ms(t["ended_at"])))
        out[key] = max_overlap(spans)
    return out


def key_limit_run(apis, **work):
    api = apis[0]
    assert patch(api, "keyed", {"key_concurrency_limit": 2}).status_code == 200
    by_key = {}
    for k in ("k0", "k1", "k2"):
        jobs = enqueue(api, [{"queue": "keyed", "concurrency_key": k} for _ in range(40)])
        by_key[k] = [j["id"] for j in jobs]
    done = run_workers(apis, "keyed", 8, 120, **work)
    assert sorted(done) == sorted(sum(by_key.values(), []))
    return overlaps_per_key(api, by_key)


def test_key_concurrency_limit_is_held_and_reached(api):
    assert key_limit_run([api]) == {"k0": 2, "k1": 2, "k2": 2}


@pytest.mark.postgres_only("two nodes share one PostgreSQL database")
def test_key_concurrency_limit_across_two_nodes(weft_factory, mock, pg):
    from harness import Api
    first = weft_factory.start()
    second = weft_factory.start(db=first.db)
    apis = [Api(first, mock), Api(second, mock)]
    # Long polls, then claims that never wait (both nodes claim at once).
    assert key_limit_run(apis) == {"k0": 2, "k1": 2, "k2": 2}
    assert key_limit_run(apis, hold=(0.0, 0.002), wait_ms=0) == {"k0": 2, "k1": 2, "k2": 2}


def test_queue_concurrency_limit(api):
    assert patch(api, "total", {"concurrency_limit": 3}).status_code == 200
    enqueue(api, [{"queue": "total"} for _ in range(10)])
    held = claim(api, ["total"], max_jobs=10)
    assert len(held) == 3
    assert claim(api, ["total"], max_jobs=10) == []
    assert queue(api, "total")["depth"]["running"] == 3
    # A parked claim is answered when a job of the queue ends.
    got = {}
    th = threading.Thread(target=lambda: got.setdefault("jobs", claim(api, ["total"], wait_ms=30000, max_jobs=5)))
    th.start()
    time.sleep(0.3)
    assert th.is_alive()
    complete(api, held[0])
    th.join(timeout=5)
    assert not th.is_alive() and len(got["jobs"]) == 1
    # Removing the limit frees the rest.
    assert patch(api, "total", {"concurrency_limit": None}).status_code == 200
    assert len(claim(api, ["total"], max_jobs=10)) == 6


def test_rate_limit_is_held_over_three_seconds(api):
    """20 per second, burst 20: by server time t after the first claim, at
    most 20 + 20 t jobs were claimed, and at least 60 after 3 s."""
    assert patch(api, "rated", {"rate_limit": {"limit": 20, "period_ms": 1000, "burst": 20}}).status_code == 200
    enqueue(api, [{"queue": "rated", "rate_key": "partner"} for _ in range(200)])
    times = []
    for step in range(61):
        if step:
            api.advance(0.05)
        while True:
            jobs = claim(api, ["rated"], max_jobs=100, lease_ms=3600000)
            if not jobs:
                break
            for j in jobs:
                times.append(ms(j["lease_until"]) - 3600000)    # the server's time of the claim
    times.sort()
    t0 = times[0]
    # Times on the wire are whole ms: a claim's measured t may be up to 1 ms
    # short of its real one.
    for k, t in enumerate(times, start=1):
        assert k <= 20 + 20 * (t - t0 + 1) / 1000.0, (k, t - t0)
    assert len(times) >= 60, len(times)


def test_rate_limited_parked_claim_wakes_at_the_next_token(api):
    assert patch(api, "tok", {"rate_limit": {"limit": 1, "period_ms": 60000, "burst": 1}}).status_code == 200
    enqueue(api, [{"queue": "tok"} for _ in range(2)])
    assert len(claim(api, ["tok"], max_jobs=5)) == 1
    got = {}
    th = threading.Thread(target=lambda: got.setdefault("jobs", claim(api, ["tok"], wait_ms=30000)))
    th.start()
    time.sleep(0.3)
    assert th.is_alive()                    # no token for a minute
    api.advance(61)                         # the token's deadline fires: no polling
    th.join(timeout=5)
    assert not th.is_alive() and len(got["jobs"]) == 1
