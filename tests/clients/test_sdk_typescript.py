"""The TypeScript SDK (sdk/typescript) against a real server: node scripts
import @weft/client as INSTALLED in build/sdk/ts-consumer (by
mk/sdk-typescript.mk, with no network), so the package's files list,
exports and typings are what is tested.

* client calls, lists as async iterators, the namespace default, errors
  (404, 409 with the current status, 401 saying to set WEFT_TOKEN, an
  unreachable URL named in the message);
* the worker runtime: retries, NonRetryableError, the abort signal on a
  cancel, heartbeats keeping a job past its lease, SIGTERM and server
  drains, backoff while the server is unreachable; the crash test
  (drain_check) with examples/worker.mjs;
* the typings cannot drift: gen --check, which fails on a changed document;
* the OpenAPI agreement: every operationId of the document the server
  serves is a client method (at run time), and every path parameter,
  request-body property, query parameter and header, and every response
  property, is reachable through the method's compiled signature (tsc on
  assertions generated from the served document); a document with one more
  operation or field makes that check fail.
"""

import copy
import json
import os
from queue import Empty, Queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import drain_check  # noqa: E402
from harness import closed_port_url, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SDK = os.path.join(ROOT, "sdk", "typescript")
CONSUMER = os.path.join(ROOT, "build", "sdk", "ts-consumer")
INSTALLED = os.path.join(CONSUMER, "node_modules", "@weft", "client")
EXAMPLE_WORKER = os.path.join(INSTALLED, "examples", "worker.mjs")
TSC = os.path.join(SDK, "node_modules", ".bin", "tsc")
NODE = shutil.which("node") or "node"


@pytest.fixture(scope="module", autouse=True)
def installed():
    if not os.path.exists(os.path.join(INSTALLED, "dist", "index.js")):
        pytest.fail("@weft/client is not installed in %s: run make build/sdk/ts/consumer.stamp" % CONSUMER,
                    pytrace=False)


