"""The Python SDK (sdk/python), as installed by `pip install --no-index
--no-build-isolation` into build/sdk/python-venv (mk/sdk-python.mk),
against a real server: the client's calls and errors, the worker
runtime's behaviours (retries, non-retryable failures, cancels seen by the
handler, heartbeats, drains by signal and by the server, an unreachable
server), and the crash test with examples/worker.py."""

import glob
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

import drain_check
from harness import closed_port_url, free_port, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, "build", "sdk", "python-venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
EXAMPLE_WORKER = os.path.join(ROOT, "sdk", "python", "examples", "worker.py")


def _installed_weft():
    """The weft package from the venv's site-packages, never the source
    tree."""
    sites = glob.glob(os.path.join(VENV, "lib", "python3*", "site-packages"))
    if not sites or not os.path.exists(VENV_PYTHON):
        pytest.fail("the Python SDK is not installed: make build/sdk/python-venv/.weft-installed", pytrace=False)
    sys.path.insert(0, sites[0])
    import weft as module
    assert os.path.realpath(module.__file__).startswith(os.path.realpath(sites[0]) + os.sep), module.__file__
    return module


weft = _installed_weft()

MISSING = "00000000-0000-4000-8000-000000000000"


def served_operations(client):
    return {op["operationId"] for path in client.openapi()["paths"].values()
            for op in path.values() if isinstance(op, dict) and "operationId" in op}


@contextmanager
def running(worker, stop_timeout=15):
    """Runs worker.run() in a thread; on leaving, stops it and checks that
    it returned."""
    errors = []

    def main():
        try:
            worker.run()
        except BaseException as e:  # reported by the test
            errors.append(e)

    t = threading.Thread(target=main, daemon=True)
    t.start()
    try:
        yield t
    finally:
        worker.stop()
        t.join(stop_timeout)
        assert not t.is_alive(), "the worker did not stop within %d s of stop()" % stop_timeout
    assert not errors, errors


def wait_status(client, task_id, status, timeout=10):
    return wait_for(lambda: (lambda t: t if t["status"] == status else None)(client.get_task(task_id)),
                    timeout=timeout, interval=0.05, desc="task %s to be %s" % (task_id, status))


# ---- the package --------------------------------------------------------


def test_the_installed_package_is_tested():
    out = subprocess.run([VENV_PYTHON, "-c", "import weft; print(weft.__file__)"], capture_output=True, text=True,
                         cwd="/", check=True).stdout.strip()
    assert out.startswith(VENV + os.sep), out
    assert os.path.exists(os.path.join(os.path.dirname(weft.__file__), "py.typed"))


