"""`weft audit` against a real server started with an admin token: the
entries the tokens' changes recorded, newest first, as a table and as
JSON, filtered by actor, action, object and time; a client token is
refused (exit 3) and a malformed --object is a usage error (exit 2)."""

import pytest

from cli_util import as_json, clean_env, ok, rows_by, weft

ADMIN = "admin-secret-for-tests"


@pytest.fixture
def authed(weft_factory):
    return weft_factory.start(env={"AUTH_TOKEN": ADMIN})


def test_audit_lists_and_filters(authed):
    env = clean_env(authed.base, WEFT_TOKEN=ADMIN)
    ops = as_json(None, "tokens", "create", "ops", "--namespaces", "*", "--role", "admin", env=env)["secret"]
    ops_env = clean_env(authed.base, WEFT_TOKEN=ops)
    ok(None, "queues", "pause", "emails", env=ops_env)
    ok(None, "queues", "resume", "emails", env=ops_env)

    header, rows = rows_by(ok(None, "audit", env=env), "ACTION")
    assert header[:5] == ["AT", "ACTOR", "ACTION", "KIND", "OBJECT"]
    assert rows["queue.pause"]["ACTOR"] == "ops" and rows["queue.pause"]["OBJECT"] == "emails"
    assert rows["token.create"]["ACTOR"] == "auth_token" and rows["token.create"]["OBJECT"] == "ops"

    doc = as_json(None, "audit", "--actor", "ops", env=env)
    assert [e["action"] for e in doc["entries"]] == ["queue.resume", "queue.pause"]
    doc = as_json(None, "audit", "--object", "queue:emails", "--action", "queue.pause", env=env)
    assert [(e["actor"], e["object_id"]) for e in doc["entries"]] == [("ops", "emails")]
    assert [e["action"] for e in as_json(None, "audit", "--object", "token", env=env)["entries"]] == ["token.create"]
    since = doc["entries"][0]["at"]
    got = as_json(None, "audit", "--since", since, "--all", env=env)
    assert [e["action"] for e in got] == ["queue.resume", "queue.pause"]

    client = as_json(None, "tokens", "create", "viewer", "--namespaces", "default", "--role", "client",
                     env=env)["secret"]
    assert weft(None, "audit", env=clean_env(authed.base, WEFT_TOKEN=client)).returncode == 3
    assert weft(None, "audit", "--object", ":x", env=env).returncode == 2