@pytest.fixture
def scratch():
    """A directory inside the consumer project, so that its scripts import
    the installed package."""
    d = tempfile.mkdtemp(prefix="t-", dir=CONSUMER)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def node_env(base, token=None, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env["WEFT_URL"] = base
    if token:
        env["WEFT_TOKEN"] = token
    env.update({k: str(v) for k, v in extra.items()})
    return env


def write_script(scratch, body):
    path = os.path.join(scratch, "s-%s.mjs" % uuid.uuid4().hex[:8])
    with open(path, "w") as f:
        f.write(body)
    return path


def run_node(scratch, body, base, token=None, timeout=30, **env):
    """Runs an ES module (which may use top-level await and `out(value)`)
    and returns what it passed to out()."""
    prelude = ("import * as weft from '@weft/client';\n"
               "const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');\n"
               "const errorFields = (e) => ({ thrown: true, name: e.name, status: e.status, code: e.code,\n"
               "  message: e.message, details: e.details, currentStatus: e.currentStatus, url: e.url,\n"
               "  isWeft: e instanceof weft.WeftError });\n")
    path = write_script(scratch, prelude + body)
    p = subprocess.run([NODE, path], env=node_env(base, token, **env), capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, "node exited %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return lines[-1] if len(lines) == 1 else lines


def task(api, task_id):
    r = api.get("/v1/tasks/" + task_id)
    assert r.status_code == 200, r.text
    return r.json()


def status(api, task_id):
    return task(api, task_id)["status"]


def catch(expr, into=None):
    """JS that awaits expr and passes the error's class and fields to out(),
    or assigns them to a new variable named `into`."""
    if into:
        return ("let %s;\ntry { await %s; %s = { thrown: false }; }\ncatch (e) { %s = errorFields(e); }\n"
                % (into, expr, into, into))
    return "try { await %s; out({ thrown: false }); }\ncatch (e) { out(errorFields(e)); }\n" % expr


# ---- the client -----------------------------------------------------------


def test_client_calls(server, api, scratch):
    got = run_node(scratch, """
const c = new weft.WeftClient();
const { jobs } = await c.enqueueJobs({ jobs: [1, 2, 3, 4, 5].map((n) => ({ queue: 'tsq', input: { n }, priority: n })) });
const one = await c.enqueue('tsq', { n: 6 }, { max_attempts: 2 });
const again = await c.enqueueJobs({ jobs: [{ queue: 'tsq', input: { n: 7 } }] }, { idempotencyKey: 'k-1' });
const replay = await c.enqueueJobs({ jobs: [{ queue: 'tsq', input: { n: 7 } }] }, { idempotencyKey: 'k-1' });
const listed = [];
for await (const t of c.iterTasks({ queue: 'tsq', limit: 2 })) listed.push(t.id);
const page = await c.listTasks({ queue: 'tsq', limit: 2 });
const task = await c.getTask(one.id);
const claim = await c.claimJobs({ queues: ['tsq'], worker_id: 'ts-w', max_jobs: 2, wait_ms: 0 });
const beat = await c.heartbeatJobs({ worker_id: 'ts-w', leases: claim.jobs.map((j) => ({ id: j.id, lease_token: j.lease_token })) });
const done = await c.completeJobs({ items: claim.jobs.map((j) => ({ id: j.id, lease_token: j.lease_token, result: { ok: j.input.n } })) });
const queue = await c.getQueue('tsq');
const queues = [];
for await (const q of c.iterQueues()) queues.push(q.name);
const canceled = await c.cancelTask(one.id, { reason: 'not needed' });
const events = [];
for await (const e of c.iterTaskEvents(one.id)) events.push(e.to);
const run = await c.createRun({ name: 'ts-run', tasks: [{ ref: 'a', queue: 'tsr' }, { ref: 'b', queue: 'tsr', parents: [{ ref: 'a' }] }] });
const gotRun = await c.getRun(run.id);
const runSummary = await c.getRun(run.id, { tasks: false });
const runTasks = [];
for await (const t of c.iterRunTasks(run.id, { limit: 1 })) runTasks.push(t.id);
const doc = await c.getOpenApi();
out({ jobs, one, again, replay, listed, pageCursor: page.next_cursor, task, claimed: claim.jobs.map((j) => j.id),
      drain: claim.drain, beat, done, queue, queues, canceled, events, run, gotRun, runSummary, runTasks, openapi: doc.openapi });
""", server.base)
    ids = [j["id"] for j in got["jobs"]]
    assert len(ids) == 5 and all(j["status"] == "pending" and not j["duplicate"] for j in got["jobs"])
    assert got["one"]["queue"] == "tsq" and task(api, got["one"]["id"])["max_attempts"] == 2
    assert got["replay"] == got["again"]
    # every job of the queue, newest first, across pages of 2
    assert len(got["listed"]) == 7 and set(ids) <= set(got["listed"]) and got["pageCursor"]
    assert got["task"]["id"] == got["one"]["id"] and got["task"]["input"] == {"n": 6}
    # the highest priorities first, then completed through the client
    assert got["claimed"] == [ids[4], ids[3]] and got["drain"] is False
    assert [l["state"] for l in got["beat"]["leases"]] == ["held", "held"]
    assert [r["outcome"] for r in got["done"]["results"]] == ["completed", "completed"]
    assert task(api, ids[4])["result"] == {"ok": 5}
    assert got["queue"]["name"] == "tsq" and "tsq" in got["queues"]
    assert got["canceled"]["status"] == "canceled" and got["events"][-1] == "canceled"
    assert [t["ref"] for t in got["run"]["tasks"]] == ["a", "b"]
    assert got["gotRun"]["name"] == "ts-run" and got["gotRun"]["counts"]["total"] == 2
    assert got["runSummary"]["counts"]["total"] == 2 and "tasks" not in got["runSummary"]
    assert got["runTasks"] == [t["id"] for t in got["run"]["tasks"]]
    assert got["openapi"].startswith("3.")


def test_workflow_calls(server, api, scratch):
    """A workflow run end to end through the client: started, its job
    claimed, one step begun and completed, the run completed, then read
    back by id, by key, through iterWorkflows, and its memo through
    iterWorkflowSteps."""
    got = run_node(scratch, """
const c = new weft.WeftClient();
const started = await c.startWorkflow({ queue: 'tswf', type: 'greet', input: { who: 'ts' }, idempotency_key: 'wf-1' });
const claim = await c.claimJobs({ queues: ['tswf'], worker_id: 'ts-wf', max_jobs: 1, wait_ms: 0 });
const job = claim.jobs[0];
const begun = await c.workflowStepBegin(started.id, { lease_token: job.lease_token, name: 'hello' });
const stepDone = await c.workflowStepComplete(started.id, { lease_token: job.lease_token, name: 'hello', seq: begun.step.seq, output: 'hi ts' });
const completed = await c.workflowComplete(started.id, { lease_token: job.lease_token, output: { said: 'hi ts' } });
const run = await c.getWorkflow(started.id);
const byKey = await c.getWorkflowByKey('wf-1');
const listed = [];
for await (const w of c.iterWorkflows({ queue: 'tswf', limit: 1 })) listed.push(w.id);
const memo = [];
for await (const s of c.iterWorkflowSteps(started.id, { limit: 1 })) memo.push([s.kind, s.name, s.seq, s.status]);
out({ started, claimed: claim.jobs.map((j) => [j.id, j.name]), begun, stepDone, completed, run, byKey, listed, memo });
""", server.base)
    wf = got["started"]["id"]
    assert got["started"]["status"] == "pending" and got["started"]["type"] == "greet"
    assert got["claimed"] == [[wf, "greet"]]
    assert got["begun"]["memoized"] is False and got["begun"]["step"]["seq"] == 1
    assert got["begun"]["step"]["status"] == "running"
    assert got["stepDone"]["step"]["status"] == "completed" and got["stepDone"]["step"]["output"] == "hi ts"
    assert got["completed"]["run_status"] == "completed"
    assert got["run"]["status"] == "completed" and got["run"]["output"] == {"said": "hi ts"}
    assert got["run"]["input"] == {"who": "ts"}
    assert got["byKey"]["id"] == wf
    assert got["listed"] == [wf]
    assert got["memo"] == [["step", "hello", 1, "completed"]]


def test_namespace_default(server, api, scratch):
    """WEFT_NAMESPACE goes where an operation takes a namespace and the
    call names none: in bodies (enqueue) and in query strings (lists)."""
    got = run_node(scratch, """
const c = new weft.WeftClient();
const job = await c.enqueue('nsq', { n: 1 });
const mine = await c.listTasks({ queue: 'nsq' });
const other = await c.listTasks({ queue: 'nsq', namespace: 'default' });
const q = await c.getQueue('nsq');
out({ job, mine: mine.tasks.map((t) => t.namespace), other: other.tasks.length, q: q.namespace });
""", server.base, WEFT_NAMESPACE="team-ts")
    assert task(api, got["job"]["id"])["namespace"] == "team-ts"
    assert got["mine"] == ["team-ts"] and got["other"] == 0 and got["q"] == "team-ts"


def test_errors(server, api, scratch):
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "errq"}]})
    job = r.json()["jobs"][0]["id"]
    api.post("/v1/tasks/%s/cancel" % job, json={})
    missing = str(uuid.uuid4())
    nowhere = closed_port_url("")
    got = run_node(scratch, """
const c = new weft.WeftClient();
%s
%s
%s
%s
""" % (catch("c.getTask('%s')" % missing), catch("c.cancelTask('%s')" % job),
       catch("c.enqueueJobs({ jobs: [{ queue: 'bad queue name!' }] })"),
       catch("new weft.WeftClient({ url: '%s', timeoutMs: 2000 }).listTasks()" % nowhere)), server.base)
    notfound, conflict, invalid, unreachable = got
    assert notfound["name"] == "WeftNotFoundError" and notfound["status"] == 404 and notfound["code"] == "not_found"
    assert notfound["isWeft"]
    assert conflict["name"] == "WeftConflictError" and conflict["status"] == 409
    assert conflict["code"] == "conflict" and conflict["currentStatus"] == "canceled"
    assert invalid["name"] == "WeftError" and invalid["status"] == 400 and invalid["code"] == "invalid_request"
    assert any("queue" in d for d in invalid["details"]), invalid
    assert unreachable["name"] == "WeftConnectionError" and unreachable["status"] == 0
    assert unreachable["code"] == "unreachable" and nowhere in unreachable["message"]
    assert "WEFT_URL" in unreachable["message"] and unreachable["url"] == nowhere


