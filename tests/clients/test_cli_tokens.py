"""`weft tokens [ls|show|create|revoke]` against a real server started with
an admin token (AUTH_TOKEN), in --json and table output; the secret is
printed once and works; a client token is refused with the reason. `weft
whoami` shows any token itself."""

import pytest

from cli_util import as_json, clean_env, fields, ok, rows_by, weft

ADMIN = "admin-secret-for-tests"


@pytest.fixture
def authed(weft_factory):
    srv = weft_factory.start(env={"AUTH_TOKEN": ADMIN})
    r = srv.get("/v1/tokens", headers={"Authorization": "Bearer " + ADMIN})
    if r.status_code == 404:
        pytest.skip("this server has no /v1/tokens yet")
    return srv


def admin(srv, *args):
    return ok(None, *args, env=clean_env(srv.base, WEFT_TOKEN=ADMIN))


def test_create_show_ls_revoke(authed):
    env = clean_env(authed.base, WEFT_TOKEN=ADMIN)
    r = weft(None, "tokens", "create", "ci-deploy", "--namespaces", "billing,ops", "--role", "client",
             "--expires", "30d", env=env)
    assert r.returncode == 0, r.stderr
    assert "not shown again" in r.stderr
    header, rows = rows_by(r.stdout.split("\n\nsecret:")[0], "NAME")
    assert header[:4] == ["NAME", "ROLE", "NAMESPACES", "SOURCE"]
    assert rows["ci-deploy"]["ROLE"] == "client" and rows["ci-deploy"]["NAMESPACES"] == "billing,ops"
    assert rows["ci-deploy"]["EXPIRES"].startswith("in ")
    secret = r.stdout.split("secret: ")[1].strip()
    assert secret.startswith("wft_")

    # the secret works, for its namespaces
    assert weft(None, "ls", "--namespace", "billing", env=clean_env(authed.base, WEFT_TOKEN=secret)).returncode == 0

    doc = as_json(None, "tokens", "create", "ops-admin", "--namespaces", "*", "--role", "admin", env=env)
    assert doc["name"] == "ops-admin" and doc["namespaces"] == ["*"] and doc["secret"].startswith("wft_")
    assert doc["source"] == "api" and doc["expires_at"] is None

    f = fields(admin(authed, "tokens", "show", "ci-deploy"))
    assert f["Name"] == "ci-deploy" and f["Role"] == "client" and f["Namespaces"] == "billing,ops"
    shown = as_json(None, "tokens", "show", "ci-deploy", env=env)
    assert "secret" not in shown and shown["role"] == "client"

    _, rows = rows_by(admin(authed, "tokens"), "NAME")
    assert {"ci-deploy", "ops-admin"} <= set(rows)
    names = [t["name"] for t in as_json(None, "tokens", "ls", env=env)["tokens"]]
    assert names == sorted(names) and "ci-deploy" in names

    _, rows = rows_by(admin(authed, "tokens", "revoke", "ci-deploy"), "NAME")
    assert rows["ci-deploy"]["REVOKED"] != "-"
    assert as_json(None, "tokens", "revoke", "ops-admin", env=env)["revoked_at"]
    r = weft(None, "ls", "--namespace", "billing", env=clean_env(authed.base, WEFT_TOKEN=secret))
    assert r.returncode == 3


def test_errors(authed):
    env = clean_env(authed.base, WEFT_TOKEN=ADMIN)
    r = weft(None, "tokens", "show", "nobody", env=env)
    assert r.returncode == 5 and "nobody" in r.stderr
    ok(None, "tokens", "create", "dup", "--namespaces", "default", "--role", "client", env=env)
    r = weft(None, "tokens", "create", "dup", "--namespaces", "default", "--role", "client", env=env)
    assert r.returncode == 6
    r = weft(None, "tokens", "create", "x", env=env)
    assert r.returncode == 2 and "--namespaces" in r.stderr
    # a client token may not administer tokens
    client = as_json(None, "tokens", "create", "plain", "--namespaces", "default", "--role", "client", env=env)
    r = weft(None, "tokens", env=clean_env(authed.base, WEFT_TOKEN=client["secret"]))
    assert r.returncode == 3 and "admin role" in r.stderr
    r = weft(None, "tokens", env=clean_env(authed.base))
    assert r.returncode == 3 and "WEFT_TOKEN" in r.stderr
    # a namespace the token does not cover: 403, named
    r = weft(None, "ls", "--namespace", "billing", env=clean_env(authed.base, WEFT_TOKEN=client["secret"]))
    assert r.returncode == 3 and "billing" in r.stderr, r.stderr


def test_without_authentication_the_server_says_how_to_turn_it_on(server):
    if server.get("/v1/tokens").status_code == 404:
        pytest.skip("this server has no /v1/tokens yet")
    r = weft(server.base, "tokens", "create", "x", "--namespaces", "*", "--role", "admin")
    assert r.returncode == 6 and "AUTH_TOKEN" in r.stderr


def test_whoami_shows_the_token_in_use(authed):
    env = clean_env(authed.base, WEFT_TOKEN=ADMIN)
    f = fields(admin(authed, "whoami"))
    assert f["Token"] == "auth_token" and f["Admin"] == "yes" and f["Namespaces"] == "*"
    client = as_json(None, "tokens", "create", "billing-ci", "--namespaces", "billing", "--role", "client", env=env)
    me = as_json(None, "whoami", env=clean_env(authed.base, WEFT_TOKEN=client["secret"]))
    assert me == {"token": "billing-ci", "admin": False, "namespaces": ["billing"], "default_namespace": "billing"}
    r = weft(None, "whoami", env=clean_env(authed.base, WEFT_TOKEN="not-a-token-of-this-server"))
    assert r.returncode == 3, r.stderr
