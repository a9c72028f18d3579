"""`weft submit` against a real server: a DAG in JSON or YAML (from a file or
stdin) makes the same run, anchors and merge keys included; the human and
--json answers; YAML mistakes named by file:line:column before anything is
sent (duplicate keys, an alias before its anchor, aliases that expand past
the limits, a second document, numbers JSON cannot carry), and the server's
refusal of a task shown with the task's line; the size limit;
--idempotency-key; --namespace; a token; and --wait's exit codes for a run of webhook tasks that
succeeds, fails, is canceled or outlasts --wait-timeout."""

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from harness import SANITIZER_MARKERS, closed_port_url, weft_bin

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

DAG_JSON = {
    "name": "nightly",
    "metadata": {"team": "data", "zip": "01234"},
    "tasks": [
        {"ref": "fetch", "queue": "fetch", "priority": 5,
         "input": {"url": "http://example.com/a", "n": 1.5, "big": 9007199254740993, "on": True, "none": None,
                   "tags": ["a", "b"], "country": "NO"}},
        {"ref": "size", "queue": "fetch", "input": 2},
        {"ref": "report", "queue": "report", "max_attempts": 3,
         "parents": [{"ref": "fetch"}, {"ref": "size", "requires_success": False}]},
    ],
}

# The same DAG in YAML, as a person writes it: plain scalars typed, a quoted
# zip code and a plain one with its leading zero, a country code NO (a
# string: only true/false are booleans), ~ for null, a block sequence.
DAG_YAML = """\
# nightly report
name: nightly
metadata:
  team: data
  zip: 01234
tasks:
  - ref: fetch
    queue: fetch
    priority: 5
    input:
      url: "http://example.com/a"
      n: 1.5
      big: 9007199254740993
      "on": true
      none: ~
      tags: [a, b]
      country: NO
  - {ref: size, queue: fetch, input: 2}
  - ref: report
    queue: report
    max_attempts: 3
    parents:
      - ref: fetch
      - ref: size
        requires_success: false
"""