def test_an_answer_past_the_bound_is_refused(server, api, scratch):
    """No answer larger than maxAnswerBytes is held: it fails with
    answer_too_large, and the same client reads answers within it."""
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "big", "input": "x" * 5000}]})
    job = r.json()["jobs"][0]["id"]
    got = run_node(scratch, """
const small = new weft.WeftClient({ maxAnswerBytes: 4000 });
%s
const large = new weft.WeftClient({ maxAnswerBytes: 1 << 20 });
out({ big, input: (await large.getTask('%s')).input.length });
""" % (catch("small.getTask('%s')" % job, into="big"), job), server.base)
    assert got["big"]["code"] == "answer_too_large" and "4000 bytes" in got["big"]["message"], got
    assert got["input"] == 5000


def test_timeout_and_abort(scratch):
    """A server that takes the connection but never answers: the request
    ends after timeoutMs as a WeftConnectionError naming the URL, and a
    caller's signal aborts it with the caller's reason."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    base = "http://127.0.0.1:%d" % silent.getsockname()[1]
    try:
        got = run_node(scratch, """
const c = new weft.WeftClient({ timeoutMs: 300 });
%s
const ctl = new AbortController();
setTimeout(() => ctl.abort(new Error('changed my mind')), 100);
%s
out({ timeout, aborted });
""" % (catch("c.listTasks()", into="timeout"), catch("c.listRuns({ signal: ctl.signal })", into="aborted")), base)
    finally:
        silent.close()
    assert got["timeout"]["name"] == "WeftConnectionError" and got["timeout"]["code"] == "timeout"
    assert base in got["timeout"]["message"] and "300 ms" in got["timeout"]["message"]
    assert got["aborted"]["isWeft"] is False and got["aborted"]["message"] == "changed my mind"


def test_audit_log(server, scratch):
    got = run_node(scratch, """
const c = new weft.WeftClient();
await c.pauseQueue('ts-audited');
await c.resumeQueue('ts-audited');
const page = await c.listAudit({ action: 'queue.pause', object_id: 'ts-audited' });
const every = [];
for await (const e of c.iterAudit({ object_kind: 'queue', object_id: 'ts-audited', limit: 1 })) every.push(e.action);
out({ page, every });
""", server.base)
    assert [(e["actor"], e["object_id"]) for e in got["page"]["entries"]] == [("api", "ts-audited")]
    assert got["every"] == ["queue.resume", "queue.pause"]


def test_auth_errors(weft_factory, scratch):
    secured = weft_factory.start(env={"AUTH_TOKEN": "ts-secret-token-0123456789"})
    got = run_node(scratch, """
%s
%s
const ok = await new weft.WeftClient({ token: 'ts-secret-token-0123456789' }).listTasks();
out({ ok: Array.isArray(ok.tasks) });
""" % (catch("new weft.WeftClient().listTasks()"),
       catch("new weft.WeftClient({ token: 'wrong-token-0123456789' }).listTasks()")), secured.base)
    none, wrong, ok = got
    for e in (none, wrong):
        assert e["name"] == "WeftAuthError" and e["status"] == 401 and e["code"] == "unauthorized", e
        assert "set WEFT_TOKEN" in e["message"] and secured.base in e["message"], e
    assert "needs a token" in none["message"] and "refused the token" in wrong["message"]
    assert ok["ok"]


def test_pause_and_resume(server, api, scratch):
    got = run_node(scratch, """
const c = new weft.WeftClient();
const run = await c.createRun({ tasks: [{ ref: 'a', queue: 'pq' }, { ref: 'b', queue: 'pq', parents: [{ ref: 'a' }] }] });
const [a, b] = run.tasks.map((t) => t.id);
const paused = await c.pauseTask(a, { reason: 'hold on' });
const again = await c.getTask(a);
%s
const resumed = await c.resumeTask(a);
const runPaused = await c.pauseRun(run.id, { idempotencyKey: 'p-1' });
const runResumed = await c.resumeRun(run.id);
out({ paused: paused.status, again: again.status, resumed: resumed.status, runPaused, runResumed,
      conflict: conflict1 });
""" % catch("c.resumeTask(b)", into="conflict1"), server.base)
    assert got["paused"] == "paused" and got["again"] == "paused" and got["resumed"] == "pending"
    assert got["runPaused"]["paused"] == 2 and got["runPaused"]["unchanged"] == 0
    assert got["runResumed"]["resumed"] == 2
    assert got["conflict"]["name"] == "WeftConflictError" and got["conflict"]["currentStatus"] == "waiting"


def test_hooks_events_and_subscriptions(server, api, scratch):
    got = run_node(scratch, """
const c = new weft.WeftClient();
const made = await c.createHook({ name: 'ts-hook', target: { kind: 'job', queue: 'ts-hook-q' } });
const first = await c.deliverHook('ts-hook', '{"ref":"main"}', { secret: made.secret, deliveryId: 'd-1' });
const again = await c.deliverHook('ts-hook', new TextEncoder().encode('{"ref":"main"}'),
  { secret: made.secret, deliveryId: 'd-1' });
%s
const rotated = await c.rotateHookSecret('ts-hook');
const gh = await c.createHook({ name: 'ts-gh', scheme: 'github', secret: 'gh-secret-0123456789',
  target: { kind: 'job', queue: 'ts-hook-q' } });
