"""Every /v1 answer has the shape /v1/openapi.json documents for it:
a small OpenAPI 3.0 schema checker (types, nullable, enums, required
members, closed objects, arrays, bounds, $ref) run on the answers of a
job's whole life and on error bodies, so the document clients generate
their types from cannot drift from what the server sends."""

import numbers


class SchemaError(AssertionError):
    pass


def check(doc, schema, value, path="$"):
    if "$ref" in schema:
        node = doc
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        return check(doc, node, value, path)
    if value is None:
        if schema.get("nullable") or ("type" not in schema and "description" in schema):
            return
        raise SchemaError("%s: null where %s" % (path, schema.get("type")))
    t = schema.get("type")
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t in kinds and not isinstance(value, kinds[t]):
        raise SchemaError("%s: %r is not %s" % (path, value, t))
    if t in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, numbers.Number) or \
                (t == "integer" and not isinstance(value, int)):
            raise SchemaError("%s: %r is not %s" % (path, value, t))
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError("%s: %r below %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError("%s: %r above %r" % (path, value, schema["maximum"]))
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError("%s: %r not in %r" % (path, value, schema["enum"]))
    if t == "object":
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in value:
                raise SchemaError("%s: missing %s" % (path, k))
        for k, v in value.items():
            if k in props:
                check(doc, props[k], v, path + "." + k)
            elif props and schema.get("additionalProperties", True) is False or (props and "additionalProperties" not in schema):
                raise SchemaError("%s: undocumented member %s" % (path, k))
    if t == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError("%s: more than %d items" % (path, schema["maxItems"]))
        for i, v in enumerate(value):
            check(doc, schema.get("items", {}), v, "%s[%d]" % (path, i))


def answer_schema(doc, method, template, status):
    op = doc["paths"][template][method.lower()]
    resp = op["responses"].get(str(status))
    assert resp is not None, "%s %s: status %d is not documented" % (method, template, status)
    if "$ref" in resp:
        resp = doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    return resp["content"]["application/json"]["schema"]


def test_answers_match_the_document(api):
    doc = api.get("/v1/openapi.json").json()
    seen = []

    def call(method, path, template, body=None, **kw):
        r = api.server.request(method, path, json=body, **kw)
        check(doc, answer_schema(doc, method, template, r.status_code), r.json(), "%s %s" % (method, path))
        seen.append((method, template, r.status_code))
        return r.json()

    jobs = call("POST", "/v1/jobs", "/v1/jobs", {"jobs": [
        {"queue": "q", "input": {"a": [1]}, "max_attempts": 2, "metadata": {"m": 1}, "dedup": {"key": "k"}},
        {"queue": "q", "priority": 3}]})["jobs"]
    call("POST", "/v1/jobs", "/v1/jobs", {"jobs": [{"queue": "q", "dedup": {"key": "k"}}]})       # 200
    c1, c2 = call("POST", "/v1/jobs/claim", "/v1/jobs/claim", {"queues": ["q"], "worker_id": "w", "max_jobs": 5})["jobs"]
    call("POST", "/v1/jobs/heartbeat", "/v1/jobs/heartbeat", {"worker_id": "w", "leases": [
        {"id": c1["id"], "lease_token": c1["lease_token"], "progress": {"p": 1}},
        {"id": c2["id"], "lease_token": "0"}, {"id": "00000000-0000-4000-8000-000000000000", "lease_token": "1"}]})
    call("POST", "/v1/jobs/fail", "/v1/jobs/fail", {"items": [
        {"id": c1["id"], "lease_token": c1["lease_token"], "error": {"code": "e", "details": [1]}}]})
    call("POST", "/v1/jobs/release", "/v1/jobs/release", {"items": [{"id": c2["id"], "lease_token": c2["lease_token"]}]})
    (c2,) = call("POST", "/v1/jobs/claim", "/v1/jobs/claim", {"queues": ["q"], "worker_id": "w"})["jobs"]
    call("POST", "/v1/jobs/complete", "/v1/jobs/complete", {"items": [{"id": c2["id"], "lease_token": c2["lease_token"],
                                                                     "result": "done"}]})
    one = "/v1/jobs/{id}/complete"
    call("POST", "/v1/jobs/%s/complete" % c2["id"], one, {"lease_token": c2["lease_token"]})           # 200 again
    call("POST", "/v1/jobs/%s/complete" % c2["id"], one, {"lease_token": "12345"})                     # 409
    call("POST", "/v1/jobs/%s/fail" % c1["id"], "/v1/jobs/{id}/fail", {"lease_token": c1["lease_token"],
                                                                        "error": {"code": "e"}})      # 200 already_failed
    call("POST", "/v1/jobs/00000000-0000-4000-8000-000000000000/fail", "/v1/jobs/{id}/fail",
         {"lease_token": "1", "error": {"code": "e"}})                                                # 404
    for j in jobs:
        call("GET", "/v1/tasks/" + j["id"], "/v1/tasks/{id}")
        call("GET", "/v1/tasks/%s/events" % j["id"], "/v1/tasks/{id}/events")
    call("GET", "/v1/tasks?limit=1", "/v1/tasks")
    call("GET", "/v1/tasks?limit=0", "/v1/tasks")                                                     # 400
    call("POST", "/v1/jobs", "/v1/jobs", {"jobs": [{"queue": "q", "input": "x" * (1 << 20)}]})        # 413
    call("POST", "/v1/jobs/claim", "/v1/jobs/claim", {"queues": []})                                  # 400
    statuses = {s for _, _, s in seen}
    assert {200, 201, 400, 404, 409, 413} <= statuses, statuses


def test_token_and_pause_answers_match_the_document(make_api):
    root = "admin-token-0123456789"
    api = make_api(AUTH_TOKEN=root, WEFT_TOKENS="c client-token-0123456789 a client")
    doc = api.get("/v1/openapi.json").json()
    auth = {"Authorization": "Bearer " + root}

    def call(method, path, template, body=None):
        r = api.server.request(method, path, json=body, headers=auth)
        check(doc, answer_schema(doc, method, template, r.status_code), r.json(), "%s %s" % (method, path))
        return r.json()

    made = call("POST", "/v1/tokens", "/v1/tokens",
                {"name": "t", "namespaces": ["a"], "role": "client", "expires_at": "2100-01-01T00:00:00Z"})
    assert "secret" in made
    call("POST", "/v1/tokens", "/v1/tokens", {"name": "t", "namespaces": ["a"], "role": "client"})   # 409
    call("POST", "/v1/tokens", "/v1/tokens", {"name": "T"})                                             # 400
    call("GET", "/v1/tokens", "/v1/tokens")
    call("GET", "/v1/tokens/c", "/v1/tokens/{name}")
    call("GET", "/v1/tokens/nobody", "/v1/tokens/{name}")                                               # 404
    call("DELETE", "/v1/tokens/t", "/v1/tokens/{name}")
    call("DELETE", "/v1/tokens/c", "/v1/tokens/{name}")                                                 # 409

    run = api.post("/v1/runs", json={"tasks": [{"ref": "x", "queue": "q"}]}, headers=auth).json()
    tid = run["tasks"][0]["id"]
    call("POST", "/v1/tasks/%s/pause" % tid, "/v1/tasks/{id}/pause", {"reason": "r"})
    call("POST", "/v1/tasks/%s/pause" % tid, "/v1/tasks/{id}/pause")                                    # 409
    call("POST", "/v1/tasks/%s/resume" % tid, "/v1/tasks/{id}/resume")
    call("POST", "/v1/runs/%s/pause" % run["id"], "/v1/runs/{id}/pause")
    call("POST", "/v1/runs/%s/resume" % run["id"], "/v1/runs/{id}/resume")
