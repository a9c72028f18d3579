"""Bearer tokens made over /v1/tokens: an admin makes one, its secret (shown
once) works on the /v1 routes within its namespaces and role, the list and
reads never show a secret, a revocation refuses it at once (401), an
expiry at its time (the server's clock is moved, not waited for). Names
are unique across the configured tokens and the API's; the configured ones
are listed but not revoked here. Client tokens get 403; a server without
authentication refuses to make tokens (409 auth_disabled). On a shared
PostgreSQL database a token made on one node works on another, and a
revocation reaches it once that node's cache has aged."""

import re

import pytest

from harness import Api, parse_ts, wait_for

ROOT = "admin-token-0123456789"     # every namespace, admin (AUTH_TOKEN)
A = "token-of-team-a-0123"          # namespace a, client
TOKENS = "a %s a client" % A
SECRET = re.compile(r"^wft_[A-Za-z0-9_-]{43}$")


def h(token):
    return {"Authorization": "Bearer " + token}


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:1000])
    e = r.json()["error"]
    assert e["code"] == code, e
    return e


def make(make_api, **env):
    env.setdefault("AUTH_TOKEN", ROOT)
    env.setdefault("WEFT_TOKENS", TOKENS)
    return make_api(**env)


def create(api, token=ROOT, expect=201, **body):
    r = api.post("/v1/tokens", json=body, headers=h(token))
    assert r.status_code == expect, r.text
    return r.json()


def enqueue(api, token, ns):
    return api.post("/v1/jobs", json={"namespace": ns, "jobs": [{"queue": "q"}]}, headers=h(token))


def test_a_made_token_works_in_its_namespaces_until_revoked(make_api):
    api = make(make_api)
    made = create(api, name="billing-ci", namespaces=["billing", "shared"], role="client")
    secret = made.pop("secret")
    assert SECRET.match(secret), secret
    assert made["name"] == "billing-ci" and made["namespaces"] == ["billing", "shared"]
    assert made["role"] == "client" and made["source"] == "api"
    assert made["created_at"] and made["expires_at"] is None and made["revoked_at"] is None
    assert made["last_used_at"] is None

    # It works where it may, is 403 where it may not, and is not an admin.
    assert enqueue(api, secret, "billing").status_code == 201
    error_of(enqueue(api, secret, "other"), 403, "forbidden_namespace")
    error_of(api.get("/v1/tokens", headers=h(secret)), 403, "forbidden")
    error_of(api.post("/v1/tokens", json={"name": "x", "namespaces": ["*"], "role": "admin"},
                      headers=h(secret)), 403, "forbidden")
    # The trail names it.
    tid = enqueue(api, secret, "shared").json()["jobs"][0]["id"]
    r = api.post("/v1/tasks/%s/cancel" % tid, json={}, headers=h(secret))
    assert r.status_code == 200, r.text
    evs = api.get("/v1/tasks/%s/events" % tid, headers=h(ROOT)).json()["events"]
    assert evs[-1]["actor"] == "token:billing-ci", evs

    # Listed, with the configured tokens, by name; no secret anywhere.
    listed = api.get("/v1/tokens", headers=h(ROOT))
    assert listed.status_code == 200, listed.text
    tokens = listed.json()["tokens"]
    assert [(t["name"], t["source"]) for t in tokens] == [("a", "env"), ("auth_token", "env"), ("billing-ci", "api")]
    assert secret not in listed.text and "secret" not in listed.text
    assert next(t for t in tokens if t["name"] == "auth_token")["namespaces"] == ["*"]
    one = api.get("/v1/tokens/billing-ci", headers=h(ROOT))
    assert one.status_code == 200, one.text
    assert dict(one.json(), last_used_at=None) == made, one.text

    # Revoked: refused at once; the token stays listed, its name taken.
    r = api.delete("/v1/tokens/billing-ci", headers=h(ROOT))
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None
    error_of(enqueue(api, secret, "billing"), 401, "unauthorized")
    assert api.get("/v1/tokens/billing-ci", headers=h(ROOT)).json()["revoked_at"] == r.json()["revoked_at"]
    assert api.delete("/v1/tokens/billing-ci", headers=h(ROOT)).json() == r.json()
    error_of(api.post("/v1/tokens", json={"name": "billing-ci", "namespaces": ["*"], "role": "client"},
                      headers=h(ROOT)), 409, "conflict")
    error_of(api.get("/v1/tokens/nobody", headers=h(ROOT)), 404, "not_found")
    error_of(api.delete("/v1/tokens/nobody", headers=h(ROOT)), 404, "not_found")