const ghRun = await c.deliverHook('ts-gh', 'plain', { secret: 'gh-secret-0123456789', scheme: 'github' });
const hooks = [];
for await (const h of c.iterHooks()) hooks.push(h.name);
await c.deleteHook('ts-gh');
const sub = await c.createSubscription({ name: 'ts-sub', topic: 'orders.*', target: { kind: 'job', queue: 'ts-ev' } });
const ev = await c.publishEvent({ topic: 'orders.paid', payload: { order: 1 }, id: 'ts-o-1' });
const ev2 = await c.publishEvent({ topic: 'orders.paid', id: 'ts-o-1' });
const read = await c.getEvent('ts-o-1');
const events = [];
for await (const e of c.iterEvents({ topic: 'orders.paid' })) events.push(e.id);
const subs = (await c.listSubscriptions()).subscriptions.map((x) => x.name);
const gotSub = await c.getSubscription('ts-sub');
await c.deleteSubscription('ts-sub');
out({ made, first, again, bad, rotated: rotated.secret !== made.secret, ghRun, hooks, sub, ev, ev2, read, events,
  subs, gotSub, hook: await c.getHook('ts-hook') });
""" % catch("c.deliverHook('ts-hook', '{}', { secret: 'not-the-secret-0123456789' })", into="bad"), server.base)
    assert got["made"]["secret"].startswith("whsec_") and "secret" not in got["hook"]
    assert got["first"]["duplicate"] is False and got["again"]["duplicate"] is True
    assert got["again"]["run_id"] == got["first"]["run_id"]
    assert got["bad"]["status"] == 401 and got["rotated"] is True
    assert got["ghRun"]["run_id"] and got["hooks"] == ["ts-gh", "ts-hook"]
    assert got["sub"]["match"] == "prefix"
    (d,) = got["ev"]["deliveries"]
    assert got["ev2"]["deliveries"][0]["run_id"] == d["run_id"] and got["read"]["topic"] == "orders.paid"
    assert got["events"] == ["ts-o-1"] and got["subs"] == ["ts-sub"] and got["gotSub"]["name"] == "ts-sub"
    assert api.get("/v1/tasks/" + d["run_id"]).json()["input"] == {"order": 1}
    assert api.get("/v1/tasks/" + got["first"]["run_id"]).json()["input"] == {"ref": "main"}


def test_schedules(server, api, scratch):
    got = run_node(scratch, """
const c = new weft.WeftClient();
const made = await c.createSchedule({ name: 'ts-nightly', cron: '0 3 * * *',
  target: { kind: 'job', queue: 'ts-sched', input: { n: 1 } } });
const read = await c.getSchedule('ts-nightly', { next: 2 });
const paused = await c.pauseSchedule('ts-nightly');
const fired = await c.triggerSchedule('ts-nightly');
const names = [];
for await (const s of c.iterSchedules({ limit: 1 })) names.push(s.name);
const deleted = await c.deleteSchedule('ts-nightly');
%s
out({ made, read, paused: paused.paused, fired, names, deleted: deleted === undefined, gone });
""" % catch("c.getSchedule('ts-nightly')", into="gone"), server.base)
    assert got["made"]["name"] == "ts-nightly" and got["made"]["paused"] is False
    assert len(got["read"]["next"]) == 2 and got["read"]["next"][0] == got["made"]["next_fire_at"]
    assert got["paused"] is True
    assert got["fired"]["fires"] == 1 and got["fired"]["last_job_id"]
    assert "ts-nightly" in got["names"]
    assert got["deleted"] is True
    assert got["gone"]["name"] == "WeftNotFoundError"


def test_templates(server, api, scratch):
    got = run_node(scratch, """
const c = new weft.WeftClient();
const steps = [{ ref: 'a', queue: 'ts-tpl', input: { k: 1 } }, { ref: 'b', queue: 'ts-tpl', parents: [{ ref: 'a' }] }];
const made = await c.createTemplate({ name: 'ts-flow', version: '1.0', steps });
const again = await c.createTemplate({ name: 'ts-flow', version: '1.0', steps });
%s
const read = await c.getTemplate('ts-flow', '1.0');
const versions = [];
for await (const t of c.iterTemplates({ name: 'ts-flow', limit: 1 })) versions.push(t.version);
const run = await c.runTemplate('ts-flow', '1.0', { context: { order: 1 } });
const rerun = await c.runTemplate('ts-flow', '1.0', { context: { order: 1 } });
out({ made, again, conflict, read, versions, run, rerun });
""" % catch("c.createTemplate({ name: 'ts-flow', version: '1.0', steps: steps.slice(0, 1) })", into="conflict"),
        server.base)
    assert got["made"]["steps"] == 2 and got["again"]["id"] == got["made"]["id"]
    assert got["conflict"]["name"] == "WeftConflictError"
    assert got["read"]["body"]["steps"][0]["input"] == {"k": 1}
    assert got["versions"] == ["1.0"]
    assert got["run"]["created"] is True and got["rerun"]["created"] is False
    assert got["rerun"]["id"] == got["run"]["id"]


def test_tokens(weft_factory, scratch):
    admin = "ts-admin-token-0123456789"
    secured = weft_factory.start(env={"AUTH_TOKEN": admin})
    got = run_node(scratch, """
