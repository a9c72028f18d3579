"""Input validation: every validation message of POST /task, type errors,
malformed bodies, limits, SSRF."""

import json
import socket
import uuid

import pytest

from harness import UUID_RE, closed_port_url, raw_request, wait_for, webhook


def post_invalid(api, tasks):
    r = api.create_raw(tasks)
    assert r.status_code == 400, "expected 400, got %d: %s" % (r.status_code, r.text[:1000])
    body = r.json()
    assert body["error"] == "Validation failed"
    assert UUID_RE.match(body["batch_id"]), body
    assert "X-Batch-ID" not in r.headers
    assert isinstance(body["details"], list)
    return body["details"]


def assert_health(api):
    r = api.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


# ---- per-task messages -------------------------------------------------------


@pytest.mark.parametrize("field,value,message", [
    ("id", "   ", "tasks[0].id: Task local ID cannot be empty"),
    ("name", "", "tasks[0].name: Task name cannot be empty"),
    ("name", "  ", "tasks[0].name: Task name cannot be empty"),
    ("name", "x" * 256, "tasks[0].name: Task name cannot exceed 255 characters"),
    ("name", "é" * 128, "tasks[0].name: Task name cannot exceed 255 characters"),  # 256 bytes
    ("kind", "", "tasks[0].kind: Task kind cannot be empty"),
    ("kind", "k" * 101, "tasks[0].kind: Task kind cannot exceed 100 characters"),
    ("timeout", 0, "tasks[0].timeout: Timeout must be a positive integer"),
    ("timeout", -5, "tasks[0].timeout: Timeout must be a positive integer"),
    ("timeout", 86401, "tasks[0].timeout: Timeout cannot exceed 86400 seconds (24 hours)"),
    ("expected_count", -1, "tasks[0].expected_count: expected_count cannot be negative"),
    ("priority", 1001, "tasks[0].priority: priority must be between -1000 and 1000"),
    ("priority", -1001, "tasks[0].priority: priority must be between -1000 and 1000"),
    ("metadata", {"x": "a" * 65536}, "tasks[0].metadata: Metadata cannot exceed 64KB"),
])
def test_field_messages(api, field, value, message):
    t = api.task("a")
    t[field] = value
    details = post_invalid(api, [t])
    assert message in details, details


@pytest.mark.parametrize("value,got", [("text", "string"), (42, "integer"), (1.5, "number"),
                                       ([1, "two"], "array"), (True, "boolean")])
def test_metadata_must_be_an_object(api, value, got):
    details = post_invalid(api, [api.task("a"), api.task("b", metadata=value)])
    assert details == ["tasks[1].metadata: expected an object, got %s" % got], details
    t = api.running("r")
    r = api.patch("/task/" + t["id"], json={"metadata": value})
    assert r.status_code == 400, r.text
    assert r.json()["details"] == ["metadata: expected an object, got %s" % got]
    r = api.create_raw({"tasks": [api.task("c")], "metadata": value})
    assert r.status_code == 400, r.text
    assert r.json()["details"] == ["metadata: expected an object, got %s" % got]
    assert api.get_task(t["id"])["metadata"] == {"test": True}
    # null is no metadata
    assert api.patch("/task/" + t["id"], json={"metadata": None}).status_code == 200
    assert api.create_raw([api.task("d", metadata=None)]).status_code == 201


def test_limits_inclusive(api):
    # the largest valid values pass
    md = {"x": "a" * (65536 - len('{"x":""}'))}
    assert len(json.dumps(md, separators=(",", ":"))) == 65536
    r = api.create_raw([api.task("a", timeout=86400, metadata=md, expected_count=0,
                                 name="é" * 127, kind="k" * 100)])
    assert r.status_code == 201, r.text[:500]


def test_dependency_id_empty(api):
    details = post_invalid(api, [api.task("a"), api.task("b", dependencies=[{"id": " ", "requires_success": True}])])
    assert "tasks[1].dependencies[0].id: Dependency ID cannot be empty" in details, details


