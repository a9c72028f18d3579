"""Concurrency and capacity rules through real starts, and PATCH
/batch/{id}/rules."""

import uuid

from harness import stays, wait_for


def conc(kind, max_, fields=("projectId",), status="Running"):
    return {"type": "Concurency", "max_concurency": max_,
            "matcher": {"kind": kind, "status": status, "fields": list(fields)}}


def cap(kind, max_, fields=(), status="Running"):
    return {"type": "Capacity", "max_capacity": max_,
            "matcher": {"kind": kind, "status": status, "fields": list(fields)}}


# ---- concurrency ---------------------------------------------------------------


def test_concurrency_rules_stored_on_task(api):
    rules = [conc("job", 5)]
    t = api.create([api.task("a", kind="job", rules=rules, metadata={"projectId": 1})])[0]
    assert t["rules"] == rules
    assert t["status"] == "Pending"
    assert api.get_task(t["id"])["rules"] == rules


def test_concurrency_rules_stored_per_project(api):
    rules = [conc("job", 1)]
    created = api.create([api.task(str(i), kind="job", rules=rules, metadata={"projectId": i}) for i in range(3)])
    assert [t["status"] for t in created] == ["Pending"] * 3
    for t in created:
        assert api.get_task(t["id"])["rules"] == rules


def test_concurrency_blocks_when_limit_reached(api, mock):
    rules = [conc("job", 1)]
    first = api.running("a", kind="job", rules=rules, metadata={"projectId": 111})
    second = api.create([api.task("b", kind="job", rules=rules, metadata={"projectId": 111})])[0]
    api.stays_status(second["id"], "Pending", 0.4)
    assert mock.count("/start/b") == 0
    reason = api.get_task(second["id"])["blocked_reason"]
    assert "concurrency rule #1 allows 1" in reason and "and 1 are" in reason, reason
    assert "blocked_reason" not in api.get_task(first["id"])
    api.succeed(first["id"])
    got = api.wait_status(second["id"], "Running")
    assert "blocked_reason" not in got
    assert mock.count("/start/b") == 1


def test_concurrency_same_batch_one_at_a_time(api):
    rules = [conc("job", 1)]
    created = api.create([api.task(str(i), kind="job", rules=rules, metadata={"projectId": 7}) for i in range(3)])
    ids = [t["id"] for t in created]
    for step in range(3):
        running = wait_for(lambda: [i for i in ids if api.status(i) == "Running"], desc="one task running")
        assert len(running) == 1
        others = [api.status(i) for i in ids if i not in running]
        assert others.count("Pending") == 2 - step, others
        api.succeed(running[0])


def test_concurrency_allows_different_metadata(api):
    rules = [conc("job", 1)]
    a = api.running("a", kind="job", rules=rules, metadata={"projectId": 111})
    b = api.create([api.task("b", kind="job", rules=rules, metadata={"projectId": 222})])[0]
    api.wait_status(b["id"], "Running")
    assert api.status(a["id"]) == "Running"


def test_concurrency_blocks_same_metadata_while_claimed(api, mock):
    # a Claimed task (on_start in flight) already occupies the slot
    mock.on("/start/a", delay=1.0)
    rules = [conc("job", 1)]
    a = api.create([api.task("a", kind="job", rules=rules, metadata={"projectId": 5})])[0]
    mock.wait_hits("/start/a", 1)
    b = api.create([api.task("b", kind="job", rules=rules, metadata={"projectId": 5})])[0]
    api.stays_status(b["id"], "Pending", 0.3)
    api.wait_status(a["id"], "Running")
    assert api.status(b["id"]) == "Pending"


def test_concurrency_max_two(api):
    rules = [conc("job", 2, fields=())]
    created = api.create([api.task(str(i), kind="job", rules=rules) for i in range(3)])
    ids = [t["id"] for t in created]
    api.wait_status(ids[0], "Running")
    api.wait_status(ids[1], "Running")
    api.stays_status(ids[2], "Pending", 0.3)
    api.fail(ids[0])
    api.wait_status(ids[2], "Running")


def test_concurrency_missing_field_stays_pending(api):
    t = api.create([api.task("a", kind="job", rules=[conc("job", 5)], metadata={"other": 1})])[0]
    api.stays_status(t["id"], "Pending", 0.4)
    # it would wait forever without a word: GET /task says why
    reason = api.get_task(t["id"])["blocked_reason"]
    assert "'projectId'" in reason and "lacks" in reason, reason