def test_the_package_type_checks(tmp_path):
    """py.typed promises type hints that hold: mypy --strict on the
    installed copy and the examples (when mypy is installed)."""
    mypy = "/usr/bin/mypy"
    if not os.path.exists(mypy):
        pytest.skip("mypy is not installed (Debian package mypy)")
    out = subprocess.run([mypy, "--strict", "--no-error-summary", "--cache-dir", str(tmp_path),
                          os.path.dirname(weft.__file__), os.path.join(ROOT, "sdk", "python", "examples")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_client_defaults_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEFT_URL", "http://example.invalid:9/")
    monkeypatch.setenv("WEFT_TOKEN", "tok")
    monkeypatch.setenv("WEFT_NAMESPACE", "billing")
    c = weft.Client()
    assert (c.url, c.token, c.namespace) == ("http://example.invalid:9", "tok", "billing")
    c = weft.Client("http://127.0.0.1:1", token="other", namespace="ops")
    assert (c.url, c.token, c.namespace) == ("http://127.0.0.1:1", "other", "ops")


# ---- client calls -------------------------------------------------------


def test_enqueue_get_list_and_queues(server):
    c = weft.Client(server.base)
    one = c.enqueue("sdk-q", {"n": 1}, priority=5, metadata={"m": 1}, max_attempts=3)
    assert one["queue"] == "sdk-q" and one["status"] == "pending" and one["duplicate"] is False
    more = c.enqueue_many([{"queue": "sdk-q", "input": {"n": i}} for i in (2, 3, 4)])["jobs"]
    first = c.enqueue("sdk-q", {"n": 5}, dedup={"key": "k5"})
    again = c.enqueue("sdk-q", {"n": 5}, dedup={"key": "k5"})
    assert again["duplicate"] is True and again["id"] == first["id"]

    t = c.get_task(one["id"])
    assert t["input"] == {"n": 1} and t["priority"] == 5 and t["metadata"] == {"m": 1} and t["max_attempts"] == 3

    page = c.list_tasks(queue="sdk-q", limit=2)
    assert len(page["tasks"]) == 2 and page["next_cursor"]
    ids = {t["id"] for t in c.iter_tasks(queue="sdk-q", limit=2)}
    assert ids == {one["id"], first["id"]} | {j["id"] for j in more}
    assert len(list(c.iter_tasks(queue="sdk-q", status=["pending", "running"]))) == 5
    assert list(c.iter_tasks(queue="sdk-q", status="success")) == []
    assert [e["to"] for e in c.iter_task_events(one["id"])] == ["pending"]

    q = c.get_queue("sdk-q")
    assert q["depth"]["ready"] == 5
    assert c.pause_queue("sdk-q")["paused"] is True
    assert c.resume_queue("sdk-q")["paused"] is False
    assert c.configure_queue("sdk-q", concurrency_limit=3)["concurrency_limit"] == 3
    assert c.configure_queue("sdk-q", concurrency_limit=None)["concurrency_limit"] is None
    assert "sdk-q" in {q["name"] for q in c.iter_queues()}


def test_claim_heartbeat_complete_fail_release_by_hand(server):
    c = weft.Client(server.base)
    c.enqueue_many([{"queue": "manual", "input": {"n": i}, "max_attempts": 2} for i in range(3)])
    got = c.claim(["manual"], "w-manual", hostname="box-1", max_jobs=3, wait_ms=0, lease_ms=5000)
    assert got["drain"] is False and len(got["jobs"]) == 3
    j0, j1, j2 = got["jobs"]
    hb = c.heartbeat("w-manual", [{"id": j["id"], "lease_token": j["lease_token"], "progress": {"p": 1}}
                                  for j in got["jobs"]], lease_ms=5000)
    assert [s["state"] for s in hb["leases"]] == ["held"] * 3

    assert c.complete_job(j0["id"], j0["lease_token"], {"ok": 1})["outcome"] == "completed"
    assert c.get_task(j0["id"])["result"] == {"ok": 1}
    assert c.fail_job(j1["id"], j1["lease_token"], {"code": "boom", "retryable": False})["outcome"] == "dead_lettered"
    assert c.release([{"id": j2["id"], "lease_token": j2["lease_token"]}])["results"][0]["outcome"] == "released"
    with pytest.raises(weft.ConflictError) as e:
        c.complete_job(j2["id"], j2["lease_token"], None)
    assert e.value.status == 409 and e.value.code == "stale_lease"

    (again,) = c.claim(["manual"], "w-manual", max_jobs=5)["jobs"]
    assert again["id"] == j2["id"]          # a release does not spend an attempt
    assert c.fail([{"id": again["id"], "lease_token": again["lease_token"],
                    "error": {"code": "later", "message": "m"}, "retry_after_ms": 0}])["results"][0]["outcome"] in (
        "retrying", "dead_lettered")

    w = c.get_worker("w-manual")
    assert w["hostname"] == "box-1" and w["queues"] == ["manual"]
    assert "w-manual" in {w["id"] for w in c.iter_workers()}

    assert j1["id"] in {d["id"] for d in c.iter_dead_letters(queue="manual")}
    assert c.get_dead_letter(j1["id"])["status"] == "failure"
    assert c.requeue_dead_letters([j1["id"]], reason="try again")["requeued"] == [j1["id"]]
    (back,) = c.claim(["manual"], "w-manual")["jobs"]
    assert c.complete([{"id": back["id"], "lease_token": back["lease_token"], "result": 7}])["results"][0][
        "outcome"] == "completed"


def test_audit_log_and_whoami(weft_factory):
    srv = weft_factory.start(env={"AUTH_TOKEN": "py-admin-token-0123456789"})
    c = weft.Client(srv.base, token="py-admin-token-0123456789")
    c.pause_queue("audited")
    c.resume_queue("audited")
    page = c.list_audit(action="queue.pause", limit=1)
    assert [(e["actor"], e["object_kind"], e["object_id"]) for e in page["entries"]] == \
        [("auth_token", "queue", "audited")]
    assert page["next_cursor"] is None
    every = list(c.iter_audit(object_kind="queue", object_id="audited", limit=1))
    assert [e["action"] for e in every] == ["queue.resume", "queue.pause"]

    assert c.whoami() == {"token": "auth_token", "admin": True, "namespaces": ["*"], "default_namespace": "default"}


def test_runs(server):
    c = weft.Client(server.base)
    run = c.create_run([{"ref": "a", "queue": "rq", "input": {"n": 1}},
                        {"ref": "b", "queue": "rq", "parents": [{"ref": "a"}]}],
                       name="sdk-run", metadata={"k": "v"}, idempotency_key="sdk-run-1")
    assert run["name"] == "sdk-run" and [t["ref"] for t in run["tasks"]] == ["a", "b"]
    same = c.create_run([{"ref": "a", "queue": "rq", "input": {"n": 1}},
                         {"ref": "b", "queue": "rq", "parents": [{"ref": "a"}]}],
                        name="sdk-run", metadata={"k": "v"}, idempotency_key="sdk-run-1")
    assert same["id"] == run["id"]
    got = c.get_run(run["id"])
    assert got["id"] == run["id"] and got["status"] == "active" and len(got["tasks"]) == 2
    summary = c.get_run(run["id"], tasks=False)
    assert summary["counts"]["total"] == 2 and "tasks" not in summary
    assert {t["id"] for t in c.iter_run_tasks(run["id"], limit=1)} == {t["id"] for t in run["tasks"]}
    assert c.list_run_tasks(run["id"])["tasks"]
    assert run["id"] in {r["id"] for r in c.iter_runs(status="active")}
    canceled = c.cancel_run(run["id"])
    assert canceled["canceled"] == 2 and canceled["already_ended"] == 0
    assert c.get_run(run["id"])["status"] == "canceled"


def test_workflow_steps_by_hand(server):
    c = weft.Client(server.base)
    run = c.start_workflow("order", "wfq", {"n": 1}, idempotency_key="order-1", max_attempts=2)
    assert run["type"] == "order" and run["queue"] == "wfq" and run["status"] == "pending"
    assert c.start_workflow("order", "wfq", {"n": 1}, idempotency_key="order-1")["id"] == run["id"]

    (job,) = c.claim(["wfq"], "w-wf", wait_ms=0)["jobs"]
    assert job["id"] == run["id"] and job["name"] == "order"
    token = job["lease_token"]
    begun = c.workflow_step_begin(run["id"], token, "charge")
    assert begun["memoized"] is False and begun["step"]["seq"] == 1
    done = c.workflow_step_complete(run["id"], token, "charge", begun["step"]["seq"], {"charged": 5})
    assert done["step"]["status"] == "completed"
    again = c.workflow_step_complete(run["id"], token, "charge", begun["step"]["seq"], {"charged": 5})
    assert again["memoized"] is True      # a repeated report changes nothing
    assert c.workflow_complete(run["id"], token, {"total": 5})["run_status"] == "completed"

    got = c.get_workflow(run["id"])
    assert got["status"] == "completed" and got["output"] == {"total": 5} and got["input"] == {"n": 1}
    assert c.get_workflow_by_key("order-1")["id"] == run["id"]
    assert run["id"] in {w["id"] for w in c.iter_workflows(type="order", status="completed", limit=1)}
    memo = c.list_workflow_steps(run["id"])
    assert [(m["kind"], m["name"], m["status"], m["output"]) for m in memo["steps"]] == [
        ("step", "charge", "completed", {"charged": 5})] and memo["next_cursor"] is None
    assert [m["name"] for m in c.iter_workflow_steps(run["id"], limit=1)] == ["charge"]
    with pytest.raises(weft.ConflictError) as e:
        c.cancel_workflow(run["id"], "too late")
    assert e.value.status == 409 and e.value.current_status == "completed"
    with pytest.raises(weft.NotFoundError):
        c.get_workflow(MISSING)


def test_workflow_signal_wakes_a_waiting_run(server):
    c = weft.Client(server.base)
    run = c.start_workflow("approve", "wfs", None)
    (job,) = c.claim(["wfs"], "w-wf", wait_ms=0)["jobs"]
    waiting = c.workflow_wait_signal(run["id"], job["lease_token"], "ok", timeout_ms=60000)
    assert waiting["suspended"] is True and c.get_workflow(run["id"])["status"] == "suspended"
    c.signal_workflow(run["id"], "ok", {"by": "ann"}, idempotency_key="sig-1")
    (replay,) = c.claim(["wfs"], "w-wf", wait_ms=2000)["jobs"]
    got = c.workflow_wait_signal(run["id"], replay["lease_token"], "ok", timeout_ms=60000)
    assert got["suspended"] is False and got["step"]["output"] == {"by": "ann"}


def test_operator_actions(server):
    c = weft.Client(server.base)
    job = c.enqueue("ops", {"n": 1})
    assert c.cancel_task(job["id"], reason="not now")["status"] == "canceled"
    with pytest.raises(weft.ConflictError) as e:
        c.cancel_task(job["id"])
    assert e.value.status == 409 and e.value.current_status == "canceled"
    assert "canceled" in str(e.value)
    assert c.retry_task(job["id"], reason="again")["status"] == "pending"
    resolved = c.resolve_task(job["id"], reason="by hand", result={"by": "hand"})
    assert resolved["status"] == "success" and resolved["result"] == {"by": "hand"}
    other = c.enqueue("ops", {"n": 2})
    c.cancel_task(other["id"])
    assert c.reset_task(other["id"])["status"] == "pending"


def test_schedules(server):
    c = weft.Client(server.base)
    made = c.create_schedule("nightly", "0 3 * * *", {"kind": "job", "queue": "sched-q", "input": {"n": 1}},
                             timezone="Europe/Paris", catchup="one")
    assert made["name"] == "nightly" and made["paused"] is False and made["catchup"] == "one"
    got = c.get_schedule("nightly", next=3)
    assert got["cron"] == "0 3 * * *" and len(got["next"]) == 3
    assert [s["name"] for s in c.iter_schedules(limit=1)] == ["nightly"]
    assert c.pause_schedule("nightly")["paused"] is True
    fired = c.trigger_schedule("nightly")
    assert fired["last_job_id"]
    job = c.get_task(fired["last_job_id"])
    assert job["queue"] == "sched-q"
    assert c.resume_schedule("nightly")["paused"] is False
    assert c.delete_schedule("nightly") is None
    with pytest.raises(weft.NotFoundError):
        c.get_schedule("nightly")


def test_hooks_events_and_subscriptions(server):
    c = weft.Client(server.base)
    made = c.create_hook("deploy", {"kind": "job", "queue": "hook-q"}, replay_window_secs=60)
    secret = made["secret"]
    assert secret.startswith("whsec_") and "secret" not in c.get_hook("deploy")
    first = c.deliver_hook("deploy", b'{"ref": "main"}', secret, delivery_id="d-1")
    assert first["duplicate"] is False and c.get_task(first["run_id"])["input"] == {"ref": "main"}
    again = c.deliver_hook("deploy", b'{"ref": "main"}', secret, delivery_id="d-1")
    assert again["duplicate"] is True and again["run_id"] == first["run_id"]
    with pytest.raises(weft.WeftError) as bad:
        c.deliver_hook("deploy", b"{}", "not-the-secret-0123456789")
    assert bad.value.status == 401
    rotated = c.rotate_hook_secret("deploy")["secret"]
    assert rotated != secret
    c.create_hook("gh", {"kind": "job", "queue": "hook-q"}, scheme="github", secret="gh-secret-0123456789")
    assert c.deliver_hook("gh", b"text", "gh-secret-0123456789", scheme="github")["run_id"]
    assert [h["name"] for h in c.iter_hooks(limit=1)] == ["deploy", "gh"]
    assert c.delete_hook("gh") is None

    c.create_subscription("bill", "orders.*", {"kind": "job", "queue": "bill-q"})
    assert c.get_subscription("bill")["match"] == "prefix"
    ev = c.publish_event("orders.paid", {"order": 1}, id="o-1")
    (d,) = ev["deliveries"]
    assert c.get_task(d["run_id"])["input"] == {"order": 1}
    assert c.publish_event("orders.paid", id="o-1")["deliveries"][0]["run_id"] == d["run_id"]
    assert c.get_event("o-1")["topic"] == "orders.paid"
    assert [e["id"] for e in c.iter_events(topic="orders.paid")] == ["o-1"]
    assert [x["name"] for x in c.iter_subscriptions()] == ["bill"]
    assert c.delete_subscription("bill") is None
    with pytest.raises(weft.NotFoundError):
        c.get_subscription("bill")


def test_templates(server):
    c = weft.Client(server.base)
    steps = [{"ref": "a", "queue": "py-tpl", "input": {"k": 1}}, {"ref": "b", "queue": "py-tpl-b",
                                                                   "parents": [{"ref": "a"}]}]
    made = c.create_template("py-flow", "1.0", steps, description="two steps")
    assert made["name"] == "py-flow" and made["steps"] == 2
    assert c.create_template("py-flow", "1.0", steps, description="two steps")["id"] == made["id"]
    with pytest.raises(weft.ConflictError):
        c.create_template("py-flow", "1.0", steps[:1])
    assert c.get_template("py-flow", "1.0")["body"]["steps"] == steps
    assert [t["version"] for t in c.iter_templates(name="py-flow", limit=1)] == ["1.0"]
    run = c.run_template("py-flow", "1.0", context={"order": 9})
    assert run["created"] is True and [t["ref"] for t in run["tasks"]] == ["a", "b"]
    assert c.run_template("py-flow", "1.0", context={"order": 9})["id"] == run["id"]
    assert c.run_template("py-flow", "1.0", context={"order": 9}, identity="none")["id"] != run["id"]
    keyed = c.run_template("py-flow", "1.0", idempotency_key="k1")
    assert c.run_template("py-flow", "1.0", context=[1], idempotency_key="k1")["id"] == keyed["id"]
    assert c.get_run(run["id"])["context"] == {"order": 9}


def test_pause_and_resume_tasks_and_runs(server):
    c = weft.Client(server.base)
    if not {"pauseTask", "resumeTask", "pauseRun", "resumeRun"} <= served_operations(c):
        pytest.skip("this server does not serve /v1 pause and resume yet")
    job = c.enqueue("pz", {"n": 1})
    assert c.pause_task(job["id"], reason="hold")["status"] == "paused"
    assert c.resume_task(job["id"])["status"] == "pending"
    c.cancel_task(job["id"])
    with pytest.raises(weft.ConflictError) as e:
        c.pause_task(job["id"])
    assert e.value.current_status == "canceled"
    run = c.create_run([{"ref": "a", "queue": "pz"}, {"ref": "b", "queue": "pz", "parents": [{"ref": "a"}]}])
    paused = c.pause_run(run["id"])
    assert paused["id"] == run["id"] and paused["paused"] >= 1 and paused["paused"] + paused["unchanged"] == 2
    assert c.get_task(run["tasks"][0]["id"])["status"] == "paused"
    resumed = c.resume_run(run["id"])
    assert resumed["id"] == run["id"] and resumed["resumed"] == paused["paused"]
    assert c.get_task(run["tasks"][0]["id"])["status"] == "pending"


def test_tokens(weft_factory):
    srv = weft_factory.start(env={"AUTH_TOKEN": "sdk-admin-token-0123456789"})
    admin = weft.Client(srv.base, token="sdk-admin-token-0123456789")
    if "createToken" not in served_operations(admin):
        pytest.skip("this server does not serve /v1/tokens yet")
    made = admin.create_token("ci", ["default"], "client")
    assert made["name"] == "ci" and made["role"] == "client" and made["secret"].startswith("wft_")
    ci = weft.Client(srv.base, token=made["secret"])
    ci.enqueue("tok", {"n": 1})
    with pytest.raises(weft.ForbiddenError) as e:
        ci.list_tokens()
    assert "WEFT_TOKEN" in str(e.value)
    assert "ci" in {t["name"] for t in admin.list_tokens()["tokens"]}
    assert admin.get_token("ci")["revoked_at"] is None
    with pytest.raises(weft.ConflictError):
        admin.create_token("ci", ["*"], "admin")
    assert admin.revoke_token("ci")["revoked_at"]
    with pytest.raises((weft.UnauthorizedError, weft.ForbiddenError)):
        ci.enqueue("tok", {"n": 2})
    with pytest.raises(weft.NotFoundError):
        admin.get_token("nobody")

    open_server = weft.Client(weft_factory.start().base)
    with pytest.raises(weft.ConflictError) as e:
        open_server.create_token("ci", ["*"], "admin")
    assert e.value.code == "auth_disabled" and "AUTH_TOKEN" in e.value.message


# ---- errors -------------------------------------------------------------


def test_errors_not_found_and_bad_request(server):
    c = weft.Client(server.base)
    with pytest.raises(weft.NotFoundError) as e:
        c.get_task(MISSING)
    assert e.value.status == 404 and e.value.code == "not_found" and MISSING in e.value.message
    with pytest.raises(weft.BadRequestError) as e:
        c.enqueue("q", {"n": 1}, priority=5000)
    assert e.value.status == 400 and e.value.code == "invalid_request"
    assert any("priority" in d for d in e.value.details), e.value.details
    assert isinstance(e.value, weft.WeftError)


def test_an_answer_past_the_bound_is_refused(server, monkeypatch):
    """The client holds no answer larger than MAX_ANSWER_BYTES (lowered
    here to a size a real answer passes), and a refused answer leaves the
    client usable."""
    c = weft.Client(server.base)
    [job] = c.enqueue_many([{"queue": "big", "input": "x" * 5000}])["jobs"]
    monkeypatch.setattr(weft._transport, "MAX_ANSWER_BYTES", 4000)
    with pytest.raises(weft.WeftError) as e:
        c.get_task(job["id"])
    assert e.value.code == "answer_too_large" and "4000 bytes" in e.value.message
    monkeypatch.setattr(weft._transport, "MAX_ANSWER_BYTES", 1 << 20)
    assert c.get_task(job["id"])["input"] == "x" * 5000


def test_error_unreachable_names_the_url():
    url = closed_port_url("")
    c = weft.Client(url, timeout=5)
    with pytest.raises(weft.WeftConnectionError) as e:
        c.get_task(MISSING)
    assert url in str(e.value) and "refused" in str(e.value) and e.value.url == url
    assert isinstance(e.value, weft.WeftError)


def test_error_401_says_to_set_the_token(weft_factory):
    srv = weft_factory.start(env={"AUTH_TOKEN": "sdk-secret-token-0123"})
    with pytest.raises(weft.UnauthorizedError) as e:
        weft.Client(srv.base, token="").list_tasks()
    assert e.value.status == 401 and "WEFT_TOKEN" in str(e.value)
    with pytest.raises(weft.UnauthorizedError):
        weft.Client(srv.base, token="wrong-token-wrong-token").list_tasks()
    assert weft.Client(srv.base, token="sdk-secret-token-0123").list_tasks()["tasks"] == []
    worker = weft.Worker(weft.Client(srv.base, token="wrong-token-wrong-token"), ["q"], lambda j: None)
    with pytest.raises(weft.UnauthorizedError):
        worker.run()                    # a worker that cannot pass stops and says why


def test_connections_are_kept_alive_and_reopened(weft_factory):
    srv = weft_factory.start()
    c = weft.Client(srv.base)
    c.list_tasks()
    conn = c._http._local.conn
    c.list_tasks()
    assert c._http._local.conn is conn and conn.sock is not None      # the same connection, reused
    srv = srv.restart(same_port=True)   # the server closed it
    assert c.enqueue("after-restart", {"n": 1})["status"] == "pending"   # found closed: a new one, sent once
    assert len(c.list_tasks()["tasks"]) == 1


# ---- the worker runtime ---------------------------------------------------


def test_worker_retries_a_failed_attempt(server):
    c = weft.Client(server.base)
    job = c.enqueue("retry", {"n": 4}, max_attempts=3, backoff={"initial_ms": 1, "max_ms": 1, "jitter": 0})

    def handler(j):
        if j.attempt == 1:
            raise RuntimeError("flaky once")
        return {"attempt": j.attempt}

    with running(weft.Worker(c, ["retry"], handler, wait_ms=1000)):
        t = wait_status(c, job["id"], "success")
    assert t["result"] == {"attempt": 2} and t["attempt"] == 2
    (failed,) = t["attempts"]
    assert failed["outcome"] == "failed" and failed["retryable"] is True
    assert failed["error"]["code"] == "runtime_error" and "flaky once" in failed["error"]["message"]


def test_worker_non_retryable_failure_dead_letters(server):
    c = weft.Client(server.base)
    job = c.enqueue("nr", {"n": "x"}, max_attempts=5)

    def handler(j):
        raise weft.NonRetryable("n must be a number", code="bad_input", details={"n": j.input["n"]})

    with running(weft.Worker(c, ["nr"], handler, wait_ms=1000)):
        t = wait_status(c, job["id"], "failure")
    assert t["attempt"] == 1 and t["dead_letter"]
    assert t["error"]["code"] == "bad_input" and t["error"]["message"] == "n must be a number"
    (attempt,) = t["attempts"]
    assert attempt["retryable"] is False and attempt["error"]["details"] == {"n": "x"}


def test_worker_handler_sees_a_cancel(server):
    c = weft.Client(server.base)
    job = c.enqueue("cx", {"n": 1})
    started, saw_cancel = threading.Event(), threading.Event()

    def handler(j):
        started.set()
        if j.canceled.wait(10):
            saw_cancel.set()
            return "ignored"
        return "not canceled"

    with running(weft.Worker(c, ["cx"], handler, lease_ms=1000, wait_ms=1000)):
        assert started.wait(10)
        c.cancel_task(job["id"], reason="stop it")
        assert saw_cancel.wait(5), "the handler never saw the cancel"
    t = c.get_task(job["id"])
    assert t["status"] == "canceled" and t["result"] is None


def test_worker_heartbeats_keep_a_long_job(server):
    c = weft.Client(server.base)
    job = c.enqueue("long", {"n": 1})

    def handler(j):
        j.set_progress({"step": 1})
        time.sleep(2.5)     # 2.5 leases of 1 s
        return "done"

    with running(weft.Worker(c, ["long"], handler, lease_ms=1000, wait_ms=1000)):
        t = wait_status(c, job["id"], "success", timeout=15)
    assert t["attempt"] == 1 and t["attempts"] == [] and t["result"] == "done"


def test_worker_heartbeats_once_per_period_for_all_its_leases(server):
    c = weft.Client(server.base)
    beats = []

    class Counting(weft.Client):
        def heartbeat(self, worker_id, leases, lease_ms=None):
            beats.append(sorted(l["id"] for l in leases))
            return super().heartbeat(worker_id, leases, lease_ms=lease_ms)

    slow = [j["id"] for j in c.enqueue_many([{"queue": "beat", "input": {"sleep_ms": 2600}, "priority": 9}
                                             for _ in range(2)])["jobs"]]
    quick = [j["id"] for j in c.enqueue_many([{"queue": "beat", "input": {"sleep_ms": 5}}
                                              for _ in range(150)])["jobs"]]

    def handler(j):
        time.sleep(j.input["sleep_ms"] / 1000.0)
        return "ok"

    # lease 3 s: a beat every second, whatever the claims of the quick jobs do meanwhile
    with running(weft.Worker(Counting(server.base), ["beat"], handler, concurrency=4, lease_ms=3000, wait_ms=1000)):
        for task_id in slow + quick[-1:]:
            wait_status(c, task_id, "success", timeout=15)
    assert 1 <= len(beats) <= 3, beats
    assert all(set(slow) <= set(b) for b in beats[:2]), beats   # one call carries every lease held


def test_worker_batches_reports_and_sends_a_lone_one_at_once(server):
    c = weft.Client(server.base)
    calls = []

    class Counting(weft.Client):
        def complete(self, items):
            calls.append((time.monotonic(), len(items)))
            return super().complete(items)

    together = threading.Barrier(4)
    returned = {}

    def handler(j):
        if j.input["n"] < 4:
            together.wait(10)            # four finish at once
        returned[j.input["n"]] = time.monotonic()
        return j.input["n"]

    ids = [j["id"] for j in c.enqueue_many([{"queue": "rep", "input": {"n": i}} for i in range(4)])["jobs"]]
    with running(weft.Worker(Counting(server.base), ["rep"], handler, concurrency=4, wait_ms=1000)):
        for task_id in ids:
            wait_status(c, task_id, "success")
        assert sum(n for _, n in calls) == 4 and len(calls) <= 3, calls   # some share a request
        lone = c.enqueue("rep", {"n": 9})
        wait_status(c, lone["id"], "success")
    sent_at, n = calls[-1]
    assert n == 1 and sent_at - returned[9] < 0.25, "a lone result waited %.3f s" % (sent_at - returned[9])


def test_worker_honours_a_drain_from_the_server(server):
    c = weft.Client(server.base)
    job = c.enqueue("dr", {"n": 1})
    started, go = threading.Event(), threading.Event()

    def handler(j):
        started.set()
        go.wait(10)
        return "finished"

    # a free slot: a claim waits on the server (20 s) meanwhile, which the drain cuts short
    w = weft.Worker(c, ["dr"], handler, concurrency=2, lease_ms=1000, wait_ms=20000)
    with running(w) as thread:
        assert started.wait(10)
        c.drain_worker(w.worker_id)
        time.sleep(0.8)                  # heartbeats answer drain meanwhile
        assert thread.is_alive(), "the worker left a job unfinished"
        go.set()
        thread.join(3)
        assert not thread.is_alive(), "the worker did not exit after a drain"
    assert c.get_task(job["id"])["status"] == "success"


def test_worker_waits_for_an_unreachable_server(weft_factory):
    port = free_port()
    calls = []

    class Counting(weft.Client):
        def claim(self, *a, **kw):
            calls.append(time.monotonic())
            return super().claim(*a, **kw)

    c = Counting("http://127.0.0.1:%d" % port)
    with running(weft.Worker(c, ["later"], lambda j: j.input, wait_ms=1000)):
        time.sleep(1.5)
        assert 2 <= len(calls) <= 8, "claims while unreachable: %d in 1.5 s" % len(calls)
        weft_factory.start(port=port)    # now it answers, on the URL the worker has
        job = c.enqueue("later", {"n": 1})
        t = wait_status(c, job["id"], "success", timeout=15)
    assert t["result"] == {"n": 1}


def test_worker_without_a_claim_wait_does_not_spin(server):
    calls = []

    class Counting(weft.Client):
        def claim(self, *a, **kw):
            calls.append(kw.get("wait_ms"))
            return super().claim(*a, **kw)

    c = Counting(server.base)
    with running(weft.Worker(c, ["empty"], lambda j: j.input, wait_ms=0)):
        time.sleep(1.2)
        assert 1 <= len(calls) <= 4, "%d claims in 1.2 s on an empty queue" % len(calls)
        job = c.enqueue("empty", {"n": 1})
        assert wait_status(c, job["id"], "success", timeout=5)["result"] == {"n": 1}


def _start_example(server, queue, tmp_path, *args):
    env = dict(os.environ, WEFT_URL=server.base)
    env.pop("WEFT_TOKEN", None)
    log = open(os.path.join(str(tmp_path), "worker-%s-%d.log" % (queue, time.monotonic_ns())), "wb")
    return subprocess.Popen([VENV_PYTHON, EXAMPLE_WORKER, queue] + list(args), env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log.name


def test_sigterm_drains_the_jobs_in_hand(server, tmp_path):
    c = weft.Client(server.base)
    ids = [j["id"] for j in c.enqueue_many([{"queue": "term", "input": {"n": i, "sleep_ms": 1500}}
                                            for i in range(3)])["jobs"]]
    proc, log = _start_example(server, "term", tmp_path, "--concurrency", "3")
    try:
        # Running on the server is not yet in hand: a claim's answer still on
        # its way when the drain begins is given back. The handlers' lines say
        # the worker holds all three.
        wait_for(lambda: open(log).read().count(", sleeping 1500 ms") == 3, timeout=10,
                 desc="3 jobs in the worker's handlers")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, open(log).read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for i, task_id in enumerate(ids):
        t = c.get_task(task_id)
        assert t["status"] == "success" and t["attempt"] == 1 and t["result"] == {"n": i, "double": 2 * i}, t
    text = open(log).read()
    assert "draining" in text and "drained: 3 completed" in text, text


def test_sigterm_on_an_idle_worker_ends_its_waiting_claim(server, tmp_path):
    proc, log = _start_example(server, "idle", tmp_path)
    try:
        wait_for(lambda: "worker " in open(log).read(), timeout=10, desc="the worker to start")
        time.sleep(1)                   # its claim is parked on the server (20 s wait)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, open(log).read()
        assert time.monotonic() - t0 < 3, "the drain waited for the claim's long poll"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_second_signal_exits_at_once_and_gives_the_leases_back(server, tmp_path):
    c = weft.Client(server.base)
    ids = [j["id"] for j in c.enqueue_many([{"queue": "twice", "input": {"n": i, "sleep_ms": 20000}}
                                            for i in range(2)])["jobs"]]
    proc, log = _start_example(server, "twice", tmp_path, "--concurrency", "2")
    try:
        wait_for(lambda: len(list(c.iter_tasks(queue="twice", status="running"))) == 2, timeout=10,
                 desc="2 running jobs")
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 128 + signal.SIGTERM, open(log).read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for task_id in ids:
        t = c.get_task(task_id)
        assert t["status"] != "running" and t["attempts"][-1]["outcome"] == "released", t


def test_the_enqueue_example_gets_the_worker_example_s_results(server, tmp_path):
    proc, log = _start_example(server, "ex", tmp_path)
    try:
        out = subprocess.run([VENV_PYTHON, os.path.join(ROOT, "sdk", "python", "examples", "enqueue.py"), "ex", "3"],
                             env=dict(os.environ, WEFT_URL=server.base), capture_output=True, text=True, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, open(log).read()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "enqueued 3 job(s) on ex" and len(lines) == 4, out.stdout
    assert all(" success {'n': " in line for line in lines[1:]), out.stdout


def test_crash_and_drain_1000_jobs(server, tmp_path):
    """The acceptance test: examples/worker.py killed part-way through a
    queue of 1,000 jobs, then another drains it: every job completes once."""
    logs = []

    def start_worker():
        proc, log = _start_example(server, "crash", tmp_path, "--concurrency", "8",
                                   "--lease-ms", str(drain_check.LEASE_MS))
        logs.append(log)
        return proc

    try:
        got = drain_check.drain_with_a_kill(server.base, "crash", start_worker)
    except AssertionError:
        for log in logs:
            sys.stderr.write("---- %s\n%s\n" % (log, open(log).read()[-4000:]))
        raise
    assert 0 < got["before_kill"] < 1000


def test_job_logs(server):
    """A held job's lines appended (by hand and by Job.log), read back in
    order, searched, and followed live until the job ends."""
    c = weft.Client(server.base)
    job = c.enqueue("sdk-logs", {"n": 1})
    got = c.claim(["sdk-logs"], "w-logs", max_jobs=1, wait_ms=0)["jobs"][0]
    assert c.append_job_logs(got["id"], got["lease_token"], ["one", {"text": "two", "stream": "stderr"}])["accepted"] == 2
    weft.worker.Job(got, c).log("three", level="error")
    lines = wait_for(lambda: (c.list_task_logs(job["id"])["lines"] if
                              len(c.list_task_logs(job["id"])["lines"]) == 3 else None), timeout=10)
    assert [(l["seq"], l["text"], l["stream"]) for l in lines] == [(1, "one", "stdout"), (2, "two", "stderr"),
                                                                    (3, "three", "stdout")]
    assert lines[2]["level"] == "error"
    assert [l["text"] for l in c.search_logs(queue="sdk-logs", level="error")["lines"]] == ["three"]
    followed = []

    def follow():
        for line in c.follow_task_logs(job["id"]):
            followed.append(line["text"])

    t = threading.Thread(target=follow)
    t.start()
    wait_for(lambda: len(followed) == 3, timeout=10)
    c.append_job_logs(got["id"], got["lease_token"], ["four"])
    wait_for(lambda: len(followed) == 4, timeout=10)
    c.complete_job(got["id"], got["lease_token"], {"ok": True})
    t.join(timeout=10)
    assert not t.is_alive() and followed == ["one", "two", "three", "four"]
    with pytest.raises(weft.ConflictError):
        c.append_job_logs(got["id"], got["lease_token"], ["late"])


def test_change_feed_and_run_graph(server):
    """follow_changes streams a job's status changes in order; list_changes
    answers them after a cursor; a run's graph and its webhook calls read
    back through the client."""
    c = weft.Client(server.base)
    start = c.list_changes()
    seen, ids = [], []

    def follow():
        for event, data in c.follow_changes(after=start["cursor"]):
            seen.extend((t["id"], t["status"]) for t in data.get("tasks", []))
            if any(i in ids and s == "canceled" for i, s in seen):
                return

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    # The follower starts at the cursor taken before the job exists, so it
    # sees every change however late its stream opens.
    job = c.enqueue("sdk-feed", {"n": 1})
    ids.append(job["id"])
    c.cancel_task(job["id"])
    t.join(timeout=10)
    assert not t.is_alive() and [s for i, s in seen if i == job["id"]] == ["pending", "canceled"]
    polled = c.list_changes(after=start["cursor"])
    assert [x["status"] for x in polled["tasks"] if x["id"] == job["id"]] == ["pending", "canceled"]
    g = c.get_run_graph(job["id"])
    assert g["total"] == 1 and g["tasks"][0]["id"] == job["id"] and g["edges"] == []
    assert c.get_run_critical_path(job["id"])["tasks"] == [job["id"]]
    assert c.list_task_deliveries(job["id"])["deliveries"] == []
    assert "samples" in c.get_metrics_history()