const c = new weft.WeftClient({ token: '%s' });
const made = await c.createToken({ name: 'ts-client', namespaces: ['billing'], role: 'client' });
const read = await c.getToken('ts-client');
const list = await c.listTokens();
const asClient = new weft.WeftClient({ token: made.secret, namespace: 'billing' });
const job = await asClient.enqueue('billing-q', { n: 1 });
let forbidden;
try { await asClient.listTokens(); } catch (e) { forbidden = { name: e.name, status: e.status }; }
const me = await asClient.whoami();
const revoked = await c.revokeToken('ts-client');
let fileToken;
try { await c.revokeToken(list.tokens.find((t) => t.source !== 'api').name); }
catch (e) { fileToken = { name: e.name, status: e.status, message: e.message }; }
out({ made, read, names: list.tokens.map((t) => t.name), job, forbidden, me, revoked, fileToken });
""" % admin, secured.base)
    assert got["made"]["secret"].startswith("wft_") and got["made"]["role"] == "client"
    assert "secret" not in got["read"] and got["read"]["namespaces"] == ["billing"] and got["read"]["source"] == "api"
    assert "ts-client" in got["names"]
    assert got["job"]["status"] == "pending"
    assert got["forbidden"] == {"name": "WeftForbiddenError", "status": 403}
    assert got["me"] == {"token": "ts-client", "admin": False, "namespaces": ["billing"],
                         "default_namespace": "billing"}
    assert got["revoked"]["revoked_at"]
    assert got["fileToken"]["name"] == "WeftConflictError" and got["fileToken"]["status"] == 409

    # a server without authentication has no tokens to administer
    open_server = weft_factory.start()
    got = run_node(scratch, catch("new weft.WeftClient().createToken({ name: 'x', namespaces: ['*'], role: 'admin' })"),
                   open_server.base)
    assert got["name"] == "WeftConflictError" and got["code"] == "auth_disabled", got
    assert "AUTH_TOKEN" in got["message"]


# ---- the worker -----------------------------------------------------------

WORKER_SCRIPT = """
import { setTimeout as sleep } from 'node:timers/promises';
const seen = [];
const w = new weft.Worker({
  queues: ['%(queue)s'], concurrency: %(concurrency)d, leaseMs: %(lease)d, claimWaitMs: %(wait)d, log: null,
  handler: async (job) => {
    const how = job.input.how;
    seen.push({ id: job.id, attempt: job.attempt });
    if (how === 'flaky' && job.attempt === 1) { const e = new Error('not yet'); e.code = 'flaky_dep'; throw e; }
    if (how === 'bad') throw new weft.NonRetryableError('bad_input', 'cannot use this input');
    if (how === 'hang') {
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
      process.stdout.write(JSON.stringify({ aborted: job.id, state: job.signal.reason.state }) + '\\n');
      return 'ignored';
    }
    if (job.input.sleep_ms) await sleep(job.input.sleep_ms);
    return { done: job.input.n };
  },
});
process.stdout.write(JSON.stringify({ ready: w.workerId }) + '\\n');
await w.run();
out({ stats: w.stats, seen });
"""


class NodeWorker:
    def __init__(self, scratch, base, queue, concurrency=4, lease=30000, wait=500):
        body = ("import * as weft from '@weft/client';\n"
                "const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');\n" +
                WORKER_SCRIPT % dict(queue=queue, concurrency=concurrency, lease=lease, wait=wait))
        path = write_script(scratch, body)
        self.proc = subprocess.Popen([NODE, path], env=node_env(base), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.id = self.line()["ready"]

    def _read(self):
        for l in self.proc.stdout:
            self.lines.put(l)
        self.lines.put(None)

    def line(self, timeout=15):
        """The next JSON line the script prints."""
        try:
            l = self.lines.get(timeout=timeout)
        except Empty:
            raise AssertionError("the worker printed nothing for %d s" % timeout)
        assert l is not None, "the worker exited: %s" % self.proc.stderr.read()
        return json.loads(l)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if sig is not None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the worker did not exit within %d s" % timeout)
        self.reader.join(5)
        err = self.proc.stderr.read()
        assert self.proc.returncode == 0, (self.proc.returncode, err)
        last = None
        while not self.lines.empty():
            last = self.lines.get() or last
        return json.loads(last)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def workers(scratch):
    started = []

    def start(base, queue, **kw):
        w = NodeWorker(scratch, base, queue, **kw)
        started.append(w)
        return w
    yield start
    for w in started:
        w.close()


def enqueue(api, queue, *inputs, **spec):
    r = api.post("/v1/jobs", json={"jobs": [dict(spec, queue=queue, input=i) for i in inputs]})
    assert r.status_code == 201, r.text
    return [j["id"] for j in r.json()["jobs"]]


def test_worker_retries_and_non_retryable(server, api, workers):
    flaky, bad, fine = enqueue(api, "wq1", {"how": "flaky", "n": 7}, {"how": "bad"}, {"how": "ok", "n": 3},
                               max_attempts=3, backoff={"initial_ms": 1, "max_ms": 1, "jitter": 0})
    w = workers(server.base, "wq1")
    wait_for(lambda: status(api, flaky) == "success" and status(api, fine) == "success", timeout=10,
             desc="the flaky job to succeed on its second attempt")
    t = task(api, flaky)
    assert t["attempt"] == 2 and t["result"] == {"done": 7}
    assert t["attempts"][0]["error"]["code"] == "flaky_dep" and t["attempts"][0]["retryable"] is True
    t = wait_for(lambda: (lambda t: t if t["status"] == "failure" else None)(task(api, bad)), timeout=5,
                 desc="the bad job to fail for good")
    assert t["attempt"] == 1 and t["dead_letter"] is True
    assert t["attempts"][0]["error"]["code"] == "bad_input" and t["attempts"][0]["retryable"] is False
    assert task(api, fine)["result"] == {"done": 3}
    stats = w.stop()["stats"]
    assert stats["completed"] == 2 and stats["failed"] == 2 and stats["lost"] == 0


def test_worker_abort_on_cancel(server, api, workers):
    (job,) = enqueue(api, "wq2", {"how": "hang"})
    w = workers(server.base, "wq2", lease=1000)
    wait_for(lambda: status(api, job) == "running", timeout=5, desc="the job to be claimed")
    api.post("/v1/tasks/%s/cancel" % job, json={})
    # the next heartbeat (a third of the 1 s lease) answers canceled
    assert w.line() == {"aborted": job, "state": "canceled"}
    out = w.stop()
    assert out["stats"]["lost"] == 1 and out["stats"]["completed"] == 0
    assert status(api, job) == "canceled"


def test_worker_heartbeat_outlives_the_lease(server, api, workers):
    (job,) = enqueue(api, "wq3", {"how": "ok", "n": 1, "sleep_ms": 3200})
    w = workers(server.base, "wq3", lease=1500)
    wait_for(lambda: status(api, job) == "success", timeout=10, desc="the long job to end")
    t = task(api, job)
    assert t["attempt"] == 1 and t["attempts"] == [] and t["result"] == {"done": 1}
    assert w.stop()["stats"]["completed"] == 1


def test_worker_sigterm_drains(server, api, workers):
    (first,) = enqueue(api, "wq4", {"how": "ok", "n": 1, "sleep_ms": 1500})
    w = workers(server.base, "wq4", concurrency=1)
    wait_for(lambda: status(api, first) == "running", timeout=5, desc="the job to be claimed")
    w.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    (second,) = enqueue(api, "wq4", {"how": "ok", "n": 2})
    out = w.stop(sig=None)
    assert out["stats"]["completed"] == 1
    assert task(api, first)["status"] == "success"
    assert status(api, second) == "pending"     # no claim after the signal


def test_worker_second_signal_exits(server, api, workers):
    """A second SIGTERM does not wait for the jobs: their leases go back
    and the process exits 143."""
    (job,) = enqueue(api, "wq9", {"how": "hang"})
    w = workers(server.base, "wq9")
    wait_for(lambda: status(api, job) == "running", timeout=5, desc="the job to be claimed")
    w.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    t0 = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(timeout=5) == 143
    assert time.monotonic() - t0 < 3
    assert status(api, job) == "pending"       # released, not left to its 30 s lease


def test_worker_server_drain(server, api, workers):
    w = workers(server.base, "wq5")
    wait_for(lambda: api.get("/v1/workers/" + w.id).status_code == 200, timeout=5, desc="the worker's first claim")
    r = api.post("/v1/workers/%s/drain" % w.id)
    assert r.status_code == 200, r.text
    out = w.stop(sig=None)                    # exits by itself, 0
    assert out["stats"]["claimed"] == 0


def test_worker_backs_off_while_unreachable(scratch):
    """The server is not there: claims are retried after growing pauses
    (never a busy loop), and stop() ends the worker at once."""
    got = run_node(scratch, """