def test_concurrency_freed_by_cancel(api):
    rules = [conc("job", 1)]
    a = api.running("a", kind="job", rules=rules, metadata={"projectId": 1})
    b = api.create([api.task("b", kind="job", rules=rules, metadata={"projectId": 1})])[0]
    api.stays_status(b["id"], "Pending", 0.2)
    assert api.cancel(a["id"]).status_code == 200
    api.wait_status(b["id"], "Running")


def test_concurrency_freed_by_start_failure(api, mock):
    mock.on("/start/a", delay=0.5, status=500)
    rules = [conc("job", 1)]
    a = api.create([api.task("a", kind="job", rules=rules, metadata={"projectId": 1})])[0]
    mock.wait_hits("/start/a", 1)
    b = api.create([api.task("b", kind="job", rules=rules, metadata={"projectId": 1})])[0]
    api.wait_status(a["id"], "Failure")
    api.wait_status(b["id"], "Running")


# ---- capacity ------------------------------------------------------------------


def test_capacity_rule_stored_on_task(api):
    rules = [cap("etl", 500)]
    t = api.create([api.task("a", kind="etl", rules=rules, expected_count=100)])[0]
    assert t["rules"] == rules
    assert api.get_task(t["id"])["rules"] == rules


def test_capacity_allows_when_under_limit(api):
    rules = [cap("etl", 500)]
    api.running("big", kind="etl", rules=rules, expected_count=200)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=100)])[0]
    api.wait_status(t["id"], "Running")


def test_capacity_blocks_when_at_limit(api):
    rules = [cap("etl", 500)]
    api.running("big", kind="etl", rules=rules, expected_count=500)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=1)])[0]
    api.stays_status(t["id"], "Pending", 0.4)


def test_capacity_allows_large_candidate_when_room(api):
    rules = [cap("etl", 500)]
    api.running("big", kind="etl", rules=rules, expected_count=200)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=2000)])[0]
    api.wait_status(t["id"], "Running")


def test_capacity_accounts_for_progress_put(api):
    rules = [cap("etl", 500)]
    big = api.running("big", kind="etl", rules=rules, expected_count=600)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=10)])[0]
    api.stays_status(t["id"], "Pending", 0.3)
    assert api.counters(big["id"], 50, 49).status_code == 202  # remaining 501: still full
    api.stays_status(t["id"], "Pending", 0.3)
    assert api.counters(big["id"], 1).status_code == 202      # remaining 500: still full (>=)
    api.stays_status(t["id"], "Pending", 0.2)
    assert api.counters(big["id"], 0, 1).status_code == 202   # remaining 499
    api.wait_status(t["id"], "Running")


def test_capacity_accounts_for_progress_patch(api):
    rules = [cap("etl", 500)]
    big = api.running("big", kind="etl", rules=rules, expected_count=600)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=10)])[0]
    api.stays_status(t["id"], "Pending", 0.3)
    assert api.patch_task(big["id"], {"new_success": 200}).status_code == 200
    api.wait_status(t["id"], "Running")


def test_capacity_freed_when_task_ends(api):
    rules = [cap("etl", 500)]
    big = api.running("big", kind="etl", rules=rules, expected_count=500)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=10)])[0]
    api.stays_status(t["id"], "Pending", 0.3)
    api.succeed(big["id"])
    api.wait_status(t["id"], "Running")


def test_capacity_requires_expected_count(api):
    r = api.create_raw([api.task("a", kind="etl", rules=[cap("etl", 10)])])
    assert r.status_code == 400
    assert "tasks[0].expected_count: expected_count is required when a Capacity rule is used" in r.json()["details"]


def test_capacity_requires_running_status(api):
    for status in ("Pending", "Claimed", "Success"):
        r = api.create_raw([api.task("a", kind="etl", rules=[cap("etl", 10, status=status)], expected_count=1)])
        assert r.status_code == 400
        assert "tasks[0].rules[0].matcher.status: Capacity rules only support matcher.status = Running" \
            in r.json()["details"]


def test_capacity_zero_expected_count_contributes_zero(api):
    rules = [cap("etl", 1)]
    api.running("z1", kind="etl", rules=rules, expected_count=0)
    api.running("z2", kind="etl", rules=rules, expected_count=0)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=0)])[0]
    api.wait_status(t["id"], "Running")