def test_self_dependency(api):
    details = post_invalid(api, [api.task("a", deps=["a"])])
    assert "tasks[0].dependencies: Task cannot depend on itself" in details, details
    assert "tasks[0].dependencies: dependency 'a' must appear before task 'a' in the batch" in details, details


def test_duplicate_dependency(api):
    details = post_invalid(api, [api.task("a"), api.task("b", deps=["a", ("a", False)])])
    assert "tasks[1].dependencies: Duplicate dependency: a" in details, details


def test_duplicate_ids_in_batch(api):
    details = post_invalid(api, [api.task("a"), api.task("b"), api.task("a", name="again")])
    assert "tasks[2].id: duplicate task id: 'a' (first defined at index 0)" in details, details


def test_unknown_dependency(api):
    details = post_invalid(api, [api.task("a", deps=["zzz"])])
    assert "tasks[0].dependencies: unknown dependency: 'zzz'" in details, details


def test_forward_reference(api):
    details = post_invalid(api, [api.task("a", deps=["b"]), api.task("b")])
    assert "tasks[0].dependencies: dependency 'b' must appear before task 'a' in the batch" in details, details


def test_valid_backward_reference(api):
    r = api.create_raw([api.task("a"), api.task("b", deps=["a"])])
    assert r.status_code == 201


def test_cycle_is_rejected(api):
    r = api.create_raw([api.task("a", deps=["b"]), api.task("b", deps=["a"])])
    assert r.status_code == 400
    assert any("must appear before" in d for d in r.json()["details"])


@pytest.mark.parametrize("rule,message", [
    ({"type": "Concurency", "max_concurency": 0, "matcher": {"kind": "k", "status": "Running", "fields": []}},
     "tasks[0].rules[0].max_concurency: max_concurency must be a positive integer"),
    ({"type": "Concurency", "max_concurency": -2, "matcher": {"kind": "k", "status": "Running", "fields": []}},
     "tasks[0].rules[0].max_concurency: max_concurency must be a positive integer"),
    ({"type": "Capacity", "max_capacity": 0, "matcher": {"kind": "k", "status": "Running", "fields": []}},
     "tasks[0].rules[0].max_capacity: max_capacity must be a positive integer"),
    ({"type": "Concurency", "max_concurency": 1, "matcher": {"kind": " ", "status": "Running", "fields": []}},
     "tasks[0].rules[0].matcher.kind: Matcher kind cannot be empty"),
    ({"type": "Capacity", "max_capacity": 5, "matcher": {"kind": "k", "status": "Pending", "fields": []}},
     "tasks[0].rules[0].matcher.status: Capacity rules only support matcher.status = Running"),
])
def test_rule_messages(api, rule, message):
    details = post_invalid(api, [api.task("a", rules=[rule], expected_count=10)])
    assert message in details, details


def test_capacity_requires_expected_count(api):
    rule = {"type": "Capacity", "max_capacity": 5, "matcher": {"kind": "k", "status": "Running", "fields": []}}
    details = post_invalid(api, [api.task("a", rules=[rule])])
    assert "tasks[0].expected_count: expected_count is required when a Capacity rule is used" in details, details


def test_rule_index_in_message(api):
    ok = {"type": "Concurency", "max_concurency": 1, "matcher": {"kind": "k", "status": "Running", "fields": []}}
    bad = {"type": "Concurency", "max_concurency": 0, "matcher": {"kind": "k", "status": "Running", "fields": []}}
    details = post_invalid(api, [api.task("a"), api.task("b", rules=[ok, bad])])
    assert "tasks[1].rules[1].max_concurency: max_concurency must be a positive integer" in details, details


def test_webhook_params_missing_url(api):
    t = api.task("a")
    t["on_start"] = {"kind": "Webhook", "params": {"verb": "Post"}}
    details = post_invalid(api, [t])
    assert any(d.startswith("tasks[0].on_start.params: Invalid webhook params") for d in details), details


def test_webhook_params_bad_verb(api):
    t = api.task("a")
    t["on_start"]["params"]["verb"] = "Gett"
    details = post_invalid(api, [t])
    assert any(d.startswith("tasks[0].on_start.params: Invalid webhook params") for d in details), details


