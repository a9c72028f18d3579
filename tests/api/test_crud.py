"""Creating and reading tasks: POST /task (array and object forms), GET
/task/{id}, wire shapes, actions, priorities and edge cases."""

import json
import uuid

from harness import BASIC_TASK_DTO_KEYS, DROP, TASK_DTO_KEYS, TS_RE, UUID_RE


def test_create_single_task(api):
    r = api.create_raw([api.task("a", name="My Task", kind="data-processing")])
    assert r.status_code == 201
    bid = r.headers.get("X-Batch-ID")
    assert bid and UUID_RE.match(bid)
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    t = body[0]
    assert t["name"] == "My Task"
    assert t["kind"] == "data-processing"
    assert t["status"] == "Pending"
    assert t["batch_id"] == bid


def test_create_multiple_tasks(api):
    r = api.create_raw([api.task(str(i)) for i in range(5)])
    assert r.status_code == 201
    body = r.json()
    assert len(body) == 5
    assert [t["name"] for t in body] == ["task-%d" % i for i in range(5)]
    assert len({t["id"] for t in body}) == 5
    assert {t["batch_id"] for t in body} == {r.headers["X-Batch-ID"]}


def test_get_task_by_id(api):
    t = api.create([api.task("a", name="findme")])[0]
    got = api.get_task(t["id"])
    assert got["id"] == t["id"]
    assert got["name"] == "findme"


def test_task_dto_shape(api):
    created = api.create([api.task("a", metadata={"k": "v", "n": [1, 2]})])[0]
    for key in TASK_DTO_KEYS:
        assert key in created, "POST response lacks %s" % key
    got = api.get_task(created["id"])
    for key in TASK_DTO_KEYS:
        assert key in got, "GET response lacks %s" % key
    assert UUID_RE.match(got["id"])
    assert UUID_RE.match(got["batch_id"])
    assert TS_RE.match(got["created_at"]), got["created_at"]
    assert TS_RE.match(got["last_updated"]), got["last_updated"]
    assert got["timeout"] == 60
    assert got["metadata"] == {"k": "v", "n": [1, 2]}
    assert got["rules"] == []
    assert got["success"] == 0 and got["failures"] == 0
    assert got["expected_count"] is None
    assert got["failure_reason"] is None
    assert got["ended_at"] is None
    assert got["dead_end_barrier"] is False
    assert got["priority"] == 0
    assert created["started_at"] is None
    assert [a["trigger"] for a in got["actions"]] == ["Start"]
    assert got["actions"][0]["kind"] == "Webhook"


def test_defaults_when_optional_fields_absent(api):
    t = api.task("a", timeout=DROP, metadata=DROP)
    created = api.create([t])[0]
    got = api.get_task(created["id"])
    assert got["timeout"] == 60
    assert got["metadata"] is None
    assert got["rules"] == []
    assert got["priority"] == 0
    assert got["dead_end_barrier"] is False


def test_running_task_has_started_at(api):
    t = api.running("a")
    assert TS_RE.match(t["started_at"]), t["started_at"]
    assert t["ended_at"] is None


def test_create_task_with_expected_count(api):
    t = api.create([api.task("a", expected_count=100)])[0]
    assert t["expected_count"] == 100
    assert api.get_task(t["id"])["expected_count"] == 100


def test_create_task_without_expected_count(api):
    t = api.create([api.task("a")])[0]
    assert t["expected_count"] is None
    assert api.get_task(t["id"])["expected_count"] is None


def test_update_expected_count_via_patch(api):
    t = api.running("a")
    r = api.patch_task(t["id"], {"expected_count": 200})
    assert r.status_code == 200
    got = api.get_task(t["id"])
    assert got["expected_count"] == 200
    assert got["status"] == "Running"


def test_get_nonexistent_task(api):
    r = api.get("/task/%s" % uuid.uuid4())
    assert r.status_code == 404
    assert "No task found with UID" in r.text


def test_task_with_success_and_failure_actions(api):
    t = api.task("a", on_success=[api.hook("/ok")], on_failure=[api.hook("/ko"), api.hook("/ko2")])
    created = api.create([t])[0]
    assert len(created["actions"]) == 4
    triggers = sorted(a["trigger"] for a in created["actions"])
    assert triggers == ["End", "End", "End", "Start"]
    got = api.get_task(created["id"])
    assert sorted(a["trigger"] for a in got["actions"]) == ["End", "End", "End", "Start"]
    urls = sorted(a["params"]["url"] for a in got["actions"])
    assert urls == sorted([api.mock.url("/ok"), api.mock.url("/ko"), api.mock.url("/ko2"),
                           api.mock.url("/start/a")])
    for a in got["actions"]:
        assert "condition" not in a


def test_action_params_stored_verbatim(api):
    params = {"url": api.mock.url("/start/a"), "verb": "Put", "body": {"x": [1, {"y": None}]},
              "headers": {"X-Custom": "v"}}
    t = api.task("a")
    t["on_start"] = {"kind": "Webhook", "params": params}
    created = api.create([t])[0]
    start = [a for a in api.get_task(created["id"])["actions"] if a["trigger"] == "Start"][0]
    assert start["params"] == params


def test_object_form_creates_batch(api):
    body = {"tasks": [api.task("a"), api.task("b", deps=["a"])],
            "on_batch_complete": [api.hook("/batch-done")],
            "scope": "team-x", "metadata": {"origin": "test"}}
    r = api.create_raw(body)
    assert r.status_code == 201, r.text
    bid = r.headers.get("X-Batch-ID")
    assert bid and UUID_RE.match(bid)
    created = r.json()
    assert isinstance(created, list)
    assert [t["name"] for t in created] == ["task-a", "task-b"]
    assert [t["status"] for t in created] == ["Pending", "Waiting"]
    assert {t["batch_id"] for t in created} == {bid}
    d = api.dag(bid)
    assert len(d["tasks"]) == 2 and len(d["links"]) == 1


