"""Deduplication at submit time (dedupe_strategy): a task one of whose
matchers finds an existing task (or an earlier one of its batch) of the
matcher's kind and status, with the same values in the matcher's metadata
fields, is skipped, and dependencies on it are dropped."""

from harness import UUID_RE


def matcher(kind, status, fields=("unique_key",)):
    return {"kind": kind, "status": status, "fields": list(fields)}


def assert_all_deduped(r):
    assert r.status_code == 204, "expected 204, got %d: %s" % (r.status_code, r.text[:500])
    assert UUID_RE.match(r.headers.get("X-Batch-ID", ""))
    assert r.content == b""


def test_dedupe_skip_existing_pending(api, mock):
    hold = api.hold()
    existing = api.create([api.task("a", **hold.kw(unique_key="abc"))])[0]
    assert existing["status"] == "Pending"
    before = len(api.list_tasks())
    r = api.create_raw([api.task("b", kind=hold.kind, metadata={"unique_key": "abc"},
                                 dedupe_strategy=[matcher(hold.kind, "Pending")])])
    assert_all_deduped(r)
    assert len(api.list_tasks()) == before
    assert api.list_tasks(batch_id=r.headers["X-Batch-ID"]) == []
    assert mock.count("/start/b") == 0


def test_dedupe_within_same_batch(api):
    hold = api.hold()
    r = api.create_raw([api.task("a", **hold.kw(unique_key="k1")),
                        api.task("b", dedupe_strategy=[matcher(hold.kind, "Pending")], **hold.kw(unique_key="k1")),
                        api.task("c", dedupe_strategy=[matcher(hold.kind, "Pending")], **hold.kw(unique_key="k2"))])
    assert r.status_code == 201
    assert [t["name"] for t in r.json()] == ["task-a", "task-c"]


def test_dedupe_different_value_not_deduped(api):
    hold = api.hold()
    api.create([api.task("a", **hold.kw(unique_key="abc"))])
    r = api.create_raw([api.task("b", kind=hold.kind, metadata={"unique_key": "xyz"},
                                 dedupe_strategy=[matcher(hold.kind, "Pending")])])
    assert r.status_code == 201


def test_bug7_dedupe_not_over_aggressive_when_metadata_is_none(api):
    hold = api.hold()
    api.create([api.task("a", **hold.kw(unique_key="abc"))])
    t = api.task("b", kind=hold.kind, dedupe_strategy=[matcher(hold.kind, "Pending")])
    del t["metadata"]
    r = api.create_raw([t])
    assert r.status_code == 201
    t2 = api.task("c", kind=hold.kind, metadata=None, dedupe_strategy=[matcher(hold.kind, "Pending")])
    assert api.create_raw([t2]).status_code == 201


def test_bug7_dedupe_two_tasks_both_no_metadata(api):
    def bare(i):
        t = api.task(i, kind="nometa", dedupe_strategy=[matcher("nometa", "Running")])
        del t["metadata"]
        return t

    r = api.create_raw([bare("a")])
    assert r.status_code == 201
    api.wait_status(r.json()[0]["id"], "Running")
    r = api.create_raw([bare("b")])
    assert r.status_code == 201


def test_dedupe_against_running_task(api):
    api.running("a", kind="svc", metadata={"unique_key": "r1"})
    r = api.create_raw([api.task("b", kind="svc", metadata={"unique_key": "r1"},
                                 dedupe_strategy=[matcher("svc", "Running")])])
    assert_all_deduped(r)


def test_dedupe_pending_does_not_match_running(api):
    api.running("a", kind="svc", metadata={"unique_key": "r1"})
    r = api.create_raw([api.task("b", kind="svc", metadata={"unique_key": "r1"},
                                 dedupe_strategy=[matcher("svc", "Pending")])])
    assert r.status_code == 201


def test_dedupe_against_terminal_status(api):
    t = api.running("a", kind="svc", metadata={"unique_key": "done"})
    api.succeed(t["id"])
    r = api.create_raw([api.task("b", kind="svc", metadata={"unique_key": "done"},
                                 dedupe_strategy=[matcher("svc", "Success")])])
    assert_all_deduped(r)
    r = api.create_raw([api.task("c", kind="svc", metadata={"unique_key": "done"},
                                 dedupe_strategy=[matcher("svc", "Failure")])])
    assert r.status_code == 201


