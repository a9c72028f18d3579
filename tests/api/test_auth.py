"""Optional bearer token (AUTH_TOKEN): every route but /health and /ready
requires it, and a request without it changes nothing."""

import pytest

UNAUTHORIZED = {"error": "Unauthorized: valid bearer token required", "status": 401}


@pytest.fixture
def secured(make_api):
    return make_api(AUTH_TOKEN="s3cret-token")


def test_routes_require_token(secured):
    for method, path in (("GET", "/task"), ("POST", "/task"), ("GET", "/batches"), ("GET", "/metrics"),
                         ("GET", "/task/00000000-0000-0000-0000-000000000000")):
        r = secured.server.request(method, path, json=[])
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json() == UNAUTHORIZED


def test_wrong_token_rejected(secured):
    for value in ("Bearer wrong", "Bearer s3cret-tokenX", "Bearer s3cret-toke", "s3cret-token", "Basic s3cret-token",
                  "Bearer "):
        r = secured.get("/task", headers={"Authorization": value})
        assert r.status_code == 401, value


def test_right_token_accepted(secured):
    h = {"Authorization": "Bearer s3cret-token"}
    r = secured.post("/task", json=[secured.task("a")], headers=h)
    assert r.status_code == 201
    assert secured.get("/task", headers=h).status_code == 200
    tid = r.json()[0]["id"]
    assert secured.get("/task/" + tid, headers=h).json()["id"] == tid


def test_health_and_ready_open(secured):
    assert secured.get("/health").status_code == 200
    assert secured.get("/ready").status_code == 200


def test_nothing_written_without_token(secured):
    assert secured.post("/task", json=[secured.task("a")]).status_code == 401
    r = secured.get("/task", headers={"Authorization": "Bearer s3cret-token"})
    assert r.json() == []
