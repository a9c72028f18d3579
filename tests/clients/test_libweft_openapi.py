"""libweft and the OpenAPI document agree: every operation of the document
the server serves (GET /v1/openapi.json) has a function in include/weft.h
(tagged `@operation <operationId>` in its comment), every path, query and
header parameter can be passed (a parameter of the function, or a member
of a struct it takes), every request-body property is a member of the
request struct (recursively, through the member's struct type), and every
property of a typed answer (a `weft_x **out` parameter) is a member of the
answer's struct.

The check reads the real header: no list is kept beside it. The last test
removes a member from a copy of the header and asserts that the check
notices, so that a check that stopped looking would fail too.
"""

import os
import re

import requests

HEADER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "include", "weft.h")

IDENT = re.compile(r"[A-Za-z_]\w*")


def _strip_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _decl(text):
    """'const weft_job_spec *jobs' -> ('weft_job_spec', 'jobs', pointer depth)."""
    text = text.strip()
    words = IDENT.findall(text)
    if not words:
        return None
    name = words[-1]
    types = [w for w in words[:-1] if w not in ("const", "struct", "unsigned", "signed")]
    return (types[-1] if types else ""), name, text.count("*")


def parse_header(text):
    """The header's structs {type: {member: member type}} and its tagged
    functions {operationId: (name, [(type, name, pointers)])}."""
    structs = {}
    body = _strip_comments(text)
    for m in re.finditer(r"typedef\s+struct\s+\w+\s*\{(.*?)\}\s*(\w+)\s*;", body, re.S):
        members = {}
        for line in m.group(1).split(";"):
            line = line.strip()
            if not line:
                continue
            # "char *a, *b" declares two
            first, *more = line.split(",")
            d = _decl(first)
            if not d:
                continue
            members[d[1]] = d[0]
            for extra in more:
                members[IDENT.findall(extra)[-1]] = d[0]
        structs[m.group(2)] = members
    functions = {}
    for m in re.finditer(r"@operation\s+(\w+)[^/]*?\*/\s*WEFT_API\s+[^;(]*?(\w+)\s*\(([^)]*)\)\s*;", text, re.S):
        params = [_decl(p) for p in m.group(3).split(",")]
        functions[m.group(1)] = (m.group(2), [p for p in params if p])
    return structs, functions


def c_name(name):
    """A document name as libweft spells it: Idempotency-Key ->
    idempotency_key; a member namespace_ answers for namespace."""
    return name.lower().replace("-", "_")


def _members(structs, type_name):
    return {m.rstrip("_"): t for m, t in structs.get(type_name, {}).items()}