def weft(url, *args, stdin=None, env=None, timeout=60):
    e = dict(os.environ)
    for name in ("WEFT_TOKEN", "WEFT_NAMESPACE", "WEFT_PROFILE"):
        e.pop(name, None)
    e["WEFT_URL"] = url
    e["WEFT_CONFIG"] = os.devnull           # no config file of the machine's
    e.update(env or {})
    r = subprocess.run([weft_bin(), "submit", *args], env=e, input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    no_sanitizer_report(r.stderr)
    return r


def no_sanitizer_report(text):
    for marker in SANITIZER_MARKERS:   # under build/asan/weft
        assert marker not in text, text


def run_of(api, run_id):
    r = api.get("/v1/runs/" + run_id)
    assert r.status_code == 200, r.text
    return r.json()


def shape(api, run_id):
    """What a run is made of, ids aside: its name, metadata, and each task's
    ref-free view (name, queue, status, priority, attempts, input)."""
    run = run_of(api, run_id)
    tasks = []
    for t in run["tasks"]:
        full = api.get("/v1/tasks/" + t["id"]).json()
        tasks.append({k: full.get(k) for k in ("name", "queue", "executor", "status", "priority", "max_attempts",
                                               "input")})
    return {"name": run["name"], "metadata": run["metadata"], "tasks": tasks}


def runs_count(api):
    r = api.get("/v1/runs")
    assert r.status_code == 200, r.text
    return len(r.json()["runs"])


# ---- JSON and YAML make the same run ------------------------------------------------------


def test_json_and_yaml_files_make_the_same_run(server, api, tmp_path):
    jf = tmp_path / "dag.json"
    jf.write_text(json.dumps(DAG_JSON))
    yf = tmp_path / "dag.yaml"
    yf.write_text(DAG_YAML)
    a = weft(server.base, "--json", str(jf))
    b = weft(server.base, "--json", str(yf))
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert ja["id"] != jb["id"]
    assert [(t["ref"], t["executor"], t["status"]) for t in ja["tasks"]] == \
        [("fetch", "queue", "pending"), ("size", "queue", "pending"), ("report", "queue", "waiting")]
    assert [(t["ref"], t["executor"], t["status"]) for t in jb["tasks"]] == \
        [(t["ref"], t["executor"], t["status"]) for t in ja["tasks"]]
    sa, sb = shape(api, ja["id"]), shape(api, jb["id"])
    assert sa == sb
    # the YAML scalars typed as the JSON ones: the big integer exact, the
    # zip code with its leading zero and NO strings, ~ null
    fetch = sb["tasks"][0]["input"]
    assert fetch == DAG_JSON["tasks"][0]["input"]
    assert sb["metadata"] == {"team": "data", "zip": "01234"}


def test_human_output_names_the_run_and_how_to_follow_it(server, tmp_path):
    f = tmp_path / "dag.yml"
    f.write_text(DAG_YAML)
    r = weft(server.base, str(f))
    assert r.returncode == 0, r.stderr
    m = re.match(r'run (%s) "nightly" created in namespace default: 3 tasks \(3 queue, 0 webhook\)\n'
                 r'follow it with: weft runs show (%s)\n$' % (UUID, UUID), r.stdout)
    assert m, r.stdout
    assert m.group(1) == m.group(2)


def test_stdin_and_format_detection(server, api, tmp_path):
    # stdin, YAML by its content
    r = weft(server.base, "--json", "-", stdin=DAG_YAML)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["tasks"]) == 3
    # stdin, JSON by its content; a bare list is the tasks
    r = weft(server.base, "--json", "-", stdin=json.dumps(DAG_JSON["tasks"][:2]))
    assert r.returncode == 0, r.stderr
    run = run_of(api, json.loads(r.stdout)["id"])
    assert run["name"] is None and run["counts"]["total"] == 2
    # a name that says nothing, with --format
    f = tmp_path / "dag.txt"
    f.write_text(DAG_YAML)
    assert weft(server.base, "--format", "yaml", str(f)).returncode == 0
    r = weft(server.base, "--format", "json", str(f))
    assert r.returncode == 2 and "dag.txt:" in r.stderr
    # a .json file is JSON, whatever it holds
    g = tmp_path / "dag.json"
    g.write_text(DAG_YAML)
    r = weft(server.base, str(g))
    assert r.returncode == 2 and re.search(r"dag\.json:\d+:\d+: ", r.stderr), r.stderr


# ---- mistakes are found before anything is sent -------------------------------------------

YAML_MISTAKES = [
    ("dup", "tasks:\n  - ref: a\n    queue: q\n    queue: r\n", "dag.yaml:4:5:", "the key 'queue' is given twice"),
    ("alias", "tasks:\n  - ref: a\n    queue: *q\n", "dag.yaml:3:12:", "the alias *q names no anchor"),
    ("laughs", "tasks:\n  - ref: a\n    queue: q\n    input:\n      a: &a [lol, lol, lol, lol, lol, lol, lol, lol]\n"
     + "".join("      %s: &%s [%s]\n" % (n, n, ", ".join(["*" + p] * 8)) for p, n in zip("abcdefghi", "bcdefghij")),
     "dag.yaml:12:", "more than 4000000 values once its aliases are expanded"),
    ("merge", "tasks:\n  - {<<: [1], ref: a}\n", "dag.yaml:2:10:", "item 1 is an integer"),
    ("syntax", "tasks:\n  - ref: a\n   queue: q\n", "dag.yaml:3:4:", "did not find expected '-' indicator"),
    ("flow", "tasks: [{ref: a, queue: q}\n", "dag.yaml:2:1:", "did not find expected ',' or ']'"),
    ("two-docs", "tasks: []\n---\ntasks: []\n", "dag.yaml:2:1:", "a second document"),
    ("bigint", "tasks:\n  - ref: a\n    queue: q\n    input: 123456789012345678901234\n", "dag.yaml:4:12:",
     "does not fit in 64 bits"),
    ("inf", "tasks:\n  - {ref: a, queue: q, input: .inf}\n", "dag.yaml:2:31:", ".inf is not a number JSON can carry"),
    ("tag", "tasks:\n  - {ref: a, queue: q, input: !!binary aGk=}\n", "dag.yaml:2:31:", "the tag !!binary is not supported"),
    ("key", "tasks:\n  - {[a]: 1}\n", "dag.yaml:2:6:", "a key must be a scalar"),
    ("deep", "tasks: " + "[" * 70 + "]" * 70 + "\n", "dag.yaml:1:", "nesting deeper than 64 levels"),
    ("scalar", "just text\n", "dag.yaml:", "must be a mapping with a tasks list (found: string)"),
]