def test_object_form_minimal(api):
    r = api.create_raw({"tasks": [api.task("a")]})
    assert r.status_code == 201, r.text
    assert len(r.json()) == 1


def test_object_form_empty_tasks_is_204(api):
    r = api.create_raw({"tasks": []})
    assert r.status_code == 204
    assert r.headers.get("X-Batch-ID")
    assert r.content == b""


def test_object_form_without_tasks_is_400(api):
    r = api.create_raw({"scope": "x"})
    assert r.status_code == 400
    assert "tasks" in r.text


def test_create_task_empty_array(api):
    r = api.create_raw([])
    assert r.status_code == 204
    assert UUID_RE.match(r.headers.get("X-Batch-ID", ""))
    assert r.content == b""


def test_unknown_fields_are_ignored(api):
    t = api.task("a", trigger="Start", something_else={"x": 1})
    t["on_start"]["trigger"] = "Start"
    r = api.create_raw([t])
    assert r.status_code == 201, r.text


# ---- priority ---------------------------------------------------------------


def test_priority_default_is_zero(api):
    t = api.create([api.task("a")])[0]
    assert t["priority"] == 0
    assert api.get_task(t["id"])["priority"] == 0


def test_priority_set_on_creation(api):
    t = api.create([api.task("a", priority=500)])[0]
    assert t["priority"] == 500
    assert api.get_task(t["id"])["priority"] == 500


def test_priority_negative_value(api):
    t = api.create([api.task("a", priority=-500)])[0]
    assert t["priority"] == -500
    assert api.get_task(t["id"])["priority"] == -500


def test_priority_bounds_accepted(api):
    created = api.create([api.task("a", priority=1000), api.task("b", priority=-1000)])
    assert [t["priority"] for t in created] == [1000, -1000]


def test_priority_validation_out_of_range(api):
    for p in (1001, -1001):
        r = api.create_raw([api.task("a", priority=p)])
        assert r.status_code == 400
        assert "tasks[0].priority: priority must be between -1000 and 1000" in r.json()["details"]


def test_priority_update(api):
    t = api.running("a")
    assert api.patch_task(t["id"], {"priority": 999}).status_code == 200
    assert api.get_task(t["id"])["priority"] == 999


def test_priority_in_basic_task_dto(api):
    r = api.create_raw([api.task("a", priority=-100), api.task("b", priority=100)])
    assert [t["priority"] for t in r.json()] == [-100, 100]
    listed = api.list_tasks(batch_id=r.headers["X-Batch-ID"])
    assert sorted(t["priority"] for t in listed) == [-100, 100]
    for t in listed:
        for key in BASIC_TASK_DTO_KEYS:
            assert key in t


def test_priority_orders_starts(make_api, mock):
    # One start webhook at a time: the order of on_start calls is the start order.
    api = make_api(WORKER_WEBHOOK_CONCURRENCY=1)
    prios = {"low": -10, "mid": 0, "top": 100, "high": 50}
    created = api.create([api.task(k, start="/start", priority=p) for k, p in prios.items()])
    for t in created:
        api.wait_status(t["id"], "Running")
    order = [h.header("X-Task-Id") for h in mock.hits("/start")]
    by_id = {t["id"]: t["name"] for t in created}
    assert [by_id[i] for i in order] == ["task-top", "task-high", "task-mid", "task-low"]


# ---- edge cases -------------------------------------------------------------


def test_task_with_large_metadata(api):
    md = {"items": list(range(1000)), "nested": {"a": {"b": {"c": ["x" * 10] * 10}}}}
    t = api.create([api.task("a", metadata=md)])[0]
    assert api.get_task(t["id"])["metadata"] == md


def test_task_with_special_characters_in_name(api):
    name = 'He said "hi" \\ back; ünïcødé 名前 🚀 <tag> & \'q\''
    t = api.create([api.task("a", name=name, kind="k-ñ")])[0]
    assert t["name"] == name
    got = api.get_task(t["id"])
    assert got["name"] == name
    assert got["kind"] == "k-ñ"


def test_name_and_kind_at_byte_limits(api):
    name = "n" * 255
    kind = "k" * 100
    t = api.create([api.task("a", name=name, kind=kind)])[0]
    assert api.get_task(t["id"])["name"] == name
    assert api.get_task(t["id"])["kind"] == kind


def test_metadata_values_roundtrip(api):
    for i, md in enumerate([{"big": 9007199254740993}, {"s": "text", "a": [1, "two", None], "t": True}, None]):
        t = api.create([api.task("a%d" % i, metadata=md)])[0]
        assert api.get_task(t["id"])["metadata"] == md


def test_large_integer_metadata_exact(api):
    raw = '[{"id":"a","name":"n","kind":"k","on_start":{"kind":"Webhook","params":{"url":"%s","verb":"Post"}},' \
          '"metadata":{"v":9223372036854775807,"w":-9223372036854775808}}]' % api.mock.url("/s")
    r = api.post("/task", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    got = api.get("/task/" + r.json()[0]["id"]).text
    assert "9223372036854775807" in got and "-9223372036854775808" in got
    assert json.loads(got)["metadata"] == {"v": 9223372036854775807, "w": -9223372036854775808}


def test_expected_count_64_bit(api):
    t = api.create([api.task("a", expected_count=5_000_000_000)])[0]
    assert api.get_task(t["id"])["expected_count"] == 5_000_000_000