def test_webhook_params_not_an_object(api):
    t = api.task("a")
    t["on_start"]["params"] = "http://x"
    details = post_invalid(api, [t])
    assert any(d.startswith("tasks[0].on_start.params: Invalid webhook params") for d in details), details


def test_webhook_invalid_url(api):
    t = api.task("a")
    t["on_start"]["params"]["url"] = "not a url"
    details = post_invalid(api, [t])
    assert any(d.startswith("tasks[0].on_start.params: Invalid URL format") for d in details), details


def test_on_success_and_on_failure_params_indexed(api):
    t = api.task("a", on_success=[api.hook("/ok"), {"kind": "Webhook", "params": {"verb": "Post"}}],
                 on_failure=[{"kind": "Webhook", "params": {"url": "::nope::", "verb": "Post"}}])
    details = post_invalid(api, [t])
    assert any(d.startswith("tasks[0].on_success[1].params: Invalid webhook params") for d in details), details
    assert any(d.startswith("tasks[0].on_failure[0].params: Invalid URL format") for d in details), details


def test_all_errors_collected(api):
    details = post_invalid(api, [
        api.task("a", name="", timeout=0),
        api.task("b", kind="", priority=5000),
        api.task("a", deps=["nope"]),
    ])
    for msg in ("tasks[0].name: Task name cannot be empty",
                "tasks[0].timeout: Timeout must be a positive integer",
                "tasks[1].kind: Task kind cannot be empty",
                "tasks[1].priority: priority must be between -1000 and 1000",
                "tasks[2].id: duplicate task id: 'a' (first defined at index 0)",
                "tasks[2].dependencies: unknown dependency: 'nope'"):
        assert msg in details, (msg, details)


def test_nothing_written_on_validation_error(api):
    post_invalid(api, [api.task("ok1"), api.task("bad", name="")])
    assert api.list_tasks() == []
    assert api.mock.count() == 0


# ---- types, enums, malformed bodies -----------------------------------------


@pytest.mark.parametrize("field,value", [
    ("timeout", "60"),
    ("timeout", 1.5),
    ("name", 5),
    ("kind", None),
    ("priority", "high"),
    ("expected_count", "3"),
    ("dead_end_barrier", "yes"),
    ("dependencies", "a"),
    ("rules", {"type": "Concurency"}),
    ("on_start", "http://x"),
    ("on_success", {"kind": "Webhook"}),
])
def test_wrong_types_name_the_field(api, field, value):
    r = api.create_raw([api.task("a", **{field: value})])
    assert r.status_code == 400, r.text[:500]
    assert field in r.text, r.text[:500]
    assert_health(api)


@pytest.mark.parametrize("missing", ["id", "name", "kind", "on_start"])
def test_missing_required_field(api, missing):
    t = api.task("a")
    del t[missing]
    r = api.create_raw([t])
    assert r.status_code == 400
    assert missing in r.text, r.text[:500]


def test_unknown_matcher_status(api):
    rule = {"type": "Concurency", "max_concurency": 1, "matcher": {"kind": "k", "status": "Bogus", "fields": []}}
    r = api.create_raw([api.task("a", rules=[rule])])
    assert r.status_code == 400
    assert "status" in r.text


def test_unknown_rule_type(api):
    rule = {"type": "Concurrency", "max_concurency": 1, "matcher": {"kind": "k", "status": "Running", "fields": []}}
    r = api.create_raw([api.task("a", rules=[rule])])
    assert r.status_code == 400


def test_matcher_missing_fields_key(api):
    rule = {"type": "Concurency", "max_concurency": 1, "matcher": {"kind": "k", "status": "Running"}}
    r = api.create_raw([api.task("a", rules=[rule])])
    assert r.status_code == 400
    assert "fields" in r.text


def test_unknown_action_kind(api):
    t = api.task("a")
    t["on_start"]["kind"] = "Email"
    assert api.create_raw([t]).status_code == 400


def test_dependency_missing_requires_success(api):
    r = api.create_raw([api.task("a"), api.task("b", dependencies=[{"id": "a"}])])
    assert r.status_code == 400
    assert "requires_success" in r.text