@pytest.mark.parametrize("text,where,what", [m[1:] for m in YAML_MISTAKES], ids=[m[0] for m in YAML_MISTAKES])
def test_yaml_mistakes_are_named_by_line_and_column(server, api, tmp_path, text, where, what):
    f = tmp_path / "dag.yaml"
    f.write_text(text)
    r = weft(server.base, str(f))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("weft submit: %s/%s" % (tmp_path, where)), r.stderr
    assert what in r.stderr, r.stderr
    assert r.stdout == ""
    assert runs_count(api) == 0


def test_anchors_aliases_and_merge_keys(server, api):
    yaml = """\
tasks:
  - &base
    ref: a
    queue: work
    max_attempts: 3
    priority: 2
    input: &payload {source: s3, keys: [a, b]}
  - <<: *base
    ref: b
    priority: 7
    parents: [{ref: a}]
  - {ref: c, queue: other, input: *payload}
"""
    explicit = {"tasks": [
        {"ref": "a", "queue": "work", "max_attempts": 3, "priority": 2, "input": {"source": "s3", "keys": ["a", "b"]}},
        {"ref": "b", "queue": "work", "max_attempts": 3, "priority": 7, "input": {"source": "s3", "keys": ["a", "b"]},
         "parents": [{"ref": "a"}]},
        {"ref": "c", "queue": "other", "input": {"source": "s3", "keys": ["a", "b"]}},
    ]}
    a = weft(server.base, "--json", "-", stdin=yaml)
    b = weft(server.base, "--json", "--format", "json", "-", stdin=json.dumps(explicit))
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    sa, sb = shape(api, json.loads(a.stdout)["id"]), shape(api, json.loads(b.stdout)["id"])
    assert sa == sb
    assert [t["status"] for t in json.loads(a.stdout)["tasks"]] == ["pending", "waiting", "pending"]


def test_json_mistakes_are_named_by_line_and_column(server, api, tmp_path):
    f = tmp_path / "dag.json"
    f.write_text('{\n  "tasks": [\n    {"ref": "a", "queue": "q",}\n  ]\n}\n')
    r = weft(server.base, str(f))
    assert r.returncode == 2
    assert re.match(r"weft submit: .*dag\.json:3:\d+: ", r.stderr), r.stderr
    f.write_text('{"tasks": [], "tasks": []}')
    r = weft(server.base, str(f))
    assert r.returncode == 2 and "duplicate" in r.stderr, r.stderr
    assert runs_count(api) == 0


def test_the_servers_refusal_is_shown_with_the_tasks_lines(server, api, tmp_path):
    f = tmp_path / "dag.yaml"
    f.write_text("name: x\ntasks:\n  - ref: a\n    queue: q\n\n  - ref: b\n  - {ref: c, queue: q, priority: 5000}\n")
    r = weft(server.base, str(f))
    assert r.returncode == 2
    assert "the server answered 400" in r.stderr and "tasks[1].queue: missing field" in r.stderr, r.stderr
    assert "tasks[1] is the task at %s:6\n" % f in r.stderr
    assert "tasks[2] is the task at %s:7\n" % f in r.stderr
    r = weft(server.base, "-", stdin="- ref: a\n  queue: q\n- ref: b\n")     # a bare list
    assert r.returncode == 2 and "tasks[1] is the task at stdin:3\n" in r.stderr, r.stderr
    assert runs_count(api) == 0


