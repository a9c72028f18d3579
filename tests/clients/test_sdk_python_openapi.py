"""The Python SDK and the OpenAPI document agree: for every operation the
server serves (GET /v1/openapi.json) the installed weft.Client has a
method marked with its operationId (@operation), and that method's
signature takes every path, query and header parameter and every
request-body property as a keyword argument. The check reads the real
methods' signatures, so a route or a field the client lacks fails it;
the last tests show that it does."""

import glob
import inspect
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, "build", "sdk", "python-venv")


def _installed_weft():
    sites = glob.glob(os.path.join(VENV, "lib", "python3*", "site-packages"))
    if not sites:
        pytest.fail("the Python SDK is not installed: make build/sdk/python-venv/.weft-installed", pytrace=False)
    sys.path.insert(0, sites[0])
    import weft as module
    assert os.path.realpath(module.__file__).startswith(os.path.realpath(sites[0]) + os.sep), module.__file__
    return module


weft = _installed_weft()
from weft._operations import operation, param_name  # noqa: E402

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(doc):
    """(operationId, method, path, parameter names, body property names,
    body schema) for every operation of the document."""
    out = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method not in METHODS:
                continue
            params = [_resolve(doc, p)["name"] for p in shared + op.get("parameters", [])]
            body = None
            if "requestBody" in op:
                rb = _resolve(doc, op["requestBody"])
                body = _resolve(doc, rb["content"]["application/json"]["schema"])
            props = list((body or {}).get("properties", {}))
            out.append((op["operationId"], method.upper(), path, params, props, body))
    return out


def client_methods(cls):
    """operationId -> [(method name, function)] of the methods marked."""
    found = {}
    for name, fn in inspect.getmembers(cls, inspect.isfunction):
        op = getattr(fn, "__weft_operation__", None)
        if op:
            found.setdefault(op, []).append((name, fn))
    return found


def accepts(fn):
    """The keyword names fn takes; None when it has **kwargs (which would
    hide a missing field)."""
    sig = inspect.signature(fn)
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def problems(cls, doc):
    """What the client class lacks, one line each."""
    found = client_methods(cls)
    out = []
    for op_id, method, path, params, props, body in operations(doc):
        marked = found.get(op_id)
        where = "%s %s (%s)" % (method, path, op_id)
        if not marked:
            out.append("%s: no client method marked @operation(%r)" % (where, op_id))
            continue
        whole = [(n, f) for n, f in marked if not getattr(f, "__weft_each__", None)]
        if not whole:
            out.append("%s: no method sends the whole body" % where)
        for name, fn in marked:
            names = accepts(fn)
            if names is None:
                out.append("%s: %s takes **kwargs; list the fields" % (where, name))
                continue
            each = getattr(fn, "__weft_each__", None)
            wanted = [param_name(p) for p in params] + [p for p in props if p != each]
            if each:
                items = _resolve(doc, _resolve(doc, body["properties"][each]).get("items", {}))
                wanted += list(items.get("properties", {}))
            for field in wanted:
                if field not in names:
                    out.append("%s: %s() has no argument %r" % (where, name, field))
    return out


@pytest.fixture
def served(server):
    r = server.get("/v1/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()


def test_every_served_operation_and_field_has_a_client_method(served):
    assert len(operations(served)) >= 30
    assert problems(weft.Client, served) == []


def test_the_check_sees_a_missing_parameter(served):
    class Missing(weft.Client):
        @operation("listTasks")
        def list_tasks(self, *, namespace=None, queue=None, status=None, executor=None, run_id=None,
                       created_after=None, created_before=None, cursor=None):   # no limit
            raise NotImplementedError

    assert problems(Missing, served) == ["GET /v1/tasks (listTasks): list_tasks() has no argument 'limit'"]


def test_the_check_sees_a_missing_body_property_and_kwargs(served):
    class Missing(weft.Client):
        @operation("claimJobs")
        def claim(self, queues, worker_id, *, namespace=None, hostname=None, max_jobs=None, wait_ms=None):
            raise NotImplementedError

        @operation("enqueueJobs", each="jobs")
        def enqueue(self, queue, **fields):
            raise NotImplementedError

    assert problems(Missing, served) == [
        "POST /v1/jobs (enqueueJobs): enqueue takes **kwargs; list the fields",
        "POST /v1/jobs/claim (claimJobs): claim() has no argument 'lease_ms'",
    ]


def test_the_check_sees_a_missing_operation(served):
    class Missing(weft.Client):
        def get_queue(self, name, *, namespace=None):   # not marked
            raise NotImplementedError

    assert problems(Missing, served) == ["GET /v1/queues/{name} (getQueue): no client method marked @operation('getQueue')"]
