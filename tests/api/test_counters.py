"""PUT /task/{id}: counter increments and heartbeats, durable once answered,
and the bound on what a client may send."""

import threading
import time
import uuid

from harness import parse_ts


def test_put_increments_counters_immediately(api):
    t = api.running("a")
    r = api.counters(t["id"], 5, 2)
    assert r.status_code == 202
    assert r.text.strip() == "Queued"
    got = api.get_task(t["id"])  # no waiting: durable when answered
    assert (got["success"], got["failures"]) == (5, 2)


def test_put_accumulates_multiple_updates(api):
    t = api.running("a")
    for _ in range(10):
        assert api.counters(t["id"], 1).status_code == 202
    assert api.get_task(t["id"])["success"] == 10


def test_put_concurrent_updates_all_counted(api):
    t = api.running("a")
    errors = []

    def worker():
        import requests
        s = requests.Session()
        for _ in range(25):
            r = s.put(api.server.url("/task/" + t["id"]), json={"new_success": 1, "new_failures": 2}, timeout=20)
            if r.status_code != 202:
                errors.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"]) == (200, 400)


def test_put_rejects_zero_counters(api):
    t = api.running("a")
    for body in ({"new_success": 0, "new_failures": 0}, {}, {"new_success": 0}, {"metadata": {"x": 1}}):
        r = api.put("/task/" + t["id"], json=body)
        assert r.status_code == 400, (body, r.status_code)
        assert r.text.strip() == "At least one of new_success or new_failures must be non-zero"


def test_put_rejects_negative_counters(api):
    t = api.running("a")
    r = api.put("/task/" + t["id"], json={"new_success": -1})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "Validation failed"
    assert "new_success: new_success cannot be negative" in body["details"]
    r = api.put("/task/" + t["id"], json={"new_success": 2, "new_failures": -4})
    assert r.status_code == 400
    assert "new_failures: new_failures cannot be negative" in r.json()["details"]
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"]) == (0, 0)


def test_put_unknown_task_404(api):
    r = api.put("/task/%s" % uuid.uuid4(), json={"new_success": 1})
    assert r.status_code == 404


def test_put_ignores_status_validation(api):
    t = api.running("a")
    r = api.put("/task/" + t["id"], json={"status": "Failure", "new_success": 1})
    assert r.status_code == 202
    got = api.get_task(t["id"])
    assert got["status"] == "Running" and got["success"] == 1


def test_put_persists_counters_on_terminal_tasks(api):
    ok = api.running("ok")
    api.succeed(ok["id"], new_success=1)
    assert api.counters(ok["id"], 4, 1).status_code == 202
    got = api.get_task(ok["id"])
    assert (got["status"], got["success"], got["failures"]) == ("Success", 5, 1)

    canceled = api.running("c")
    assert api.cancel(canceled["id"]).status_code == 200
    assert api.counters(canceled["id"], 3).status_code == 202
    got = api.get_task(canceled["id"])
    assert (got["status"], got["success"]) == ("Canceled", 3)

    failed = api.running("f")
    api.fail(failed["id"])
    assert api.counters(failed["id"], 0, 6).status_code == 202
    assert api.get_task(failed["id"])["failures"] == 6


def test_put_on_pending_and_waiting_tasks(api):
    created = api.create([api.task("p"), api.task("c", deps=["p"])])
    assert api.counters(created[1]["id"], 2).status_code == 202
    got = api.get_task(created[1]["id"])
    assert (got["status"], got["success"]) == ("Waiting", 2)


MAX_COUNT = 2 ** 53 - 1   # the largest integer every JSON client reads exactly