def test_capacity_respects_metadata_fields(api):
    rules = [cap("etl", 100, fields=("project",))]
    api.running("fullA", kind="etl", rules=rules, expected_count=100, metadata={"project": "A"})
    a = api.create([api.task("a", kind="etl", rules=rules, expected_count=1, metadata={"project": "A"})])[0]
    b = api.create([api.task("b", kind="etl", rules=rules, expected_count=1, metadata={"project": "B"})])[0]
    api.wait_status(b["id"], "Running")
    api.stays_status(a["id"], "Pending", 0.3)


def test_capacity_combined_with_concurrency(api):
    rules = [conc("etl", 3, fields=()), cap("etl", 1000)]
    created = api.create([api.task(str(i), kind="etl", rules=rules, expected_count=10) for i in range(4)])
    ids = [t["id"] for t in created]
    for i in ids[:3]:
        api.wait_status(i, "Running")
    api.stays_status(ids[3], "Pending", 0.3)
    api.succeed(ids[0])
    api.wait_status(ids[3], "Running")


def test_capacity_blocks_even_when_concurrency_allows(api):
    rules = [conc("etl", 10, fields=()), cap("etl", 100)]
    api.running("big", kind="etl", rules=rules, expected_count=100)
    t = api.create([api.task("c", kind="etl", rules=rules, expected_count=1)])[0]
    api.stays_status(t["id"], "Pending", 0.3)


def test_rules_do_not_block_other_kinds(api):
    rules = [conc("job", 1, fields=())]
    api.running("a", kind="job", rules=rules)
    other = api.create([api.task("b", kind="other")])[0]
    api.wait_status(other["id"], "Running")


# ---- PATCH /batch/{id}/rules --------------------------------------------------------


def test_update_batch_rules_by_kind(api):
    bid, ids = api.create_batch([api.task("c1", kind="ci"), api.task("c2", kind="ci"),
                                 api.task("d", kind="deploy")])
    rules = [cap("ci", 50)]
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": rules})
    assert r.status_code == 200, r.text
    assert r.json() == {"batch_id": bid, "kind": "ci", "updated_count": 2}
    assert api.get_task(ids["c1"]["id"])["rules"] == rules
    assert api.get_task(ids["c2"]["id"])["rules"] == rules
    assert api.get_task(ids["d"]["id"])["rules"] == []


def test_update_batch_rules_refuses_more_than_a_hundred(api):
    """A change of rules is bounded (RULES_CHANGE_MAX): 101 rules are
    refused with the field named, and nothing changes."""
    bid, ids = api.create_batch([api.task("c1", kind="ci")])
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": [cap("ci", 5)] * 101})
    assert r.status_code == 400 and "rules: at most 100 rules" in r.text, r.text
    assert api.get_task(ids["c1"]["id"])["rules"] == []
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": [cap("ci", 5)] * 100})
    assert r.status_code == 200, r.text


def test_update_batch_rules_skips_terminal_tasks(api):
    bid, ids = api.create_batch([api.task("a", kind="ci"), api.task("b", kind="ci", deps=["a"]),
                                 api.task("c", kind="ci", deps=["b"])])
    api.wait_status(ids["a"]["id"], "Running")
    api.succeed(ids["a"]["id"])
    api.wait_status(ids["b"]["id"], "Running")
    api.succeed(ids["b"]["id"])
    api.wait_status(ids["c"]["id"], "Running")
    api.succeed(ids["c"]["id"])
    bid2, ids2 = api.create_batch([api.task("x", kind="ci"), api.task("y", kind="ci", deps=["x"])])
    api.wait_status(ids2["x"]["id"], "Running")
    api.succeed(ids2["x"]["id"])
    rules = [conc("ci", 2, fields=())]
    r = api.patch("/batch/%s/rules" % bid2, json={"kind": "ci", "rules": rules})
    assert r.json()["updated_count"] == 1
    assert api.get_task(ids2["x"]["id"])["rules"] == []
    assert api.get_task(ids2["y"]["id"])["rules"] == rules
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": rules})
    assert r.status_code == 200 and r.json()["updated_count"] == 0


def test_update_batch_rules_with_empty_removes_rules(api):
    rules = [conc("ci", 1)]
    bid, ids = api.create_batch([api.task("a", kind="ci", rules=rules, metadata={"projectId": 1})])
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": []})
    assert r.status_code == 200 and r.json()["updated_count"] == 1
    assert api.get_task(ids["a"]["id"])["rules"] == []


