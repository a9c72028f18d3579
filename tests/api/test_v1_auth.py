"""Tokens with namespaces and roles (WEFT_TOKENS, WEFT_TOKENS_FILE,
AUTH_TOKEN): who may read what through /v1 and the ArcRun API, the audit
actor, the tokens file read again on SIGHUP, and a bad tokens
configuration stopping the start-up with a message naming it."""

import hashlib
import os
import signal
import subprocess

from harness import free_port, wait_for, weft_bin

A = "token-of-team-a-0123"          # namespace a
DEF = "token-default-0123456"       # namespaces default,b, client
ADMIN = "admin-token-0123456789"    # every namespace, admin
TOKENS = "a %s a client; d %s default,b client; root sha256:%s * admin" % (
    A, DEF, hashlib.sha256(ADMIN.encode()).hexdigest())


def h(token):
    return {"Authorization": "Bearer " + token}


def code_of(r):
    return r.json()["error"]["code"]


def make(make_api, **env):
    return make_api(WEFT_TOKENS=TOKENS, **env)


def test_tokens_authenticate(make_api):
    api = make(make_api)
    assert api.get("/v1/tasks").status_code == 401
    assert code_of(api.get("/v1/tasks", headers=h("wrong-token-0123456789"))) == "unauthorized"
    # The secret itself, not its hash, is the token.
    digest = hashlib.sha256(ADMIN.encode()).hexdigest()
    assert api.get("/v1/tasks", headers=h("sha256:" + digest)).status_code == 401
    for tok in (A, DEF, ADMIN):
        assert api.get("/v1/tasks", headers=h(tok)).status_code == 200, tok
    assert api.get("/health").status_code == 200
    assert api.get("/v1/openapi.json").status_code == 200


def test_namespaces_of_reads(make_api):
    api = make(make_api)
    r = api.post("/task", json=[api.task("x")], headers=h(DEF))
    assert r.status_code == 201, r.text
    tid = r.json()[0]["id"]

    # Token a cannot see the default namespace: its task is unknown.
    r = api.get("/v1/tasks/" + tid, headers=h(A))
    assert r.status_code == 404 and code_of(r) == "not_found"
    assert api.get("/v1/tasks/%s/events" % tid, headers=h(A)).status_code == 404
    assert api.get("/v1/tasks", headers=h(A)).json()["tasks"] == []
    r = api.get("/v1/tasks", params={"namespace": "default"}, headers=h(A))
    assert r.status_code == 403 and code_of(r) == "forbidden_namespace"
    assert "default" in r.json()["error"]["message"]

    for tok in (DEF, ADMIN):
        assert api.get("/v1/tasks/" + tid, headers=h(tok)).status_code == 200
        assert [t["id"] for t in api.get("/v1/tasks", headers=h(tok)).json()["tasks"]] == [tid]


def test_arcrun_serves_scoped_tokens_the_default_namespace(make_api):
    api = make(make_api)
    # A token without the default namespace may not use ArcRun's routes.
    r = api.get("/task", headers=h(A))
    assert r.status_code == 403
    assert r.json() == {"error": "Forbidden: this token may not use these routes", "status": 403}
    assert api.post("/task", json=[api.task("x")], headers=h(A)).status_code == 403
    assert api.get("/task", headers=h(A)).status_code == 403
    assert api.get("/task", headers=h(DEF)).status_code == 200
    assert api.get("/task", headers=h(ADMIN)).status_code == 200


def test_auth_token_is_an_admin_beside_tokens(make_api):
    api = make(make_api, AUTH_TOKEN="plain-old-token")
    r = api.post("/task", json=[api.task("x")], headers=h("plain-old-token"))
    assert r.status_code == 201
    tid = r.json()[0]["id"]
    assert api.get("/v1/tasks/" + tid, headers=h("plain-old-token")).status_code == 200
    assert api.get("/v1/tasks/" + tid, headers=h(A)).status_code == 404


def test_tokens_file_read_again_on_sighup(weft_factory, mock, tmp_path):
    path = tmp_path / "tokens"
    path.write_text("# first\nfirst first-secret-0123456 * admin\n")
    srv = weft_factory.start(env={"WEFT_TOKENS_FILE": str(path)})
    assert srv.get("/v1/tasks", headers=h("first-secret-0123456")).status_code == 200
    assert srv.get("/v1/tasks", headers=h("second-secret-0123456")).status_code == 401

    path.write_text("second second-secret-0123456 * admin\n")
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: srv.get("/v1/tasks", headers=h("second-secret-0123456")).status_code == 200,
             desc="the new token to be accepted")
    assert srv.get("/v1/tasks", headers=h("first-secret-0123456")).status_code == 401

    # A broken file keeps the tokens in use, and says why in the log.
    path.write_text("broken line\n")
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "tokens not reloaded" in srv.log_text(), desc="the reload error in the log")
    assert "line 1: expected 4 fields" in srv.log_text()
    assert srv.get("/v1/tasks", headers=h("second-secret-0123456")).status_code == 200
    assert srv.alive()


def test_bad_tokens_stop_the_start_up(tmp_path):
    for env, says in (({"WEFT_TOKENS": "a short * admin"}, "WEFT_TOKENS, entry 1: a plain secret needs at least 16"),
                      ({"WEFT_TOKENS_FILE": str(tmp_path / "missing")}, "WEFT_TOKENS_FILE %s" % (tmp_path / "missing")),
                      ({"WEFT_TOKENS": "a aaaaaaaaaaaaaaaa NS client"}, "namespaces are")):
        full = dict(os.environ, **env)
        for k in ("AUTH_TOKEN",):
            full.pop(k, None)
        p = subprocess.run([weft_bin(), "serve", "--port", str(free_port()), "--db", str(tmp_path / "w.db")],
                           env=full, capture_output=True, text=True, timeout=20)
        assert p.returncode != 0
        assert says in p.stderr + p.stdout, (env, p.stderr[-2000:])