def test_too_large_input_is_refused_before_sending(tmp_path):
    url = closed_port_url("")      # nothing listens: an attempt to send would exit 4
    big = tmp_path / "big.json"
    with open(big, "w") as f:
        f.write('{"tasks": [{"ref": "a", "queue": "q", "input": "')
        f.write("x" * (16 << 20))
        f.write('"}]}')
    r = weft(url, str(big))
    assert r.returncode == 2, r.stderr
    assert "big.json is 16.0 MiB; a run request may have at most 16 MiB" in r.stderr, r.stderr
    r = weft(url, "-", stdin=big.read_text())      # stdin: counted as it is read
    assert r.returncode == 2 and "stdin has more than" in r.stderr, r.stderr


def test_unreachable_server_exits_4(tmp_path):
    r = weft(closed_port_url(""), "-", stdin=DAG_YAML)
    assert r.returncode == 4
    assert "cannot reach the weft server" in r.stderr


def test_a_server_with_a_token(weft_factory):
    srv = weft_factory.start(env={"AUTH_TOKEN": "the-token-0123456789"})
    r = weft(srv.base, "-", stdin=DAG_YAML)
    assert r.returncode == 3 and "needs a token: set --token or WEFT_TOKEN" in r.stderr, r.stderr
    r = weft(srv.base, "--token", "wrong-token-0123456789", "-", stdin=DAG_YAML)
    assert r.returncode == 3 and "refused the token" in r.stderr, r.stderr
    r = weft(srv.base, "-", stdin=DAG_YAML, env={"WEFT_TOKEN": "the-token-0123456789"})
    assert r.returncode == 0, r.stderr