def test_an_admin_token_made_over_the_api_administers(make_api):
    api = make(make_api)
    admin = create(api, name="ops", namespaces=["*"], role="admin")["secret"]
    sub = create(api, admin, name="ops.sub", namespaces=["a"], role="client")
    assert api.get("/v1/tokens/ops.sub", headers=h(admin)).json()["name"] == "ops.sub"
    assert enqueue(api, sub["secret"], "a").status_code == 201
    # An admin limited to some namespaces gives only those.
    limited = create(api, name="team-a-admin", namespaces=["a"], role="admin")["secret"]
    error_of(api.post("/v1/tokens", json={"name": "wide", "namespaces": ["*"], "role": "client"},
                      headers=h(limited)), 403, "forbidden_namespace")
    error_of(api.post("/v1/tokens", json={"name": "wide", "namespaces": ["a", "b"], "role": "client"},
                      headers=h(limited)), 403, "forbidden_namespace")
    create(api, limited, name="narrow", namespaces=["a"], role="client")
    # It sees, reads and revokes only tokens within its namespaces: the
    # others are unknown to it.
    seen = [t["name"] for t in api.get("/v1/tokens", headers=h(limited)).json()["tokens"]]
    assert seen == ["a", "narrow", "ops.sub", "team-a-admin"], seen
    error_of(api.get("/v1/tokens/ops", headers=h(limited)), 404, "not_found")
    error_of(api.delete("/v1/tokens/ops", headers=h(limited)), 404, "not_found")
    error_of(api.delete("/v1/tokens/auth_token", headers=h(limited)), 404, "not_found")
    assert api.get("/v1/tokens/ops", headers=h(ROOT)).json()["revoked_at"] is None
    assert api.delete("/v1/tokens/ops.sub", headers=h(limited)).json()["revoked_at"] is not None


def test_last_use_is_recorded_at_most_once_a_minute(make_api):
    api = make(make_api)
    secret = create(api, name="user", namespaces=["a"], role="client")["secret"]

    def last_used():
        return api.get("/v1/tokens/user", headers=h(ROOT)).json()["last_used_at"]

    assert last_used() is None
    assert enqueue(api, secret, "a").status_code == 201
    first = wait_for(last_used, desc="last_used_at written")
    api.advance(30)
    assert enqueue(api, secret, "a").status_code == 201
    api.advance(31)
    assert enqueue(api, secret, "a").status_code == 201
    wait_for(lambda: last_used() != first, desc="last_used_at moved")
    assert parse_ts(last_used()) - parse_ts(first) >= 60


def test_expiry_is_checked_at_the_servers_time(make_api):
    api = make(make_api)
    r = api.get("/v1/tokens/auth_token", headers=h(ROOT))
    assert r.status_code == 200
    made = create(api, name="short", namespaces=["a"], role="client", expires_at="2100-01-01T00:00:00Z")
    assert made["expires_at"] == "2100-01-01T00:00:00.000Z"
    soon = create(api, name="soon", namespaces=["a"], role="client",
                  expires_at=_in_seconds(api, 60))
    assert enqueue(api, soon["secret"], "a").status_code == 201
    api.advance(61)
    error_of(enqueue(api, soon["secret"], "a"), 401, "unauthorized")
    assert enqueue(api, made["secret"], "a").status_code == 201


