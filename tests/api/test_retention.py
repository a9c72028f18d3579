"""Retention: terminal tasks move to an archive, leave the lists, and stay
readable by id with their audit trail."""

from harness import wait_for


def test_terminal_tasks_archived(make_api, mock):
    api = make_api(RETENTION_ARCHIVE_AFTER_SECS="1", RETENTION_CLEANUP_INTERVAL_SECS="0.5")
    b_done, ids_done = api.create_batch([api.task("done", on_success=[api.hook("/ok")])])
    b_live, ids_live = api.create_batch([api.task("live")])
    done, live = ids_done["done"]["id"], ids_live["live"]["id"]
    api.wait_status(live, "Running")
    api.wait_status(done, "Running")
    api.succeed(done)
    mock.wait_hits("/ok", 1)
    before = api.get_task(done)
    wait_for(lambda: done not in [t["id"] for t in api.list_tasks()], timeout=2.5,
             desc="the finished task to leave GET /task")
    assert [t["id"] for t in api.list_tasks()] == [live]
    assert api.list_tasks(batch_id=b_done) == []
    assert [b["batch_id"] for b in api.get("/batches").json()] == [b_live]
    assert api.get("/batch/" + b_done).status_code == 404
    assert api.get("/batch/" + b_live).json()["total_tasks"] == 1
    got = api.get_task(done)
    assert got["actions"] == []
    for key in ("id", "name", "kind", "status", "metadata", "batch_id", "created_at", "started_at", "ended_at",
                "success", "failures", "failure_reason"):
        assert got[key] == before[key], key
    assert [(e["from"], e["to"]) for e in api.events(done)] == \
        [(None, "Pending"), ("Pending", "Claimed"), ("Claimed", "Running"), ("Running", "Success")]
    # non-terminal tasks stay
    assert api.status(live) == "Running"
    assert len(api.get_task(live)["actions"]) == 1

