"""GET /api-docs/openapi.json: an OpenAPI 3 document that describes every
route the suite exercises (harness.EXERCISED_ROUTES; conftest.py checks that
this list covers every route the tests reached)."""

import re

from harness import EXERCISED_ROUTES, openapi_template

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_openapi_document(api):
    r = api.get("/api-docs/openapi.json")
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("Content-Type", "").startswith("application/json")
    doc = r.json()
    assert re.match(r"^3\.\d+\.\d+$", doc.get("openapi", "")), doc.get("openapi")
    assert doc["info"]["title"] and doc["info"]["version"]
    documented = {}
    for path, ops in doc["paths"].items():
        assert path.startswith("/"), path
        documented.setdefault(openapi_template(path), set()).update(m.upper() for m in ops if m in HTTP_METHODS)
    missing = sorted((m, p) for m, p in EXERCISED_ROUTES if m not in documented.get(openapi_template(p), ()))
    assert not missing, "routes without an OpenAPI entry: %s" % missing
