"""Incoming webhooks (/v1/hooks): a delivery signed in weft's scheme
(X-Weft-Signature, the one weft signs its own webhooks with) or GitHub's
(X-Hub-Signature-256) starts the hook's target with the body as input;
an unsigned, badly signed or stale one (outside the replay window, on the
injected clock) is 401 and starts nothing; a delivery sent again within
the window answers the first one's run (200) rather than starting
another. Also the CRUD routes, the secret answered once, and rotation."""

import hashlib
import hmac
import json
import time

from harness import parse_ts, wait_for

SECRET = "s3cret-for-the-tests-0123"


def create(api, expect=201, **body):
    body.setdefault("target", {"kind": "job", "queue": "hooked"})
    body.setdefault("secret", SECRET)
    r = api.post("/v1/hooks", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def weft_sign(secret, body, t=None):
    t = int(time.time()) if t is None else int(t)
    mac = hmac.new(secret.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def github_sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(api, name, body, headers, expect):
    r = api.post("/v1/hooks/" + name, data=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def server_now(api):
    """The server's clock (seconds): the test clock may have been moved."""
    r = api.post("/v1/hooks", json={"name": "clock-probe-%d" % time.monotonic_ns(), "secret": SECRET,
                                    "target": {"kind": "job", "queue": "probe"}})
    assert r.status_code == 201, r.text
    return parse_ts(r.json()["created_at"])


def jobs_of(api, queue):
    r = api.get("/v1/tasks?queue=%s&limit=100" % queue)
    assert r.status_code == 200, r.text
    return r.json()["tasks"]


def test_a_weft_signed_delivery_starts_its_target_with_the_body_as_input(api):
    h = create(api, name="deploy", target={"kind": "job", "queue": "deploys", "name": "deploy"})
    assert h["secret"] == SECRET and h["scheme"] == "weft" and h["replay_window_secs"] == 300
    body = json.dumps({"ref": "main", "n": 1}).encode()
    out = deliver(api, "deploy", body, {"X-Weft-Signature": weft_sign(SECRET, body, server_now(api)),
                                        "X-Weft-Delivery": "d-1", "Content-Type": "application/json"}, 201)
    assert out["duplicate"] is False and out["delivery_id"] == "d-1"
    task = api.get("/v1/tasks/" + out["run_id"]).json()
    assert task["input"] == {"ref": "main", "n": 1}
    assert [t["id"] for t in jobs_of(api, "deploys")] == [out["run_id"]]
    # The secret is answered once: not by a read nor a listing.
    got = api.get("/v1/hooks/deploy").json()
    assert "secret" not in got and got["deliveries"] == 1 and got["last_delivery_at"]
    assert all("secret" not in x for x in api.get("/v1/hooks").json()["hooks"])


def test_a_github_signed_delivery_is_accepted_and_a_text_body_is_a_string_input(api):
    create(api, name="gh", scheme="github")
    body = b"plain text, not JSON"
    out = deliver(api, "gh", body, {"X-Hub-Signature-256": github_sign(SECRET, body),
                                    "X-GitHub-Delivery": "72d3162e"}, 201)
    task = api.get("/v1/tasks/" + out["run_id"]).json()
    assert task["input"] == "plain text, not JSON"


def test_unsigned_badly_signed_or_unknown_is_401_and_starts_nothing(api):
    create(api, name="w", target={"kind": "job", "queue": "w401"})
    create(api, name="g", scheme="github", target={"kind": "job", "queue": "w401"})
    body = b'{"a":1}'
    now = server_now(api)
    cases = [
        ("w", {}),
        ("w", {"X-Weft-Signature": weft_sign("another-secret-0123456", body, now)}),
        ("w", {"X-Weft-Signature": weft_sign(SECRET, b'{"a":2}', now)}),
        ("w", {"X-Weft-Signature": "v1=" + "0" * 64}),
        ("w", {"X-Hub-Signature-256": github_sign(SECRET, body)}),   # the other scheme's header
        ("g", {}),
        ("g", {"X-Hub-Signature-256": github_sign("another-secret-0123456", body)}),
        ("g", {"X-Hub-Signature-256": "sha1=" + hashlib.sha1(body).hexdigest()}),
        ("nope", {"X-Weft-Signature": weft_sign(SECRET, body, now)}),
    ]
    for name, headers in cases:
        r = api.post("/v1/hooks/" + name, data=body, headers=headers)
        assert r.status_code == 401, (name, headers, r.text)
        assert r.json()["error"]["code"] == "unauthorized", r.text
    assert jobs_of(api, "w401") == []
    assert api.get("/v1/hooks/w").json()["deliveries"] == 0


def test_a_weft_signature_outside_the_replay_window_is_refused(api):
    create(api, name="win", replay_window_secs=60, target={"kind": "job", "queue": "win"})
    body = b'{"x":1}'
    now = server_now(api)
    # Well outside the window either way (real seconds pass meanwhile).
    for t in (now - 120, now + 120):
        r = api.post("/v1/hooks/win", data=body, headers={"X-Weft-Signature": weft_sign(SECRET, body, t)})
        assert r.status_code == 401 and "replay window" in r.text, r.text
    # Signed now, then the server's clock moves past the window: refused.
    sig = weft_sign(SECRET, body, now)
    api.advance(120)
    r = api.post("/v1/hooks/win", data=body, headers={"X-Weft-Signature": sig})
    assert r.status_code == 401 and "replay window" in r.text, r.text
    assert jobs_of(api, "win") == []
    deliver(api, "win", body, {"X-Weft-Signature": weft_sign(SECRET, body, now + 120)}, 201)


def test_a_delivery_sent_again_answers_the_first_run(api):
    create(api, name="dup", replay_window_secs=60, target={"kind": "job", "queue": "dup"})
    body = b'{"order":7}'
    now = server_now(api)
    headers = {"X-Weft-Signature": weft_sign(SECRET, body, now), "X-Weft-Delivery": "del-7"}
    first = deliver(api, "dup", body, headers, 201)
    again = deliver(api, "dup", body, headers, 200)
    assert again["duplicate"] is True and again["run_id"] == first["run_id"]
    # Another signature with the same delivery id is the same delivery.
    api.advance(10)
    resigned = {"X-Weft-Signature": weft_sign(SECRET, body, now + 10), "X-Weft-Delivery": "del-7"}
    assert deliver(api, "dup", body, resigned, 200)["run_id"] == first["run_id"]
    # Without a delivery id, the same signed request is the same delivery.
    bare = {"X-Weft-Signature": weft_sign(SECRET, body, now + 10)}
    one = deliver(api, "dup", body, bare, 201)
    assert deliver(api, "dup", body, bare, 200)["run_id"] == one["run_id"]
    assert len(jobs_of(api, "dup")) == 2
    # Past the window the id is forgotten: a fresh signature makes a new run.
    api.advance(61)
    later = {"X-Weft-Signature": weft_sign(SECRET, body, now + 71), "X-Weft-Delivery": "del-7"}
    assert deliver(api, "dup", body, later, 201)["run_id"] != first["run_id"]
    assert api.get("/v1/hooks/dup").json()["deliveries"] == 3


def test_github_deliveries_are_deduplicated_by_their_delivery_id(api):
    create(api, name="ghd", scheme="github", target={"kind": "job", "queue": "ghd"})
    body = b'{"action":"opened"}'
    headers = {"X-Hub-Signature-256": github_sign(SECRET, body), "X-GitHub-Delivery": "gh-1"}
    first = deliver(api, "ghd", body, headers, 201)
    assert deliver(api, "ghd", body, headers, 200)["run_id"] == first["run_id"]
    assert len(jobs_of(api, "ghd")) == 1


def test_a_workflow_target_starts_a_run_with_the_body(api):
    create(api, name="wf", target={"kind": "workflow", "type": "onboard", "queue": "wfq"})
    body = b'{"user":"ada"}'
    out = deliver(api, "wf", body, {"X-Weft-Signature": weft_sign(SECRET, body, server_now(api))}, 201)
    run = api.get("/v1/workflows/" + out["run_id"]).json()
    assert run["type"] == "onboard" and run["input"] == {"user": "ada"}


def test_a_generated_secret_is_answered_once_and_rotation_replaces_it(api):
    r = api.post("/v1/hooks", json={"name": "gen", "target": {"kind": "job", "queue": "gen"}})
    assert r.status_code == 201, r.text
    old = r.json()["secret"]
    assert old.startswith("whsec_") and len(old) == 70
    body = b"{}"
    now = server_now(api)
    deliver(api, "gen", body, {"X-Weft-Signature": weft_sign(old, body, now), "X-Weft-Delivery": "a"}, 201)
    r = api.post("/v1/hooks/gen/rotate")
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != old and new.startswith("whsec_")
    r = api.post("/v1/hooks/gen", data=body, headers={"X-Weft-Signature": weft_sign(old, body, now),
                                                      "X-Weft-Delivery": "b"})
    assert r.status_code == 401, r.text
    deliver(api, "gen", body, {"X-Weft-Signature": weft_sign(new, body, now), "X-Weft-Delivery": "b"}, 201)
    r = api.post("/v1/hooks/gen/rotate", json={"secret": "given-secret-0123456789"})
    assert r.status_code == 200 and r.json()["secret"] == "given-secret-0123456789", r.text


def test_create_checks_its_fields_and_names_are_unique(api):
    for body, field in [({"name": "Bad Name"}, "name"), ({"name": "x", "scheme": "sha1"}, "scheme"),
                        ({"name": "x", "secret": "short"}, "secret"),
                        ({"name": "x", "replay_window_secs": 0}, "replay_window_secs"),
                        ({"name": "x", "target": {"kind": "job"}}, "target.queue"),
                        ({"name": "x", "target": {"kind": "template", "template": "nope@1"}}, "target.template")]:
        body.setdefault("target", {"kind": "job", "queue": "q"})
        r = api.post("/v1/hooks", json=body)
        assert r.status_code in (400, 422), r.text
        assert field in r.text, (field, r.text)
    create(api, name="same")
    create(api, name="same", expect=409)


def test_list_pages_get_and_delete(api):
    for n in ("h1", "h2", "h3"):
        create(api, name=n)
    r = api.get("/v1/hooks?limit=2")
    page = r.json()
    assert [h["name"] for h in page["hooks"]] == ["h1", "h2"] and page["next_cursor"] == "h2"
    page = api.get("/v1/hooks?limit=2&cursor=h2").json()
    assert [h["name"] for h in page["hooks"]] == ["h3"] and page["next_cursor"] is None
    assert api.delete("/v1/hooks/h2").status_code == 204
    assert api.get("/v1/hooks/h2").status_code == 404
    assert api.delete("/v1/hooks/h2").status_code == 404
    body = b"{}"
    r = api.post("/v1/hooks/h2", data=body, headers={"X-Weft-Signature": weft_sign(SECRET, body)})
    assert r.status_code == 401, r.text


def test_a_delivery_needs_no_bearer_token(make_api):
    api = make_api(AUTH_TOKEN="admin-token-0123456789")
    auth = {"Authorization": "Bearer admin-token-0123456789"}
    r = api.post("/v1/hooks", json={"name": "open", "secret": SECRET, "target": {"kind": "job", "queue": "o"}})
    assert r.status_code == 401, r.text
    r = api.post("/v1/hooks", json={"name": "open", "secret": SECRET, "target": {"kind": "job", "queue": "o"}},
                 headers=auth)
    assert r.status_code == 201, r.text
    now = parse_ts(r.json()["created_at"])
    body = b'{"ok":true}'
    out = deliver(api, "open", body, {"X-Weft-Signature": weft_sign(SECRET, body, now)}, 201)
    assert api.get("/v1/tasks/" + out["run_id"], headers=auth).status_code == 200
    r = api.post("/v1/hooks/open", data=body)
    assert r.status_code == 401, r.text


def test_a_template_target_starts_a_run_with_the_body_as_its_context(api):
    r = api.post("/v1/templates", json={"name": "etl", "version": "1", "steps": [
        {"ref": "extract", "queue": "tpl-hook", "input": {"table": "orders"}}]})
    assert r.status_code == 201, r.text
    create(api, name="tpl", target={"kind": "template", "template": "etl@1", "context": {"ignored": True}})
    body = b'{"day": 5}'
    out = deliver(api, "tpl", body, {"X-Weft-Signature": weft_sign(SECRET, body, server_now(api))}, 201)
    run = api.get("/v1/runs/" + out["run_id"]).json()
    assert run["name"] == "etl@1" and run["context"] == {"day": 5}, run
    (task,) = jobs_of(api, "tpl-hook")
    assert api.get("/v1/tasks/" + task["id"]).json()["input"] == {"context": {"day": 5},
                                                                  "config": {"table": "orders"}}


def test_hook_and_subscription_changes_are_audited_without_secrets(api):
    r = api.post("/v1/hooks", json={"name": "aud", "target": {"kind": "job", "queue": "aud"}})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    rotated = api.post("/v1/hooks/aud/rotate").json()["secret"]
    assert api.delete("/v1/hooks/aud").status_code == 204
    assert api.delete("/v1/hooks/aud").status_code == 404          # refused: nothing recorded
    r = api.post("/v1/subscriptions", json={"name": "s1", "topic": "orders.*", "target": {"kind": "job", "queue": "q"}})
    assert r.status_code == 201, r.text
    assert api.delete("/v1/subscriptions/s1").status_code == 204
    r = api.get("/v1/audit", params={"limit": 100})
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    got = [(x["action"], x["object_kind"], x["object_id"]) for x in reversed(entries)]
    assert got == [("hook.create", "hook", "aud"), ("hook.rotate", "hook", "aud"), ("hook.delete", "hook", "aud"),
                   ("subscription.create", "subscription", "s1"),
                   ("subscription.delete", "subscription", "s1")], got
    assert entries[-1]["detail"] == {"scheme": "weft", "target_kind": "job"}
    assert entries[1]["detail"] == {"topic": "orders.*", "target_kind": "job"}
    text = r.text
    assert secret not in text and rotated not in text and "whsec_" not in text


def test_a_delivery_that_started_nothing_leaves_its_delivery_id_free(weft_factory, mock):
    """A template whose exec step this server refuses (started without
    --allow-exec) makes no run: 400, and the id is not used up, so the same
    delivery sent again once exec is allowed starts the run."""
    from harness import Api
    api = Api(weft_factory.start(args=["--allow-exec"], env={"EXEC_ALLOW": "/bin/true"}), mock)
    r = api.post("/v1/templates", json={"name": "ex", "version": "1", "steps": [
        {"ref": "x", "executor": "exec", "exec": {"argv": ["/bin/true"]}}]})
    assert r.status_code == 201, r.text
    create(api, name="exh", scheme="github", target={"kind": "template", "template": "ex@1"})
    body = b'{"go": 1}'
    headers = {"X-Hub-Signature-256": github_sign(SECRET, body), "X-GitHub-Delivery": "gh-ex"}
    off = Api(api.server.restart(args=[]), mock)
    for _ in range(2):   # refused each time: the first refusal did not claim the id
        r = off.post("/v1/hooks/exh", data=body, headers=headers)
        assert r.status_code == 400 and "cannot be started" in r.text, r.text
    assert off.get("/v1/hooks/exh").json()["deliveries"] == 0
    on = Api(off.server.restart(args=["--allow-exec"]), mock)
    out = deliver(on, "exh", body, headers, 201)
    assert out["duplicate"] is False and out["run_id"]
    assert on.get("/v1/runs/" + out["run_id"]).json()["name"] == "ex@1"
    assert deliver(on, "exh", body, headers, 200)["run_id"] == out["run_id"]


def test_expired_delivery_ids_go_with_the_retention_pass(make_api):
    """A hook never delivered to again still loses its delivery ids once
    their window passes: the leader's retention pass deletes them."""
    from harness import metric
    api = make_api(RETENTION_CLEANUP_INTERVAL_SECS="1")
    create(api, name="quiet", scheme="github", replay_window_secs=60, target={"kind": "job", "queue": "quiet"})
    body = b'{"q":1}'
    for d in ("q-1", "q-2", "q-3"):
        deliver(api, "quiet", body, {"X-Hub-Signature-256": github_sign(SECRET, body), "X-GitHub-Delivery": d},
                201)
    api.advance(30)
    assert metric(api.metrics(), "retention_hook_deliveries_deleted_total") == 0
    api.advance(31)
    wait_for(lambda: metric(api.metrics(), "retention_hook_deliveries_deleted_total") == 3, timeout=10,
             desc="the expired delivery ids deleted")