def test_client_counters_are_bounded(api):
    """Counters a client sends are at most 2^53 - 1: larger ones are refused
    naming the field, and nothing is added."""
    t = api.running("a")
    for body, field in (({"new_success": 2 ** 63 - 1}, "new_success"), ({"new_failures": MAX_COUNT + 1}, "new_failures"),
                        ({"new_success": 1, "new_failures": 2 ** 62}, "new_failures")):
        r = api.put("/task/" + t["id"], json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["details"] == ["%s: %s cannot exceed %d" % (field, field, MAX_COUNT)], r.text
        r = api.patch("/task/" + t["id"], json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["details"] == ["%s: %s cannot exceed %d" % (field, field, MAX_COUNT)], r.text
    r = api.patch("/task/" + t["id"], json={"expected_count": MAX_COUNT + 1})
    assert r.status_code == 400
    assert r.json()["details"] == ["expected_count: expected_count cannot exceed %d" % MAX_COUNT]
    r = api.create_raw([api.task("b", expected_count=2 ** 63 - 1)])
    assert r.status_code == 400
    assert r.json()["details"] == ["tasks[0].expected_count: expected_count cannot exceed %d" % MAX_COUNT]
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"], got["expected_count"]) == (0, 0, None)

    # the bound itself is accepted, and the batch adds up
    assert api.counters(t["id"], MAX_COUNT, MAX_COUNT).status_code == 202
    assert api.patch("/task/" + t["id"], json={"expected_count": MAX_COUNT}).status_code == 200
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"], got["expected_count"]) == (MAX_COUNT, MAX_COUNT, MAX_COUNT)
    r = api.get("/batch/" + t["batch_id"])
    assert r.status_code == 200, r.text
    assert (r.json()["total_success"], r.json()["total_failures"]) == (MAX_COUNT, MAX_COUNT)


def test_task_counters_never_pass_the_bound(api):
    """A task's counter holds at most 2^53 - 1: an increment that would
    pass it is refused whole, naming the field, and changes nothing; the
    task and its batch still read correctly."""
    t = api.running("a")
    r = api.put("/task/" + t["id"], json={"new_success": MAX_COUNT})
    assert r.status_code == 202, r.text
    for method in (api.put, api.patch):
        r = method("/task/" + t["id"], json={"new_success": 1})
        assert r.status_code == 400, r.text
        assert r.json()["details"] == ["new_success: the task's success counter would exceed %d" % MAX_COUNT]
        # refused whole: the other counter is not added either
        r = method("/task/" + t["id"], json={"new_failures": 5, "new_success": 1})
        assert r.status_code == 400, r.text
        assert r.json()["details"] == ["new_success: the task's success counter would exceed %d" % MAX_COUNT]
    r = api.put("/task/" + t["id"], json={"new_failures": MAX_COUNT})
    assert r.status_code == 202, r.text
    r = api.put("/task/" + t["id"], json={"new_failures": 1})
    assert r.status_code == 400, r.text
    assert r.json()["details"] == ["new_failures: the task's failures counter would exceed %d" % MAX_COUNT]
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"], got["status"]) == (MAX_COUNT, MAX_COUNT, "Running")
    r = api.get("/batch/" + t["batch_id"])
    assert r.status_code == 200, r.text
    assert (r.json()["total_success"], r.json()["total_failures"]) == (MAX_COUNT, MAX_COUNT)
    # a completion without counters still applies
    assert api.patch("/task/" + t["id"], json={"status": "Success"}).status_code == 200
    assert api.get_task(t["id"])["status"] == "Success"


def test_put_counters_are_64_bit(api):
    t = api.running("a")
    assert api.counters(t["id"], 3_000_000_000).status_code == 202
    assert api.counters(t["id"], 3_000_000_000, 2_500_000_000).status_code == 202
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"]) == (6_000_000_000, 2_500_000_000)
    stats = api.get("/batch/" + t["batch_id"]).json()
    assert stats["total_success"] == 6_000_000_000


def test_put_refreshes_last_updated(api):
    t = api.running("a")
    before = parse_ts(api.get_task(t["id"])["last_updated"])
    time.sleep(0.02)
    assert api.counters(t["id"], 1).status_code == 202
    assert parse_ts(api.get_task(t["id"])["last_updated"]) > before


def test_put_and_patch_counters_add_up(api):
    t = api.running("a")
    api.counters(t["id"], 2, 1)
    assert api.patch_task(t["id"], {"new_success": 3}).status_code == 200
    api.counters(t["id"], 1)
    api.succeed(t["id"], new_failures=4)
    got = api.get_task(t["id"])
    assert (got["success"], got["failures"]) == (6, 5)