let calls = 0;
const counting = (...a) => { calls++; return fetch(...a); };
const w = new weft.Worker({ client: new weft.WeftClient({ fetch: counting }), queues: ['q'], log: null,
                            handler: () => null });
const done = w.start();
await new Promise((r) => setTimeout(r, 1600));
const t0 = Date.now();
await w.stop();
await done;
out({ calls, stopMs: Date.now() - t0 });
""", closed_port_url(""))
    # 0.1 + 0.2 + 0.4 + 0.8 s of pauses fit in 1.6 s: about 5 tries
    assert 3 <= got["calls"] <= 7, got
    assert got["stopMs"] < 1500, got


def test_worker_batches_its_requests(server, api, scratch):
    """Claims take as many jobs as there are free handlers, one heartbeat
    covers every lease held (carrying the progress set since the last one),
    and reports that finish together share a request."""
    enqueue(api, "wq6", *[{"n": i, "sleep_ms": 1200} for i in range(8)])
    got = run_node(scratch, """
import { setTimeout as sleep } from 'node:timers/promises';
const calls = [];
const counting = async (url, init) => {
  const body = init.body ? JSON.parse(init.body) : {};
  calls.push({ path: new URL(url).pathname, n: (body.items ?? body.leases ?? []).length, max: body.max_jobs,
               progress: (body.leases ?? []).filter((l) => 'progress' in l).map((l) => l.progress.step) });
  return fetch(url, init);
};
const w = new weft.Worker({ client: new weft.WeftClient({ fetch: counting }), queues: ['wq6'], concurrency: 8,
                            leaseMs: 1500, claimWaitMs: 200, log: null,
                            handler: async (job) => {
                              job.progress({ step: job.input.n });
                              await sleep(job.input.sleep_ms);
                              return job.input.n;
                            } });
const done = w.start();
while (w.stats.completed < 8) await sleep(20);
await w.stop();
await done;
out(calls);
""", server.base)
    claims = [c for c in got if c["path"] == "/v1/jobs/claim"]
    beats = [c for c in got if c["path"] == "/v1/jobs/heartbeat"]
    completes = [c for c in got if c["path"] == "/v1/jobs/complete"]
    assert claims[0]["max"] == 8
    # 1.2 s of work under 0.5 s heartbeats: two (a few more on a busy machine), each for every lease held
    assert 1 <= len(beats) <= 5 and beats[0]["n"] == 8, beats
    assert sorted(beats[0]["progress"]) == list(range(8)) and all(b["progress"] == [] for b in beats[1:]), beats
    assert sum(c["n"] for c in completes) == 8 and len(completes) <= 3, completes
    assert not [c for c in got if c["path"] == "/v1/jobs/fail"]


def test_worker_result_refused(server, api, scratch):
    """A result the server will not take (over its 1 MiB limit) fails that
    job for good, result_rejected, and does not hold up the others of its
    batch."""
    big, small = enqueue(api, "wq8", {"big": True}, {"big": False})
    got = run_node(scratch, """
const w = new weft.Worker({ queues: ['wq8'], concurrency: 2, claimWaitMs: 200, log: null,
                            handler: (job) => job.input.big ? 'x'.repeat(1100000) : 'ok' });
