"""Cron schedules on several nodes sharing one PostgreSQL database: every
node may serve the schedule's routes, but only the elected node fires, so
each due time starts its job (or template run) once; when that node dies, another takes
over and the next due time still fires once. Each process has its own
injected clock, so every node's clock is moved by the same amount."""

import pytest

from harness import Api, parse_ts, stays, wait_for
from test_cluster import leader_flags, start_nodes

pytestmark = pytest.mark.postgres_only


def advance_all(nodes, secs):
    for srv in nodes:
        if srv.alive():
            srv.advance(secs)


def schedule(api, name):
    r = api.get("/v1/schedules/" + name)
    assert r.status_code == 200, r.text
    return r.json()


def claimed(api, queue):
    r = api.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": "w", "max_jobs": 100,
                                         "lease_ms": 3600000})
    assert r.status_code == 200, r.text
    return [j["id"] for j in r.json()["jobs"]]


def test_three_nodes_fire_each_due_time_once(weft_factory, mock, pg):
    nodes = start_nodes(weft_factory, 3)
    flags = wait_for(lambda: (lambda f: f if sorted(f) == [0, 0, 1] else None)(leader_flags(nodes)),
                     timeout=5, desc="exactly one leader among three nodes")
    apis = [Api(srv, mock) for srv in nodes]
    r = apis[0].post("/v1/schedules", json={"name": "every-minute", "cron": "* * * * *",
                                            "target": {"kind": "job", "queue": "cl-sched"}})
    assert r.status_code == 201, r.text
    s = r.json()
    due = parse_ts(s["next_fire_at"])
    # Move every clock past the first due time, then past each next one.
    advance_all(nodes, due - parse_ts(s["created_at"]) + 0.5)
    jobs = []
    for n in (1, 2, 3):
        wait_for(lambda: schedule(apis[n % 3], "every-minute")["fires"] == n, timeout=5,
                 desc="firing %d" % n)
        stays(lambda: schedule(apis[(n + 1) % 3], "every-minute")["fires"] == n, duration=0.5,
              desc="one firing per due time")
        got = claimed(apis[n % 3], "cl-sched")
        assert len(got) == 1, (n, got)
        jobs += got
        if n < 3:
            advance_all(nodes, 60)
    assert len(set(jobs)) == 3
    g = schedule(apis[0], "every-minute")
    assert g["last_job_id"] == jobs[-1]

    # The elected node dies: another takes over and fires the next time once.
    leader = flags.index(1)
    nodes[leader].kill()
    live = [i for i in range(3) if i != leader]
    wait_for(lambda: sorted(f for f in leader_flags(nodes) if f is not None) == [0, 1], timeout=5,
             desc="a new leader")
    advance_all(nodes, 60)
    api = apis[live[0]]
    wait_for(lambda: schedule(api, "every-minute")["fires"] == 4, timeout=5, desc="the firing after the failover")
    stays(lambda: schedule(apis[live[1]], "every-minute")["fires"] == 4, duration=0.5,
          desc="one firing after the failover")
    assert len(claimed(api, "cl-sched")) == 1


def test_a_template_target_starts_one_run_per_due_time_on_three_nodes(weft_factory, mock, pg):
    nodes = start_nodes(weft_factory, 3)
    wait_for(lambda: sorted(leader_flags(nodes)) == [0, 0, 1], timeout=5, desc="one leader among three nodes")
    apis = [Api(srv, mock) for srv in nodes]
    r = apis[1].post("/v1/templates", json={"name": "etl", "version": "1", "steps": [{"ref": "a", "queue": "cl-tpl"}]})
    assert r.status_code == 201, r.text
    r = apis[2].post("/v1/schedules", json={"name": "tpl", "cron": "* * * * *",
                                            "target": {"kind": "template", "template": "etl@1", "context": 7}})
    assert r.status_code == 201, r.text
    s = r.json()
    advance_all(nodes, parse_ts(s["next_fire_at"]) - parse_ts(s["created_at"]) + 0.5)
    runs = []
    for n in (1, 2):
        wait_for(lambda: schedule(apis[n % 3], "tpl")["fires"] == n, timeout=5, desc="firing %d" % n)
        stays(lambda: schedule(apis[(n + 1) % 3], "tpl")["fires"] == n, duration=0.5, desc="one firing")
        r = apis[n % 3].post("/v1/jobs/claim", json={"queues": ["cl-tpl"], "worker_id": "w", "max_jobs": 10,
                                                     "lease_ms": 3600000})
        jobs = r.json()["jobs"]
        assert len(jobs) == 1 and jobs[0]["input"] == {"context": 7, "config": None}, jobs
        runs.append(jobs[0]["run_id"])
        if n < 2:
            advance_all(nodes, 60)
    assert len(set(runs)) == 2 and schedule(apis[0], "tpl")["last_run_id"] == runs[-1]
