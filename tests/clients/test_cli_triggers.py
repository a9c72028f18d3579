"""`weft hooks`, `weft events` and `weft subscriptions` against a real
server, in --json and tables; a delivery is sent over HTTP, signed as a
sender would."""

import hashlib
import hmac
import time

from cli_util import as_json, fields, ok, rows_by, weft


def test_hooks_create_show_rotate_delete(api):
    base = api.server.base
    h = as_json(base, "hooks", "create", "deploy", "--queue", "deploys", "--secret", "a-secret-of-the-test",
                "--replay-window", "60")
    assert h["name"] == "deploy" and h["secret"] == "a-secret-of-the-test" and h["replay_window_secs"] == 60
    assert h["target"] == {"kind": "job", "queue": "deploys"}
    out = weft(base, "hooks", "create", "gh", "--scheme", "github", "--workflow", "ci", "--queue", "wf")
    assert out.returncode == 0 and "secret: whsec_" in out.stdout and "not shown again" in out.stderr
    header, rows = rows_by(ok(base, "hooks", "ls"), "NAME")
    assert header[:3] == ["NAME", "SCHEME", "TARGET"] and set(rows) == {"deploy", "gh"}
    assert rows["gh"]["SCHEME"] == "github" and rows["gh"]["TARGET"] == "workflow"
    f = fields(ok(base, "hooks", "show", "deploy"))
    assert f["Scheme"] == "weft" and f["Deliveries"] == "0"
    body = b'{"ref":"main"}'
    t = int(time.time())
    sig = hmac.new(b"a-secret-of-the-test", b"%d." % t + body, hashlib.sha256).hexdigest()
    r = api.post("/v1/hooks/deploy", data=body, headers={"X-Weft-Signature": "t=%d,v1=%s" % (t, sig)})
    assert r.status_code == 201, r.text
    assert fields(ok(base, "hooks", "show", "deploy"))["Deliveries"] == "1"
    new = as_json(base, "hooks", "rotate", "deploy")["secret"]
    assert new.startswith("whsec_")
    assert ok(base, "hooks", "delete", "deploy").strip() == "deleted hook deploy"
    r = weft(base, "hooks", "show", "deploy")
    assert r.returncode != 0 and "No hook deploy" in r.stderr


def test_subscriptions_and_events(api):
    base = api.server.base
    s = as_json(base, "subscriptions", "create", "bill", "--topic", "orders.*", "--queue", "billing")
    assert s["match"] == "prefix" and s["target"] == {"kind": "job", "queue": "billing"}
    ok(base, "subscriptions", "create", "audit", "--topic", "orders.paid", "--queue", "audit")
    header, rows = rows_by(ok(base, "subscriptions", "ls"), "NAME")
    assert set(rows) == {"audit", "bill"} and rows["audit"]["MATCH"] == "exact"
    ev = as_json(base, "events", "publish", "orders.paid", "--payload", '{"order": 42}', "--id", "o-42")
    assert ev["id"] == "o-42" and [d["subscription"] for d in ev["deliveries"]] == ["audit", "bill"]
    again = as_json(base, "events", "publish", "orders.paid", "--id", "o-42")
    assert [d["run_id"] for d in again["deliveries"]] == [d["run_id"] for d in ev["deliveries"]]
    view = ok(base, "events", "show", "o-42")
    assert fields(view)["Topic"] == "orders.paid" and "Deliveries: 2" in view and "pending" in view
    as_json(base, "events", "publish", "other.thing")
    assert [e["topic"] for e in as_json(base, "events", "ls", "--topic", "orders.paid")["events"]] == ["orders.paid"]
    header, rows = rows_by(ok(base, "events", "ls"), "ID")
    assert "o-42" in rows and len(rows) == 2
    assert ok(base, "subscriptions", "delete", "bill").strip() == "deleted subscription bill"
    assert [d["subscription"] for d in as_json(base, "events", "publish", "orders.x")["deliveries"]] == []
    r = weft(base, "subscriptions", "create", "x", "--queue", "q")
    assert r.returncode != 0 and "--topic" in r.stderr