def test_usage_errors_exit_2(tmp_path):
    url = closed_port_url("")
    assert weft(url).returncode == 2                                   # no file
    assert weft(url, "a.yaml", "b.yaml").returncode == 2               # two files
    assert weft(url, "--format", "toml", "-").returncode == 2
    assert weft(url, "--idempotency-key", "has space", "-").returncode == 2
    assert weft(url, "--wait-timeout", "5s", "-").returncode == 2      # without --wait
    r = weft(url, str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "cannot open" in r.stderr
    r = weft(url, "--help")
    assert r.returncode == 0 and "usage: weft submit" in r.stdout and "Exit codes" in r.stdout


def test_idempotency_key_answers_the_first_run(server, api):
    a = weft(server.base, "--idempotency-key", "nightly-2026-12-05", "--json", "-", stdin=DAG_YAML)
    b = weft(server.base, "--idempotency-key", "nightly-2026-12-05", "-", stdin=DAG_YAML)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    first = json.loads(a.stdout)["id"]
    assert first in b.stdout and "already submitted with this --idempotency-key" in b.stdout
    assert runs_count(api) == 1
    # the same key with another DAG is refused
    c = weft(server.base, "--idempotency-key", "nightly-2026-12-05", "-", stdin="tasks: [{ref: x, queue: q}]")
    assert c.returncode == 2 and "422" in c.stderr, c.stderr


def test_namespace_option_and_the_files_namespace(server, api):
    r = weft(server.base, "--namespace", "billing", "--json", "-", stdin=DAG_YAML)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["namespace"] == "billing"
    r = weft(server.base, "--json", "-", stdin="namespace: ops\n" + DAG_YAML, env={"WEFT_NAMESPACE": "ops"})
    assert r.returncode == 0 and json.loads(r.stdout)["namespace"] == "ops", r.stderr
    r = weft(server.base, "--namespace", "billing", "-", stdin="namespace: ops\n" + DAG_YAML)
    assert r.returncode == 2 and "names namespace 'ops'" in r.stderr


# ---- a progress bar, on a terminal only ----------------------------------------------------


def big_dag():
    # three tasks of 600 KB of input: 1.8 MiB, over the bar's 1 MiB
    return json.dumps({"tasks": [{"ref": "t%d" % i, "queue": "bulk", "input": "y" * 600000} for i in range(3)]})


def read_pty(master, p, deadline_s=30, until=None):
    """What a process wrote to the pseudo-terminal master until it exits
    (or, with until, until that text appeared)."""
    seen = b""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if until and until in seen:
            break
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif p.poll() is not None:
            break
    return seen


def test_progress_bar_only_on_a_terminal(server, tmp_path):
    f = tmp_path / "big.json"
    f.write_text(big_dag())
    r = weft(server.base, str(f))
    assert r.returncode == 0 and "upload [" not in r.stderr, r.stderr
    master, slave = pty.openpty()
    env = dict(os.environ, WEFT_URL=server.base, WEFT_CONFIG=os.devnull)
    p = subprocess.Popen([weft_bin(), "submit", str(f)], stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = read_pty(master, p)
    out, _ = p.communicate(timeout=30)
    os.close(master)
    assert p.returncode == 0, seen
    text = seen.decode()
    no_sanitizer_report(text)
    assert "upload [" in text and "100% 1.7/1.7 MiB" in text, text
    assert b"created in namespace default: 3 tasks" in out


# ---- --wait ---------------------------------------------------------------------------------


def webhook_dag(mock, n=2):
    return json.dumps({"name": "hooks", "tasks": [
        {"ref": "w%d" % i, "executor": "webhook", "on_start": {"url": mock.url("/start"), "verb": "Post"}}
        for i in range(n)]})


class Waiting:
    """`weft submit --wait` running in the background."""

    def __init__(self, url, stdin, *args):
        env = dict(os.environ, WEFT_URL=url, WEFT_CONFIG=os.devnull)
        for name in ("WEFT_TOKEN", "WEFT_NAMESPACE", "WEFT_PROFILE"):
            env.pop(name, None)
        self.p = subprocess.Popen([weft_bin(), "submit", "--wait", *args, "-"], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.p.stdin.write(stdin)
        self.p.stdin.close()
        self.p.stdin = None

    def run_id(self):
        line = self.p.stdout.readline()
        m = re.match(r"run (%s) " % UUID, line)
        assert m, line
        return m.group(1)

    def finish(self):
        out, err = self.p.communicate(timeout=30)
        no_sanitizer_report(err)
        return self.p.returncode, out, err


def task_ids(api, run_id):
    return [t["id"] for t in run_of(api, run_id)["tasks"]]


def test_wait_exits_0_when_the_run_succeeds(server, api, mock):
    w = Waiting(server.base, webhook_dag(mock))
    run_id = w.run_id()
    mock.wait_hits("/start", 2, timeout=10)
    for tid in task_ids(api, run_id):
        r = api.post("/v1/tasks/%s/complete" % tid, json={"result": {"ok": 1}})
        assert r.status_code == 200, r.text
    rc, out, err = w.finish()
    assert rc == 0, err
    assert "run %s ended: success (2 success)" % run_id in out
    assert "waiting for run %s" % run_id in err


def test_a_yaml_decision_and_a_run_that_ends_with_skipped_tasks(server, api, mock):
    hook = "{url: %s, verb: Post}" % mock.url("/start")
    dag = ("tasks:\n"
           "  - {ref: pick, executor: webhook, decision: true, on_start: %s}\n"
           "  - {ref: left, executor: webhook, on_start: %s, parents: [{ref: pick}]}\n"
           "  - {ref: right, executor: webhook, on_start: %s, parents: [{ref: pick}]}\n") % (hook, hook, hook)
    w = Waiting(server.base, dag, "--format", "yaml")
    run_id = w.run_id()
    mock.wait_hits("/start", 1, timeout=10)
    pick, left, right = task_ids(api, run_id)
    r = api.post("/v1/tasks/%s/complete" % pick, json={"result": {"next": ["left"]}})
    assert r.status_code == 200 and r.json()["status"] == "success", r.text
    mock.wait_hits("/start", 2, timeout=10)
    assert api.post("/v1/tasks/%s/complete" % left, json={"result": 1}).status_code == 200
    rc, out, err = w.finish()
    assert rc == 0, err
    assert "run %s ended: success (2 success, 1 skipped)" % run_id in out, out
    # A decision without children is refused with its field named.
    r = weft(server.base, "--format", "yaml", "-", stdin="- {ref: lone, queue: q, decision: true}\n")
    assert r.returncode == 2 and "tasks[0].decision: a decision task must have at least one child" in r.stderr, \
        r.stderr


def test_wait_exits_7_when_the_run_fails_and_json_gives_the_run(server, api, mock):
    w = Waiting(server.base, webhook_dag(mock), "--json")
    mock.wait_hits("/start", 2, timeout=10)
    runs = api.get("/v1/runs").json()["runs"]
    assert len(runs) == 1
    a, b = task_ids(api, runs[0]["id"])
    assert api.post("/v1/tasks/%s/complete" % a, json={"result": 1}).status_code == 200
    r = api.post("/v1/tasks/%s/fail" % b, json={"error": {"code": "card_declined", "message": "no"}})
    assert r.status_code == 200, r.text
    rc, out, err = w.finish()
    assert rc == 7, (out, err)
    run = json.loads(out)                 # one object: the run as it ended
    assert run["id"] == runs[0]["id"] and run["status"] == "failure"
    assert run["counts"]["success"] == 1 and run["counts"]["failure"] == 1


def test_wait_exits_8_when_the_run_is_canceled(server, api, mock):
    w = Waiting(server.base, webhook_dag(mock, 1))
    run_id = w.run_id()
    mock.wait_hits("/start", 1, timeout=10)
    r = api.post("/v1/runs/%s/cancel" % run_id)
    assert r.status_code == 200, r.text
    rc, out, err = w.finish()
    assert rc == 8, (out, err)
    assert "ended: canceled" in out and "weft runs tasks %s" % run_id in out


def test_wait_timeout_exits_9_and_leaves_the_run(server, api, mock):
    w = Waiting(server.base, webhook_dag(mock, 1), "--wait-timeout", "300ms")
    run_id = w.run_id()
    rc, out, err = w.finish()
    assert rc == 9, (out, err)
    assert "still active after --wait-timeout" in err
    assert run_of(api, run_id)["status"] == "active"


def test_wait_draws_the_runs_progress_on_a_terminal(server, api, mock):
    master, slave = pty.openpty()
    env = dict(os.environ, WEFT_URL=server.base, WEFT_CONFIG=os.devnull)
    p = subprocess.Popen([weft_bin(), "submit", "--wait", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=slave, env=env, text=True)
    os.close(slave)
    p.stdin.write(webhook_dag(mock, 2))
    p.stdin.close()
    p.stdin = None
    run_id = re.match(r"run (%s) " % UUID, p.stdout.readline()).group(1)
    seen = read_pty(master, p, until=b"0/2 tasks ended (2 running)")
    a, b = task_ids(api, run_id)
    assert api.post("/v1/tasks/%s/complete" % a, json={"result": 1}).status_code == 200
    seen += read_pty(master, p, until=b"1/2 tasks ended (1 running, 1 success)")
    assert api.post("/v1/tasks/%s/complete" % b, json={"result": 2}).status_code == 200
    out, _ = p.communicate(timeout=30)
    seen += read_pty(master, p)
    os.close(master)
    text = seen.decode()
    no_sanitizer_report(text)
    assert p.returncode == 0, text
    assert "0/2 tasks ended (2 running)" in text
    assert "1/2 tasks ended (1 running, 1 success)" in text
    assert "] 2/2 tasks ended (2 success)" in text
    assert "ended: success (2 success)" in out