def test_bad_dedupe_status(api):
    r = api.create_raw([api.task("a", dedupe_strategy=[{"kind": "k", "status": "Bogus", "fields": []}])])
    assert r.status_code == 400


@pytest.mark.parametrize("body", [
    "{not json", "[{\"id\":\"a\",\"timeout\":99999999999999999999}]", "[", "", "[{\"id\": \"a\",}]", "null", "42", "\"text\"", "[1, 2]", "[null]",
    "[{}] trailing",
])
def test_malformed_post_bodies(api, body):
    r = api.post("/task", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (body, r.status_code, r.text[:300])
    assert_health(api)


def test_invalid_utf8_body(api):
    raw = b'[{"id":"a","name":"\xff\xfe","kind":"k","on_start":{"kind":"Webhook","params":{"url":"http://x/","verb":"Post"}}}]'
    r = api.post("/task", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert_health(api)


def test_duplicate_keys_rejected(api):
    raw = '[{"id":"a","name":"n","name":"m","kind":"k","on_start":{"kind":"Webhook","params":{"url":"%s","verb":"Post"}}}]' \
          % api.mock.url("/s")
    r = api.post("/task", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_nul_in_strings_does_not_crash(api):
    r = api.create_raw([api.task("a", name="a\u0000b", metadata={"k\u0000": "v\u0000"})])
    assert r.status_code in (201, 400), r.text[:300]
    if r.status_code == 201:
        got = api.get_task(r.json()[0]["id"])
        assert got["name"] == "a\u0000b"
    assert_health(api)


def test_patch_malformed_json(api):
    t = api.running("a")
    for body in ("{bad", "", "[1]", "\"Success\""):
        r = api.patch("/task/" + t["id"], data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.status_code, r.text)
    assert api.status(t["id"]) == "Running"


def test_put_malformed_json(api):
    t = api.running("a")
    for body in ("{bad", "[1]", "7"):
        r = api.put("/task/" + t["id"], data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.status_code, r.text)
    assert api.get_task(t["id"])["success"] == 0


def test_patch_wrong_types(api):
    t = api.running("a")
    for body in ({"status": "Bogus"}, {"new_success": "5"}, {"priority": 1.5}, {"expected_count": "x"},
                 {"failure_reason": 5, "status": "Failure"}):
        r = api.patch_task(t["id"], body)
        assert r.status_code == 400, (body, r.status_code, r.text)
    assert api.status(t["id"]) == "Running"


def test_put_wrong_types(api):
    t = api.running("a")
    r = api.put("/task/" + t["id"], json={"new_success": "5"})
    assert r.status_code == 400
    assert "new_success" in r.text


def test_query_enum_and_types(api):
    assert api.get("/task", params={"status": "Bogus"}).status_code == 400
    assert api.get("/task", params={"status": "running"}).status_code == 400  # case-sensitive
    assert api.get("/task", params={"page": "abc"}).status_code == 400
    assert api.get("/task", params={"timeout": "x"}).status_code == 400
    assert api.get("/task", params={"batch_id": "not-a-uuid"}).status_code == 400
    assert api.get("/batches", params={"status": "Bogus"}).status_code == 400
    assert api.get("/batches", params={"created_after": "yesterday"}).status_code == 400
    assert_health(api)


def test_deep_nesting_rejected(api):
    depth = 10000
    nested = "[" * depth + "]" * depth
    raw = '[{"id":"a","name":"n","kind":"k","on_start":{"kind":"Webhook","params":{"url":"%s","verb":"Post"}},' \
          '"metadata":{"deep":%s}}]' % (api.mock.url("/s"), nested)
    r = api.post("/task", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.status_code
    obj = '{"a":' * depth + "1" + "}" * depth
    r = api.post("/task", data=obj, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    t = api.running("ok")
    r = api.patch("/task/" + t["id"], data='{"metadata":%s}' % nested, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = api.put("/task/" + t["id"], data='{"new_success":1,"x":%s}' % nested, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert api.get_task(t["id"])["success"] == 0
    assert_health(api)


# ---- size limits -------------------------------------------------------------


def _padded_batch(api, size):
    t = api.task("a", metadata={"pad": ""})
    base = len(json.dumps([t]))
    t["metadata"]["pad"] = "p" * (size - base)
    body = json.dumps([t]).encode()
    assert len(body) == size
    return body


def test_oversized_body_413(make_api):
    api = make_api(PAYLOAD_MAX_BYTES=10000)
    body = _padded_batch(api, 20000)
    status, _ = raw_request(api.server.port, "POST", "/task", body)
    assert status == 413
    assert api.list_tasks() == []
    # just under the limit passes
    r = api.post("/task", data=_padded_batch(api, 9000), headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert_health(api)


def test_raised_limit_accepts_large_body(make_api):
    api = make_api(PAYLOAD_MAX_BYTES=100000)
    r = api.post("/task", data=_padded_batch(api, 20000), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:300]


def test_default_limit_is_2mib(api):
    # metadata is capped at 64KB per task, so pad with many tasks
    tasks = [api.task("t%d" % i, metadata={"pad": "p" * 60000}) for i in range(40)]
    body = json.dumps(tasks).encode()
    assert len(body) > 2 * 1024 * 1024
    status, _ = raw_request(api.server.port, "POST", "/task", body)
    assert status == 413
    small = json.dumps(tasks[:30]).encode()
    assert len(small) < 2 * 1024 * 1024
    r = api.post("/task", data=small, headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert_health(api)


def test_oversized_patch_and_put(make_api):
    api = make_api(PAYLOAD_MAX_BYTES=10000)
    t = api.running("a")
    body = json.dumps({"metadata": {"pad": "x" * 20000}}).encode()
    status, _ = raw_request(api.server.port, "PATCH", "/task/" + t["id"], body)
    assert status == 413
    body = json.dumps({"new_success": 1, "pad": "x" * 20000}).encode()
    status, _ = raw_request(api.server.port, "PUT", "/task/" + t["id"], body)
    assert status == 413
    assert api.get_task(t["id"])["success"] == 0


def test_max_tasks_per_batch(make_api):
    api = make_api(MAX_TASKS_PER_BATCH=10)
    r = api.create_raw([api.task("t%d" % i) for i in range(11)])
    assert r.status_code in (400, 413), r.status_code
    assert api.list_tasks() == []
    r = api.create_raw([api.task("t%d" % i) for i in range(10)])
    assert r.status_code == 201


def test_max_deps_per_task(make_api):
    api = make_api(MAX_DEPS_PER_TASK=3)
    parents = [api.task("p%d" % i) for i in range(4)]
    r = api.create_raw(parents + [api.task("c", deps=["p0", "p1", "p2", "p3"])])
    assert r.status_code in (400, 413)
    assert api.list_tasks() == []
    assert "dependencies" in r.text


def test_server_survives_garbage(api):
    for body in (b"\x00" * 100, b"[" * 100000, b"{\"a\":" * 50000, b"\xff" * 1000):
        r = api.post("/task", data=body, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 413)
    assert_health(api)


# ---- SSRF ----------------------------------------------------------------------


@pytest.fixture
def strict_api(make_api):
    return make_api(SKIP_SSRF_VALIDATION="0", WEBHOOK_TIMEOUT_MS="500")


@pytest.mark.parametrize("url,expected", [
    ("ftp://example.com/x", "URL scheme 'ftp' not allowed, must be http or https"),
    ("file:///etc/passwd", "URL scheme 'file' not allowed, must be http or https"),
    ("http://10.1.2.3/x", "URL points to internal IP address '10.1.2.3' which is not allowed"),
    ("http://192.168.0.10/x", "URL points to internal IP address '192.168.0.10' which is not allowed"),
    ("http://172.16.5.4/x", "URL points to internal IP address '172.16.5.4' which is not allowed"),
    ("http://169.254.169.254/latest", "URL points to internal IP address '169.254.169.254' which is not allowed"),
    ("http://localhost:8080/x", "localhost"),
    ("http://127.0.0.1:9/x", "127.0.0.1"),
    ("http://metadata.google.internal/x", "metadata.google.internal"),
    ("http://printer.local/x", "printer.local"),
    ("http://[::1]:8080/x", "::1"),
    ("http://[fe80::1]/x", "fe80::1"),
    ("http://[fd00::5]/x", "fd00::5"),
    ("http://[::ffff:10.0.0.1]/x", ""),
])
def test_ssrf_blocked_urls(strict_api, url, expected):
    t = strict_api.task("a", start=url)
    details = post_invalid(strict_api, [t])
    matching = [d for d in details if d.startswith("tasks[0].on_start.params: ")]
    assert matching, details
    assert expected in matching[0], details


def test_ssrf_checks_every_action(strict_api):
    t = strict_api.task("a", start="http://93.184.215.14/x",
                        on_success=[webhook("http://10.0.0.1/")], on_failure=[webhook("http://localhost/")])
    details = post_invalid(strict_api, [t])
    assert any(d.startswith("tasks[0].on_success[0].params: ") for d in details), details
    assert any(d.startswith("tasks[0].on_failure[0].params: ") for d in details), details


def test_ssrf_allows_public_addresses(strict_api):
    urls = ["http://172.15.0.1/x", "http://172.32.0.1/x", "http://8.8.8.8/x", "https://example.com/hook",
            "https://api.github.com/x"]
    t = strict_api.task("a", start=urls[0], on_success=[webhook(u) for u in urls[1:]])
    r = strict_api.create_raw([t])
    assert r.status_code == 201, r.text


def test_ssrf_blocked_hostnames_env_extends_defaults(make_api):
    api = make_api(SKIP_SSRF_VALIDATION="0", BLOCKED_HOSTNAMES="evil.example",
                   BLOCKED_HOSTNAME_SUFFIXES=".corp")
    for url in ("http://evil.example/x", "http://a.evil.example/x", "http://db.corp/x", "http://localhost/x"):
        details = post_invalid(api, [api.task("a", start=url)])
        assert any(d.startswith("tasks[0].on_start.params: URL host") for d in details), (url, details)


def test_ssrf_resolved_address_checked_at_delivery(make_api):
    """A hostname that passes validation but resolves to a loopback or private
    address must not be called."""
    from harness import MockWebhook
    host = socket.gethostname()
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, 80, proto=socket.IPPROTO_TCP)}
    except OSError:
        pytest.skip("hostname does not resolve")
    if not any(a.startswith(("127.", "10.", "192.168.")) or a == "::1" for a in addrs):
        pytest.skip("hostname %s resolves to %s, not an internal address" % (host, addrs))
    if "." in host and host.rsplit(".", 1)[1] in ("local", "internal", "localdomain", "localhost"):
        pytest.skip("hostname is blocked by suffix already")
    listener = MockWebhook(host="0.0.0.0")
    try:
        api = make_api(SKIP_SSRF_VALIDATION="0", WEBHOOK_TIMEOUT_MS="1000", WEBHOOK_MAX_ATTEMPTS="1")
        url = "http://%s:%d/start" % (host, listener.port)
        t = api.create([api.task("a", start=url,
                                 on_failure=[webhook("http://%s:%d/failed" % (host, listener.port))])])[0]
        got = api.wait_status(t["id"], "Failure")
        assert "on_start" in (got["failure_reason"] or "")
        assert "internal IP" in got["failure_reason"], got["failure_reason"]
        # the end webhook is refused at delivery the same way
        d = api.wait_delivery("%s:end:failure" % t["id"], "exhausted")
        assert d["attempts"] == 1
        assert "internal IP" in (d["last_error"] or ""), d
        assert d["last_http_status"] is None
        assert listener.count() == 0
    finally:
        listener.close()


def test_unreachable_is_not_validation(api):
    # validation only looks at the URL; an unreachable one is a runtime failure
    t = api.create([api.task("a", start=closed_port_url())])[0]
    got = api.wait_status(t["id"], "Failure")
    assert "on_start" in got["failure_reason"]


def test_random_uuid_patch_put_delete(api):
    u = str(uuid.uuid4())
    assert api.patch_task(u, {"status": "Success"}).status_code == 404
    assert api.put("/task/" + u, json={"new_success": 1}).status_code == 404
    assert api.cancel(u).status_code == 404
    wait_for(lambda: api.get("/health").status_code == 200)