class Checker:
    def __init__(self, doc, header_text):
        self.doc = doc
        self.structs, self.functions = parse_header(header_text)
        self.problems = []

    def resolve(self, schema):
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            name = schema["$ref"].rsplit("/", 1)[-1]
            section = "parameters" if "/parameters/" in schema["$ref"] else "schemas"
            schema = self.doc["components"][section][name]
            seen += 1
        if isinstance(schema, dict) and "allOf" in schema:
            merged = {"type": "object", "properties": {}}
            for part in schema["allOf"]:
                merged["properties"].update(self.resolve(part).get("properties", {}))
            return merged
        return schema

    def object_of(self, schema):
        """The object schema with properties that schema is, or holds as
        its items; None for anything else (free-form JSON, scalars)."""
        s = self.resolve(schema)
        if s.get("type") == "array" or "items" in s:
            s = self.resolve(s.get("items", {}))
        return s if s.get("properties") else None

    def check_struct(self, schema, type_name, where):
        s = self.object_of(schema)
        if s is None:
            return
        members = _members(self.structs, type_name)
        if not members:
            self.problems.append("%s: %s is not a struct of weft.h (it must hold %s)"
                                 % (where, type_name or "(no type)", ", ".join(sorted(s["properties"]))))
            return
        for prop, sub in s["properties"].items():
            if c_name(prop) not in members:
                self.problems.append("%s: %s has no member for property %r" % (where, type_name, prop))
                continue
            if self.object_of(sub) is not None:
                self.check_struct(sub, members[c_name(prop)], "%s.%s" % (where, prop))

    def check_operation(self, op_id, op, path_params):
        if op_id not in self.functions:
            self.problems.append("%s: no function tagged @operation %s in weft.h" % (op_id, op_id))
            return
        fname, params = self.functions[op_id]
        where = "%s (%s)" % (op_id, fname)
        names = {p[1].rstrip("_") for p in params}
        for p in params:
            names |= set(_members(self.structs, p[0]))
        for prm in path_params + op.get("parameters", []):
            prm = self.resolve(prm)
            if c_name(prm["name"]) not in names:
                self.problems.append("%s: %s parameter %r cannot be passed" % (where, prm["in"], prm["name"]))
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body is not None and self.object_of(body) is not None:
            candidates = [p for p in params if p[2] == 1 and p[0] in self.structs]
            if not candidates:
                self.problems.append("%s: takes no request struct for its body" % where)
            else:
                best = None
                for cand in candidates:
                    before = len(self.problems)
                    self.check_struct(body, cand[0], "%s body" % where)
                    found = self.problems[before:]
                    del self.problems[before:]
                    if best is None or len(found) < len(best):
                        best = found
                self.problems.extend(best)
        typed = [p for p in params if p[2] == 2 and p[0] in self.structs]
        for out in typed:
            for status, resp in op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                schema = resp.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None:
                    self.check_struct(schema, out[0], "%s answer %s" % (where, status))

    def run(self):
        for path, item in self.doc["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                self.check_operation(op["operationId"], op, shared)
        return self.problems


def served_document(server):
    r = requests.get(server.base + "/v1/openapi.json", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def read_header():
    with open(HEADER, encoding="utf-8") as f:
        return f.read()


def test_every_operation_and_field_of_the_served_document_is_in_weft_h(server):
    doc = served_document(server)
    checker = Checker(doc, read_header())
    problems = checker.run()
    assert not problems, "weft.h and /v1/openapi.json disagree:\n  " + "\n  ".join(problems)
    # and the check did look: every operation matched a function
    ops = {op["operationId"] for item in doc["paths"].values() for m, op in item.items() if m != "parameters"}
    assert ops <= set(checker.functions), ops - set(checker.functions)


def test_the_operations_added_beside_the_document_have_functions():
    """Pause/resume of tasks and runs and the token administration are
    coded to the agreed contract; they stay in the header once the
    document has them."""
    _, functions = parse_header(read_header())
    for op_id in ("pauseTask", "resumeTask", "pauseRun", "resumeRun", "listTokens", "createToken", "getToken",
                  "revokeToken"):
        assert op_id in functions, op_id


def _without(text, struct, member):
    """The header with one member line removed from one struct."""
    m = re.search(r"typedef\s+struct\s+%s\s*\{.*?\}\s*%s\s*;" % (struct, struct), text, re.S)
    assert m, struct
    block = m.group(0)
    cut = re.sub(r"\n[^\n]*\b%s;[^\n]*" % member, "", block, count=1)
    assert cut != block, (struct, member)
    return text[:m.start()] + cut + text[m.end():]


def test_the_check_fails_when_a_field_or_function_is_missing(server):
    doc = served_document(server)
    text = read_header()
    cases = [
        (_without(text, "weft_lease_ref", "lease_token"), "heartbeatJobs", "'lease_token'"),
        (_without(text, "weft_job", "heartbeat_ms"), "claimJobs", "'heartbeat_ms'"),
        (_without(text, "weft_task_query", "created_before"), "listTasks", "'created_before'"),
        (_without(text, "weft_backoff", "jitter"), "enqueueJobs", "'jitter'"),
        (text.replace("@operation getRun", "@operation notAnOperation"), "getRun", "no function"),
    ]
    for broken, op_id, what in cases:
        problems = Checker(doc, broken).run()
        assert any(p.startswith(op_id) and what in p for p in problems), (op_id, what, problems)