def _in_seconds(api, secs):
    """An RFC 3339 time `secs` after the server's now (its clock may have
    been moved): from a fresh token's created_at."""
    import datetime
    probe = create(api, name="clock-probe-%d" % secs, namespaces=["a"], role="client")
    now = datetime.datetime.strptime(probe["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return (now + datetime.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_bad_requests_name_their_fields(make_api):
    api = make(make_api)
    cases = [
        ({"name": "Bad Name", "namespaces": ["a"], "role": "client"}, "name"),
        ({"name": "x" * 65, "namespaces": ["a"], "role": "client"}, "name"),
        ({"namespaces": ["a"], "role": "client"}, "name"),
        ({"name": "n", "namespaces": [], "role": "client"}, "namespaces"),
        ({"name": "n", "role": "client"}, "namespaces"),
        ({"name": "n", "namespaces": ["Not_A_Namespace"], "role": "client"}, "namespaces[0]"),
        ({"name": "n", "namespaces": ["a", "a"], "role": "client"}, "namespaces[1]"),
        ({"name": "n", "namespaces": ["a", "*"], "role": "client"}, "namespaces[1]"),
        ({"name": "n", "namespaces": [7], "role": "client"}, "namespaces[0]"),
        ({"name": "n", "namespaces": ["a"] * 257, "role": "client"}, "namespaces"),
        ({"name": "n", "namespaces": ["a"], "role": "owner"}, "role"),
        ({"name": "n", "namespaces": ["a"]}, "role"),
        ({"name": "n", "namespaces": ["a"], "role": "client", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "n", "namespaces": ["a"], "role": "client", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "n", "namespaces": ["a"], "role": "client", "secret": "mine"}, "secret"),
    ]
    for body, field in cases:
        e = error_of(api.post("/v1/tokens", json=body, headers=h(ROOT)), 400, "invalid_request")
        assert any(d.startswith(field + ":") for d in e["details"]), (body, e)
    error_of(api.get("/v1/tokens/Not%20A%20Name", headers=h(ROOT)), 400, "invalid_request")
    assert api.get("/v1/tokens", headers=h(ROOT)).json()["tokens"][-1]["name"] == "auth_token"


def test_configured_names_are_taken_and_not_revoked_here(make_api, tmp_path):
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text("deploy deploy-secret-0123456789 * admin\n")
    api = make(make_api, WEFT_TOKENS_FILE=str(tokens_file))
    for name in ("deploy", "a", "auth_token"):
        error_of(api.post("/v1/tokens", json={"name": name, "namespaces": ["a"], "role": "client"},
                          headers=h(ROOT)), 409, "conflict")
    e = error_of(api.delete("/v1/tokens/deploy", headers=h(ROOT)), 409, "conflict")
    assert "WEFT_TOKENS_FILE" in e["message"] and "SIGHUP" in e["message"], e
    error_of(api.delete("/v1/tokens/a", headers=h(ROOT)), 409, "conflict")
    assert api.get("/v1/tokens/deploy", headers=h(ROOT)).json()["source"] == "file"
    create(api, name="dup", namespaces=["a"], role="client")
    error_of(api.post("/v1/tokens", json={"name": "dup", "namespaces": ["a"], "role": "client"},
                      headers=h(ROOT)), 409, "conflict")


def test_without_authentication_tokens_are_not_made(api):
    e = error_of(api.post("/v1/tokens", json={"name": "n", "namespaces": ["a"], "role": "client"}),
                 409, "auth_disabled")
    assert "AUTH_TOKEN" in e["message"], e
    assert api.get("/v1/tokens").json() == {"tokens": []}


def test_a_secret_of_the_right_shape_but_unknown_is_refused(make_api):
    api = make(make_api)
    error_of(enqueue(api, "wft_" + "A" * 43, "a"), 401, "unauthorized")


@pytest.mark.postgres_only
def test_a_token_made_on_one_node_works_on_another(weft_factory, mock):
    env = {"AUTH_TOKEN": ROOT, "WEFT_TOKENS": TOKENS}
    first = weft_factory.start(env=env)
    second = weft_factory.start(env=env, db=first.db)
    one, two = Api(first, mock), Api(second, mock)
    secret = create(one, name="shared", namespaces=["a"], role="client")["secret"]
    assert enqueue(two, secret, "a").status_code == 201
    assert [t["name"] for t in two.get("/v1/tokens", headers=h(ROOT)).json()["tokens"]][-1] == "shared"
    # Revoked on the first node: refused there at once, on the second once
    # its cached answer is older than 2 s.
    assert one.delete("/v1/tokens/shared", headers=h(ROOT)).status_code == 200
    error_of(enqueue(one, secret, "a"), 401, "unauthorized")
    second.advance(3)
    error_of(enqueue(two, secret, "a"), 401, "unauthorized")
