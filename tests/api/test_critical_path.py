"""GET /batch/{id}/critical-path: the longest chain of a batch's DAG by
depth and by duration."""

import time
import uuid

from harness import parse_ts


def critical_path(api, bid):
    r = api.get("/batch/%s/critical-path" % bid)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"by_depth", "by_duration", "duration_secs"}, body
    return body


def run(api, tid):
    api.wait_status(tid, "Running")
    api.succeed(tid)


def test_diamond_by_duration(api):
    bid, ids = api.create_batch([api.task("A"), api.task("B", deps=["A"]), api.task("C", deps=["A"]),
                                 api.task("D", deps=["B", "C"])])
    A, B, C, D = (ids[k]["id"] for k in "ABCD")
    run(api, A)
    api.wait_status(C, "Running")
    run(api, B)
    time.sleep(0.5)  # C runs half a second longer than B
    api.succeed(C)
    run(api, D)
    cp = critical_path(api, bid)
    assert cp["by_duration"] == [A, C, D]
    assert len(cp["by_depth"]) == 3 and cp["by_depth"][0] == A and cp["by_depth"][2] == D
    assert cp["by_depth"][1] in (B, C)
    tasks = {k: api.get_task(ids[k]["id"]) for k in "ABCD"}
    c_ran = parse_ts(tasks["C"]["ended_at"]) - parse_ts(tasks["C"]["started_at"])
    assert c_ran >= 0.45
    span = parse_ts(tasks["D"]["ended_at"]) - parse_ts(tasks["A"]["created_at"])
    assert c_ran - 0.01 <= cp["duration_secs"] <= span + 0.01, (cp["duration_secs"], c_ran, span)


def test_depth_and_duration_differ(api):
    # A -> B -> C -> E (four deep) and A -> D -> E (three deep, but D is slow)
    bid, ids = api.create_batch([api.task("A"), api.task("B", deps=["A"]), api.task("C", deps=["B"]),
                                 api.task("D", deps=["A"]), api.task("E", deps=["C", "D"])])
    A, B, C, D, E = (ids[k]["id"] for k in "ABCDE")
    run(api, A)
    api.wait_status(D, "Running")
    run(api, B)
    run(api, C)
    time.sleep(0.6)
    api.succeed(D)
    run(api, E)
    cp = critical_path(api, bid)
    assert cp["by_depth"] == [A, B, C, E]
    assert cp["by_duration"] == [A, D, E]
    assert cp["duration_secs"] >= 0.55


def test_single_task_batch(api):
    bid, ids = api.create_batch([api.task("only")])
    run(api, ids["only"]["id"])
    cp = critical_path(api, bid)
    assert cp["by_depth"] == [ids["only"]["id"]] and cp["by_duration"] == [ids["only"]["id"]]
    assert cp["duration_secs"] >= 0


def test_unknown_batch_is_404(api):
    bid, _ = api.create_batch([api.task("a")])
    assert api.get("/batch/%s/critical-path" % bid).status_code == 200
    assert api.get("/batch/%s/critical-path" % uuid.uuid4()).status_code == 404