const done = w.start();
while (w.stats.completed + w.stats.failed < 2) await new Promise((r) => setTimeout(r, 20));
await w.stop();
await done;
out(w.stats);
""", server.base)
    assert got["completed"] == 1 and got["failed"] == 1, got
    t = task(api, big)
    assert t["status"] == "failure" and t["dead_letter"] is True
    assert t["attempts"][0]["error"]["code"] == "result_rejected", t["attempts"]
    assert task(api, small)["result"] == "ok"


def test_worker_refused_exits(weft_factory):
    """A worker the server refuses (no token) stops and says what to do."""
    secured = weft_factory.start(env={"AUTH_TOKEN": "ts-secret-token-0123456789"})
    p = subprocess.run([NODE, EXAMPLE_WORKER, "wq7"], env=node_env(secured.base), capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == 1 and "WEFT_TOKEN" in p.stderr, p.stderr


def test_crash_drain(server):
    def start_worker():
        return subprocess.Popen([NODE, EXAMPLE_WORKER, "--concurrency", "32", "--lease-ms", str(drain_check.LEASE_MS),
                                 "ts-crash"], env=node_env(server.base),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got = drain_check.drain_with_a_kill(server.base, "ts-crash", start_worker)
    assert got["before_kill"] > 0


# ---- the typings and the document ------------------------------------------


def test_typings_match_the_document(tmp_path):
    """api.gen.ts and operations.gen.ts are what `npm run gen` makes of
    src/http/v1/openapi.json, and the check notices a changed document."""
    p = subprocess.run([NODE, "scripts/gen.mjs", "--check"], cwd=SDK, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "the generated typings are stale:\n" + p.stderr
    with open(os.path.join(ROOT, "src", "http", "v1", "openapi.json")) as f:
        doc = json.load(f)
    same = tmp_path / "same.json"
    same.write_text(json.dumps(doc))
    p = subprocess.run([NODE, "scripts/gen.mjs", "--check", "--doc", str(same)], cwd=SDK, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    doc["components"]["schemas"]["Task"]["properties"]["brand_new"] = {"type": "string"}
    changed = tmp_path / "openapi.json"
    changed.write_text(json.dumps(doc))
    p = subprocess.run([NODE, "scripts/gen.mjs", "--check", "--doc", str(changed)], cwd=SDK, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1 and "api.gen.ts differs" in p.stderr, p.stderr


def test_examples_typecheck(scratch):
    """The installed examples type-check against the installed package."""
    examples = [os.path.join(INSTALLED, "examples", f) for f in ("worker.mjs", "enqueue.mjs", "workflow.mjs")]
    with open(os.path.join(scratch, "tsconfig.json"), "w") as f:
        json.dump({"compilerOptions": {"strict": True, "noEmit": True, "allowJs": True, "checkJs": True,
                                       "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022",
                                       "lib": ["ES2022"], "types": ["node"], "skipLibCheck": True,
                                       "typeRoots": [os.path.join(SDK, "node_modules", "@types")]},
                   "files": examples}, f)
    p = subprocess.run([TSC, "-p", scratch], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


METHODS = ("get", "put", "post", "delete", "patch")


def _deref(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _properties(doc, schema):
    """An object schema's properties, through $ref and allOf."""
    schema = _deref(doc, schema) or {}
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props.update(_properties(doc, part))
    return props


def _walk(doc, schema, type_expr, label, out, depth=0):
    """Asserts that type_expr has every property of schema, recursively
    (objects, arrays of objects)."""
    schema = _deref(doc, schema) or {}
    if depth > 5:
        return
    if schema.get("type") == "array" and "items" in schema:
        _walk(doc, schema["items"], "Elem<%s>" % type_expr, label + "[]", out, depth + 1)
        return
    for name, sub in _properties(doc, schema).items():
        out.append(("Has<%s, %s>" % (type_expr, json.dumps(name)), "%s.%s" % (label, name)))
        _walk(doc, sub, "Get<%s, %s>" % (type_expr, json.dumps(name)), "%s.%s" % (label, name), out, depth + 1)


def agreement_assertions(doc):
    """(TypeScript condition, what it checks) for every operation of doc,
    against WeftClient's compiled signatures: method(...path params, body
    when the operation has one, options with the query parameters and
    headers)."""
    checks = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not op or "operationId" not in op:
                continue
            oid = op["operationId"]
            m = "M<%s>" % json.dumps(oid)
            where = "%s (%s %s)" % (oid, method.upper(), path)
            checks.append(("Has<WeftClient, %s>" % json.dumps(oid), "%s: a client method" % where))
            params = [_deref(doc, p) for p in item.get("parameters", []) + op.get("parameters", [])]
            in_path = [p["name"] for p in params if p["in"] == "path"]
            for i, name in enumerate(in_path):
                checks.append(("IsString<Parameters<%s>[%d]>" % (m, i), "%s: path parameter %s" % (where, name)))
            n = len(in_path)
            body = op.get("requestBody")
            if body:
                schema = _deref(doc, body)["content"]["application/json"]["schema"]
                _walk(doc, schema, "NonNullable<Parameters<%s>[%d]>" % (m, n), "%s: request body" % where, checks)
                n += 1
            opts = "NonNullable<Parameters<%s>[%d]>" % (m, n)
            for p in params:
                if p["in"] == "query":
                    checks.append(("Has<%s, %s>" % (opts, json.dumps(p["name"])),
                                   "%s: query parameter %s" % (where, p["name"])))
                elif p["in"] == "header":
                    key = re.sub(r"-(\w)", lambda mo: mo.group(1).upper(), p["name"][0].lower() + p["name"][1:])
                    checks.append(("Has<%s, %s>" % (opts, json.dumps(key)), "%s: header %s" % (where, p["name"])))
            for status in ("200", "201"):
                resp = _deref(doc, op.get("responses", {}).get(status))
                schema = (resp or {}).get("content", {}).get("application/json", {}).get("schema")
                if schema:
                    _walk(doc, schema, "Awaited<ReturnType<%s>>" % m, "%s: %s answer" % (where, status), checks)
                    break
    return checks


AGREEMENT_PRELUDE = """import type { WeftClient } from "@weft/client";
type Expect<T extends true> = T;
type M<K extends PropertyKey> = K extends keyof WeftClient ? WeftClient[K] : (...a: never[]) => Promise<never>;
type Has<T, K extends PropertyKey> = [T] extends [never] ? false : K extends keyof T ? true : false;
type Get<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? NonNullable<T[K]> : never) : never;
type Elem<T> = T extends readonly (infer I)[] ? NonNullable<I> : never;
type IsString<T> = [T] extends [string] ? ([string] extends [T] ? true : false) : false;
"""


