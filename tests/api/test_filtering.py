"""GET /task: filters, ordering and pagination."""

import json

from harness import BASIC_TASK_DTO_KEYS, DROP, parse_ts


def names(tasks):
    return sorted(t["name"] for t in tasks)


def test_list_tasks(api):
    api.create([api.task(str(i)) for i in range(5)])
    listed = api.list_tasks()
    assert len(listed) == 5
    for t in listed:
        assert set(BASIC_TASK_DTO_KEYS) <= set(t)


def test_list_order_is_newest_first(api):
    ids = [api.create([api.task(str(i))])[0]["id"] for i in range(4)]
    listed = api.list_tasks()
    assert [t["id"] for t in listed] == list(reversed(ids))
    stamps = [parse_ts(t["created_at"]) for t in listed]
    assert stamps == sorted(stamps, reverse=True)


def test_filter_by_kind(api):
    api.create([api.task("a", kind="alpha"), api.task("b", kind="alpha"), api.task("c", kind="beta")])
    listed = api.list_tasks(kind="alpha")
    assert names(listed) == ["task-a", "task-b"]
    assert all(t["kind"] == "alpha" for t in listed)


def test_filter_kind_is_substring_and_case_sensitive(api):
    api.create([api.task("a", kind="alpha"), api.task("b", kind="xalphax"), api.task("c", kind="ALPHA")])
    assert names(api.list_tasks(kind="alpha")) == ["task-a", "task-b"]
    assert names(api.list_tasks(kind="ALP")) == ["task-c"]


def test_filter_by_name_substring(api):
    api.create([api.task("a", name="nightly-build"), api.task("b", name="build"), api.task("c", name="deploy")])
    assert names(api.list_tasks(name="build")) == ["build", "nightly-build"]
    assert names(api.list_tasks(name="night")) == ["nightly-build"]


def test_like_wildcards_are_escaped(api):
    api.create([api.task("a", name="100%"), api.task("b", name="100x"), api.task("c", name="a_b"),
                api.task("d", name="axb"), api.task("e", name="back\\slash"), api.task("f", name="backslash")])
    assert names(api.list_tasks(name="%")) == ["100%"]
    assert names(api.list_tasks(name="_")) == ["a_b"]
    assert names(api.list_tasks(name="\\")) == ["back\\slash"]


def test_empty_filters_match_everything(api):
    t = api.task("nometa")
    del t["metadata"]
    api.create([t, api.task("b")])
    assert len(api.list_tasks(name="", kind="")) == 2


def test_filter_by_status(api):
    hold = api.hold()
    api.create([api.task("p", **hold.kw()), api.task("w", kind=hold.kind, deps=["p"])])
    pending = api.list_tasks(status="Pending", kind=hold.kind)
    assert names(pending) == ["task-p"]
    waiting = api.list_tasks(status="Waiting")
    assert names(waiting) == ["task-w"]
    running = api.list_tasks(status="Running")
    assert [t["id"] for t in running] == [hold.gate_id]


def test_filter_by_timeout(api):
    api.create([api.task("a", timeout=60), api.task("b", timeout=120), api.task("c", timeout=DROP)])
    assert names(api.list_tasks(timeout=60)) == ["task-a", "task-c"]
    assert names(api.list_tasks(timeout=120)) == ["task-b"]


def test_filter_by_batch_id(api):
    bid, _ = api.create_batch([api.task("a"), api.task("b")])
    api.create([api.task("c")])
    listed = api.list_tasks(batch_id=bid)
    assert names(listed) == ["task-a", "task-b"]
    assert all(t["batch_id"] == bid for t in listed)


def test_filter_by_metadata_containment(api):
    api.create([api.task("a", metadata={"key": "value", "n": 1}),
                api.task("b", metadata={"key": "other"}),
                api.task("c", metadata={"key": "value", "tags": ["x", "y"]})])
    assert names(api.list_tasks(metadata=json.dumps({"key": "value"}))) == ["task-a", "task-c"]
    assert names(api.list_tasks(metadata=json.dumps({"tags": ["y"]}))) == ["task-c"]
    assert names(api.list_tasks(metadata="{}")) == ["task-a", "task-b", "task-c"]


def test_malformed_metadata_filter_is_400(api):
    api.create([api.task("a")])
    assert api.get("/task", params={"metadata": "{not json"}).status_code == 400


def test_filters_combine_with_and(api):
    api.create([api.task("a", kind="k1", metadata={"x": 1}), api.task("b", kind="k1", metadata={"x": 2}),
                api.task("c", kind="k2", metadata={"x": 1})])
    assert names(api.list_tasks(kind="k1", metadata='{"x":1}')) == ["task-a"]
    assert names(api.list_tasks(kind="k1", name="b")) == ["task-b"]
    assert api.list_tasks(kind="k2", name="task-a") == []


def test_list_includes_null_metadata(api):
    t = api.task("nometa")
    del t["metadata"]
    created = api.create([t])[0]
    assert created["id"] in [x["id"] for x in api.list_tasks()]


def test_pagination_basic(api):
    api.create([api.task(str(i)) for i in range(60)])
    p0 = api.list_tasks(page=0)
    p1 = api.list_tasks(page=1)
    assert len(p0) == 50
    assert len(p1) == 10
    assert not ({t["id"] for t in p0} & {t["id"] for t in p1})


def test_pagination_last_page(api):
    api.create([api.task(str(i)) for i in range(55)])
    assert len(api.list_tasks(page=1)) == 5


def test_pagination_page_size(api):
    api.create([api.task(str(i)) for i in range(25)])
    pages = [api.list_tasks(page=p, page_size=10) for p in range(3)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert len({t["id"] for p in pages for t in p}) == 25


def test_page_size_clamped_to_max(api):
    api.create([api.task(str(i)) for i in range(105)])
    assert len(api.list_tasks(page_size=1000)) == 100
    assert len(api.list_tasks(page_size=0)) == 50
    assert len(api.list_tasks(page_size=-3)) == 50


def test_pagination_config(make_api):
    api = make_api(PAGINATION_DEFAULT="7", PAGINATION_MAX="9")
    api.create([api.task(str(i)) for i in range(12)])
    assert len(api.list_tasks()) == 7
    assert len(api.list_tasks(page_size=50)) == 9


def test_negative_page_is_zero(api):
    api.create([api.task(str(i)) for i in range(3)])
    assert [t["id"] for t in api.list_tasks(page=-5)] == [t["id"] for t in api.list_tasks(page=0)]


def test_pagination_empty_page(api):
    api.create([api.task(str(i)) for i in range(3)])
    assert api.list_tasks(page=100, page_size=10, kind="no-such-kind") == []
    assert api.list_tasks(page=100, page_size=10) == []


def test_pagination_large_page_does_not_overflow(api):
    api.create([api.task("a")])
    r = api.get("/task", params={"page": str(2 ** 63 - 1), "page_size": "100"})
    assert r.status_code == 200
    assert r.json() == []
    r = api.get("/task", params={"page": str(2 ** 63 - 1)})
    assert r.status_code == 200 and r.json() == []
