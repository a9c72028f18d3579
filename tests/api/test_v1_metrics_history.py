"""GET /v1/metrics/history: the server counts what it commits step by step
(10 s in memory for the last hour, a row a minute in the database), with
the start latency's percentiles and the queue depth and running tasks; the
rows survive a restart and go after METRICS_HISTORY_DAYS (here its seconds
variant); time is moved by the harness clock, never slept."""

import datetime
import time

ROOT, TEAM_A = "admin-token-0123456789", "token-of-team-a-0123"
TOKENS = "root %s * admin; a %s a client" % (ROOT, TEAM_A)
HR, HA = {"Authorization": "Bearer " + ROOT}, {"Authorization": "Bearer " + TEAM_A}


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Clock:
    """The server's time as the test knows it: the real one plus what was advanced."""

    def __init__(self, api):
        self.api, self.ahead = api, 0.0

    def advance(self, secs):
        self.api.advance(secs)
        self.ahead += secs

    def now(self):
        return time.time() + self.ahead


def history(api, headers=HR, **params):
    r = api.get("/v1/metrics/history", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def total(samples, key):
    return sum(s[key] for s in samples)


def work(api):
    """Three jobs: one completes, one fails for good, one waits."""
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "q", "max_attempts": 1} for _ in range(3)]}, headers=HR)
    assert r.status_code == 201, r.text
    r = api.post("/v1/jobs/claim", json={"queues": ["q"], "worker_id": "w", "max_jobs": 2}, headers=HR)
    done, bad = r.json()["jobs"]
    r = api.post("/v1/jobs/%s/complete" % done["id"], json={"lease_token": done["lease_token"], "result": 1},
                 headers=HR)
    assert r.status_code == 200, r.text
    r = api.post("/v1/jobs/%s/fail" % bad["id"], headers=HR,
                 json={"lease_token": bad["lease_token"], "error": {"code": "boom", "retryable": False}})
    assert r.status_code == 200, r.text


def test_steps_minutes_restart_and_retention(make_api):
    api = make_api(WEFT_TOKENS=TOKENS, METRICS_HISTORY_AFTER_SECS="600", RETENTION_CLEANUP_INTERVAL_SECS="5")
    clock = Clock(api)
    work(api)
    clock.advance(10)
    h = history(api)
    assert h["step_secs"] == 10
    got = h["samples"]
    assert total(got, "created") == 3 and total(got, "completed") == 1 and total(got, "failed") == 1
    assert total(got, "retried") == 0
    last = got[-1]
    assert last["queue_depth"] == 1 and last["running"] == 0
    busy = [s for s in got if s["created"]]
    assert busy and all(s["latency_p50_ms"] is not None for s in got if s["completed"] + s["failed"])
    assert all(s["latency_p50_ms"] <= s["latency_p95_ms"] <= s["latency_p99_ms"] for s in busy
               if s["latency_p50_ms"] is not None)
    ats = [s["at"] for s in got]
    assert ats == sorted(ats) and len(set(ats)) == len(ats)

    # A minute later its row is stored: an older range reads the rows.
    clock.advance(70)
    since, until = clock.now() - 7200, clock.now() + 86400
    stored = history(api, since=iso(since), until=iso(until))
    assert stored["step_secs"] == 60
    assert total(stored["samples"], "created") == 3 and total(stored["samples"], "failed") == 1

    # The rows survive a restart.
    from harness import Api
    api2 = Api(api.server.restart(same_port=True), api.mock)
    again = history(api2, since=iso(since), until=iso(until))
    assert total(again["samples"], "created") == 3

    # Past METRICS_HISTORY_AFTER_SECS the retention pass deletes them.
    clock2 = Clock(api2)
    clock2.ahead = 0
    clock2.advance(clock.ahead + 700)
    clock2.advance(10)
    gone = history(api2, since=iso(since), until=iso(until + 1000))
    assert total(gone["samples"], "created") == 0


def test_bounds_and_scoped_tokens(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    r = api.get("/v1/metrics/history", headers=HA)
    assert r.status_code == 403, r.text
    r = api.get("/v1/metrics/history", params={"since": "yesterday"}, headers=HR)
    assert r.status_code == 400 and "since" in r.text
    now = time.time()
    r = api.get("/v1/metrics/history", params={"since": iso(now - 40 * 86400), "until": iso(now)}, headers=HR)
    assert r.status_code == 400 and "since" in r.text
    r = api.get("/v1/metrics/history", params={"since": iso(now), "until": iso(now - 10)}, headers=HR)
    assert r.status_code == 400 and "since" in r.text