def check_agreement(doc, scratch):
    """Compiles the assertions for doc against the installed package; returns
    what failed (descriptions)."""
    checks = agreement_assertions(doc)
    lines = [AGREEMENT_PRELUDE]
    first = AGREEMENT_PRELUDE.count("\n") + 1
    for i, (cond, _) in enumerate(checks):
        lines.append("type _%d = Expect<%s>;\n" % (i, cond))
    with open(os.path.join(scratch, "agreement.ts"), "w") as f:
        f.write("".join(lines))
    with open(os.path.join(scratch, "tsconfig.json"), "w") as f:
        json.dump({"compilerOptions": {"strict": True, "noEmit": True, "module": "NodeNext",
                                       "moduleResolution": "NodeNext", "target": "ES2022", "types": [],
                                       "lib": ["ES2022", "DOM"], "skipLibCheck": True},
                   "files": ["agreement.ts"]}, f)
    p = subprocess.run([TSC, "-p", scratch], capture_output=True, text=True, timeout=120)
    failed = set()
    for m in re.finditer(r"agreement\.ts\((\d+),\d+\): error", p.stdout):
        idx = int(m.group(1)) - first
        assert 0 <= idx < len(checks), p.stdout
        failed.add(checks[idx][1])
    assert p.returncode == 0 or failed, "tsc failed outside the assertions:\n" + p.stdout + p.stderr
    return len(checks), sorted(failed)


def test_openapi_agreement(server, scratch):
    doc = requests.get(server.base + "/v1/openapi.json", timeout=10).json()
    ids = sorted(op["operationId"] for item in doc["paths"].values() for m, op in item.items()
                 if m in METHODS and "operationId" in op)
    assert len(ids) >= 34

    # at run time: a method for every operationId of the served document
    got = run_node(scratch, """
const c = new weft.WeftClient();
out(%s.filter((id) => typeof c[id] !== 'function'));
""" % json.dumps(ids), server.base)
    assert got == [], "operations with no client method: %s" % got

    # at compile time: every parameter, body property and answer property
    total, failed = check_agreement(doc, scratch)
    assert total > 300
    assert failed == [], "the client's signatures lack:\n  " + "\n  ".join(failed)

    # and the check fails on a document with one more operation or field
    more = copy.deepcopy(doc)
    more["paths"]["/v1/frobs"] = {"post": {"operationId": "frobnicate", "responses": {}}}
    more["components"]["schemas"]["JobSpec"]["properties"]["zz_job_field"] = {"type": "string"}
    more["paths"]["/v1/tasks"]["get"]["parameters"].append({"name": "zz_filter", "in": "query",
                                                            "schema": {"type": "string"}})
    more["components"]["schemas"]["Queue"]["properties"]["zz_figure"] = {"type": "integer"}
    _, failed = check_agreement(more, scratch)
    assert "frobnicate (POST /v1/frobs): a client method" in failed, failed
    assert "enqueueJobs (POST /v1/jobs): request body.jobs[].zz_job_field" in failed, failed
    assert "listTasks (GET /v1/tasks): query parameter zz_filter" in failed, failed
    assert "getQueue (GET /v1/queues/{name}): 200 answer.zz_figure" in failed, failed


def test_job_logs(server, api, scratch):
    """Lines appended to a held job (appendJobLogs, and job.log in a
    handler's context is the same call), read back, searched, and
    followed live until the job ends."""
    got = run_node(scratch, """
const c = new weft.WeftClient();
const [job] = (await c.enqueueJobs({ jobs: [{ queue: 'ts-logs' }] })).jobs;
const [held] = (await c.claimJobs({ queues: ['ts-logs'], worker_id: 'ts-l', max_jobs: 1, wait_ms: 0 })).jobs;
const appended = await c.appendJobLogs(held.id, { lease_token: held.lease_token,
  lines: [{ text: 'one' }, { text: 'two', stream: 'stderr', level: 'error' }] });
const followed = [];
const follower = (async () => { for await (const l of c.followTaskLogs(job.id)) followed.push([l.seq, l.text]); })();
await new Promise((r) => setTimeout(r, 500));
await c.appendJobLogs(held.id, { lease_token: held.lease_token, lines: [{ text: 'three' }] });
await new Promise((r) => setTimeout(r, 500));
await c.completeJob(held.id, { lease_token: held.lease_token, result: 1 });
await follower;
const page = await c.listTaskLogs(job.id, { stream: 'stderr' });
const found = await c.searchLogs({ queue: 'ts-logs', level: 'error' });
let stale = null;
try { await c.appendJobLogs(held.id, { lease_token: held.lease_token, lines: [{ text: 'late' }] }); }
catch (e) { stale = e.code; }
out({ appended, followed, page, found, stale });
""", server.base)
    assert got["appended"]["accepted"] == 2 and got["appended"]["attempt"] == 1
    assert got["followed"] == [[1, "one"], [2, "two"], [3, "three"]]
    assert [l["text"] for l in got["page"]["lines"]] == ["two"]
    assert [l["text"] for l in got["found"]["lines"]] == ["two"]
    assert got["stale"] == "stale_lease"


def test_change_feed(server, api, scratch):
    """followChanges streams a job's status changes in order until aborted;
    listChanges answers what changed after its cursor."""
    got = run_node(scratch, """
const c = new weft.WeftClient();
const start = await c.listChanges();
const ctl = new AbortController();
const changes = [];
let job;
const ofJob = () => changes.filter((t) => job && t.id === job.id).map((t) => t.status);
// From the cursor taken before the job exists: every change is seen
// however late the stream opens.
const follower = (async () => {
  try {
    for await (const ev of c.followChanges({ after: start.cursor, signal: ctl.signal })) {
      changes.push(...ev.data.tasks);
      if (ofJob().includes('canceled')) ctl.abort();
    }
  } catch (e) { if (e.name !== 'AbortError' && e.code !== 'unreachable') throw e; }
})();
[job] = (await c.enqueueJobs({ jobs: [{ queue: 'ts-feed' }] })).jobs;
await c.cancelTask(job.id);
await follower;
const polled = await c.listChanges({ after: start.cursor });
out({ seen: ofJob(), polled: polled.tasks.filter((t) => t.id === job.id).map((t) => t.status), reset: polled.reset });
""", server.base)
    assert got["seen"] == ["pending", "canceled"]
    assert got["polled"] == ["pending", "canceled"] and got["reset"] is False
