"""GET /api-docs/openapi.json and GET /v1/openapi.json: OpenAPI 3 documents
that together describe every route the suite exercises, each the routes of
its own API (harness.EXERCISED_ROUTES; conftest.py checks that this list
covers every route the tests reached)."""

import re

from harness import EXERCISED_ROUTES, openapi_template

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def documented_routes(api, url, prefix):
    r = api.get(url)
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("Content-Type", "").startswith("application/json")
    doc = r.json()
    assert re.match(r"^3\.\d+\.\d+$", doc.get("openapi", "")), doc.get("openapi")
    assert doc["info"]["title"] and doc["info"]["version"]
    documented = {}
    for path, ops in doc["paths"].items():
        assert path.startswith(prefix), path
        documented.setdefault(openapi_template(path), set()).update(m.upper() for m in ops if m in HTTP_METHODS)
    return documented


def test_openapi_document(api):
    documented = documented_routes(api, "/api-docs/openapi.json", "/")
    missing = sorted((m, p) for m, p in EXERCISED_ROUTES
                     if not p.startswith("/v1/") and m not in documented.get(openapi_template(p), ()))
    assert not missing, "routes without an OpenAPI entry: %s" % missing


def test_v1_openapi_document(api):
    documented = documented_routes(api, "/v1/openapi.json", "/v1/")
    missing = sorted((m, p) for m, p in EXERCISED_ROUTES
                     if p.startswith("/v1/") and m not in documented.get(openapi_template(p), ()))
    assert not missing, "/v1 routes without an entry in /v1/openapi.json: %s" % missing