def test_dedupe_matcher_kind_may_differ(api):
    api.running("a", kind="producer", metadata={"unique_key": "x"})
    r = api.create_raw([api.task("b", kind="consumer", metadata={"unique_key": "x"},
                                 dedupe_strategy=[matcher("producer", "Running")])])
    assert_all_deduped(r)


def test_dedupe_matchers_are_ored(api):
    api.running("a", kind="svc", metadata={"unique_key": "x"})
    r = api.create_raw([api.task("b", kind="svc", metadata={"unique_key": "x"},
                                 dedupe_strategy=[matcher("svc", "Pending"), matcher("other", "Running"),
                                                  matcher("svc", "Running")])])
    assert_all_deduped(r)


def test_dedupe_empty_fields_matches_any_object_metadata(api):
    api.running("a", kind="svc", metadata={"whatever": 1})
    r = api.create_raw([api.task("b", kind="svc", dedupe_strategy=[matcher("svc", "Running", fields=())])])
    assert_all_deduped(r)


def test_dedupe_empty_fields_ignores_null_metadata(api):
    t = api.task("a", kind="svc")
    del t["metadata"]
    api.create([t])
    api.wait_status(api.list_tasks(kind="svc")[0]["id"], "Running")
    r = api.create_raw([api.task("b", kind="svc", dedupe_strategy=[matcher("svc", "Running", fields=())])])
    assert r.status_code == 201


def test_dedupe_missing_field_skips_matcher(api):
    api.running("a", kind="svc", metadata={"unique_key": "x"})
    r = api.create_raw([api.task("b", kind="svc", metadata={"other": "x"},
                                 dedupe_strategy=[matcher("svc", "Running")])])
    assert r.status_code == 201


def test_dedupe_multiple_fields_all_must_match(api):
    api.running("a", kind="svc", metadata={"p": 1, "q": "z", "r": True})
    m = matcher("svc", "Running", fields=("p", "q"))
    r = api.create_raw([api.task("b", kind="svc", metadata={"p": 1, "q": "other"}, dedupe_strategy=[m])])
    assert r.status_code == 201
    r = api.create_raw([api.task("c", kind="svc", metadata={"p": 1, "q": "z", "extra": 9}, dedupe_strategy=[m])])
    assert_all_deduped(r)


def test_dedupe_containment_semantics(api):
    api.running("a", kind="svc", metadata={"cfg": {"a": 1, "b": [1, 2, 3]}, "n": 1})
    # nested object and array values are matched by containment
    r = api.create_raw([api.task("b", kind="svc", metadata={"cfg": {"b": [3, 1]}},
                                 dedupe_strategy=[matcher("svc", "Running", fields=("cfg",))])])
    assert_all_deduped(r)
    # numbers compare by value
    r = api.create_raw([api.task("c", kind="svc", metadata={"n": 1.0},
                                 dedupe_strategy=[matcher("svc", "Running", fields=("n",))])])
    assert_all_deduped(r)
    r = api.create_raw([api.task("d", kind="svc", metadata={"cfg": {"a": 2}},
                                 dedupe_strategy=[matcher("svc", "Running", fields=("cfg",))])])
    assert r.status_code == 201


def test_dependency_on_deduped_task_is_dropped(api, mock):
    api.running("orig", kind="svc", metadata={"unique_key": "dup"})
    r = api.create_raw([
        api.task("parent", kind="svc", metadata={"unique_key": "dup"}, dedupe_strategy=[matcher("svc", "Running")]),
        api.task("child", deps=["parent"]),
    ])
    assert r.status_code == 201
    created = r.json()
    assert [t["name"] for t in created] == ["task-child"]
    child = created[0]
    assert child["status"] == "Pending"
    api.wait_status(child["id"], "Running")
    d = api.dag(r.headers["X-Batch-ID"])
    assert len(d["tasks"]) == 1 and d["links"] == []
    assert mock.count("/start/parent") == 0


def test_dedupe_partial_batch(api):
    api.running("orig", kind="svc", metadata={"unique_key": "dup"})
    r = api.create_raw([
        api.task("a", kind="svc", metadata={"unique_key": "dup"}, dedupe_strategy=[matcher("svc", "Running")]),
        api.task("b", kind="svc", metadata={"unique_key": "new"}, dedupe_strategy=[matcher("svc", "Running")]),
        api.task("c", deps=["b", ("a", False)]),
    ])
    assert r.status_code == 201
    created = r.json()
    assert [t["name"] for t in created] == ["task-b", "task-c"]
    assert created[1]["status"] == "Waiting"
    d = api.dag(r.headers["X-Batch-ID"])
    assert len(d["links"]) == 1