def test_update_batch_rules_unblocks_pending(api):
    hold = api.hold()
    bid, ids = api.create_batch([api.task("p", **hold.kw())])
    api.stays_status(ids["p"]["id"], "Pending", 0.2)
    r = api.patch("/batch/%s/rules" % bid, json={"kind": hold.kind, "rules": []})
    assert r.json()["updated_count"] == 1
    api.wait_status(ids["p"]["id"], "Running")


def test_update_batch_rules_can_block(api):
    # rules added to a waiting task apply when it becomes pending
    api.running("busy", kind="ci", rules=[conc("ci", 1, fields=())])
    bid, ids = api.create_batch([api.task("a", kind="pre"), api.task("b", kind="ci", deps=["a"])])
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": [conc("ci", 1, fields=())]})
    assert r.json()["updated_count"] == 1
    api.wait_status(ids["a"]["id"], "Running")
    api.succeed(ids["a"]["id"])
    api.wait_status(ids["b"]["id"], "Pending")
    api.stays_status(ids["b"]["id"], "Pending", 0.3)


def test_update_batch_rules_not_found(api):
    bid = str(uuid.uuid4())
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": []})
    assert r.status_code == 404
    assert r.json() == {"error": "Not found: No tasks found for batch %s" % bid, "status": 404}


def test_capacity_rule_with_no_expected_count(api):
    # rules patched in are not checked against expected_count; at runtime a
    # capacity rule without expected_count blocks.
    hold = api.hold()
    bid, ids = api.create_batch([api.task("a", **hold.kw()), api.task("b", expected_count=5, **hold.kw())])
    r = api.patch("/batch/%s/rules" % bid, json={"kind": hold.kind, "rules": [cap(hold.kind, 100)]})
    assert r.status_code == 200 and r.json()["updated_count"] == 2
    for t in ids.values():
        assert api.get_task(t["id"])["rules"] == [cap(hold.kind, 100)]
    api.wait_status(ids["b"]["id"], "Running")
    api.stays_status(ids["a"]["id"], "Pending", 0.3)


def test_update_batch_rules_validation_error(api):
    bid, _ = api.create_batch([api.task("a", kind="ci")])
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "  ", "rules": []})
    assert r.status_code == 400
    assert r.json() == {"error": "Validation failed", "details": ["kind: Task kind cannot be empty"]}
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": [cap("ci", 5, status="Pending")]})
    assert r.status_code == 400
    assert "rules[0].matcher.status: Capacity rules only support matcher.status = Running" in r.json()["details"]
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": [conc("ci", 0)]})
    assert r.status_code == 400
    assert "rules[0].max_concurency: max_concurency must be a positive integer" in r.json()["details"]
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci", "rules": [conc("", 1)]})
    assert r.status_code == 400
    assert "rules[0].matcher.kind: Matcher kind cannot be empty" in r.json()["details"]
    r = api.patch("/batch/%s/rules" % bid, json={"kind": "ci"})
    assert r.status_code == 400
    r = api.patch("/batch/%s/rules" % bid, data="{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    stays(lambda: api.get("/health").status_code == 200, 0.05)


def test_freed_slot_goes_to_highest_priority(api, mock):
    hold = api.hold()
    created = api.create([api.task("low", priority=0, **hold.kw()), api.task("top", priority=10, **hold.kw()),
                          api.task("mid", priority=5, **hold.kw())])
    ids = {t["name"][5:]: t["id"] for t in created}
    hold.release()
    api.wait_status(ids["top"], "Running")
    assert api.status(ids["mid"]) == "Pending" and api.status(ids["low"]) == "Pending"
    api.succeed(ids["top"])
    api.wait_status(ids["mid"], "Running")
    assert api.status(ids["low"]) == "Pending"
    api.succeed(ids["mid"])
    api.wait_status(ids["low"], "Running")


def test_concurrency_key_uses_all_fields(api):
    rules = [conc("job", 1, fields=("org", "repo"))]
    api.running("a", kind="job", rules=rules, metadata={"org": "x", "repo": "r1"})
    same = api.create([api.task("b", kind="job", rules=rules, metadata={"org": "x", "repo": "r1", "extra": 1})])[0]
    other = api.create([api.task("c", kind="job", rules=rules, metadata={"org": "x", "repo": "r2"})])[0]
    api.wait_status(other["id"], "Running")
    api.stays_status(same["id"], "Pending", 0.3)
