"""The exec executor: tasks the server runs itself as child processes
(--allow-exec). Exit codes, signals and timeouts (SIGTERM, then SIGKILL for
a child that ignores it) become the task's outcome; the whole process group
goes with the task (grandchildren too), on a cancel as well; nothing is
given to a shell; without --allow-exec, or for a program off the
allow-list, the task is refused at submit; after kill -9 of the server its
children are gone and its tasks are failed attempts that retry."""

import os
import time

import pytest

from harness import stays, wait_for

ALLOW = ["--allow-exec"]


def run_tasks(api, tasks, expect=201):
    r = api.post("/v1/runs", json={"tasks": tasks})
    assert r.status_code == expect, r.text
    return r.json() if expect == 201 else r


def exec_task(ref, argv, **kw):
    spec = {"argv": argv}
    for k in ("env", "cwd", "timeout_secs"):
        if k in kw:
            spec[k] = kw.pop(k)
    return dict(ref=ref, executor="exec", exec=spec, **kw)


def task(api, tid):
    r = api.get("/v1/tasks/" + tid)
    assert r.status_code == 200, r.text
    return r.json()


def ended(api, tid, timeout=10.0):
    return wait_for(lambda: (lambda t: t if t["status"] in ("success", "failure", "canceled") else None)(
        task(api, tid)), timeout=timeout, desc="task %s ended" % tid)


def ids(run):
    return {t["ref"]: t["id"] for t in run["tasks"]}


def pid_alive(pid):
    """Whether the process exists and is not a zombie (a killed child whose
    parent died waits for init to reap it)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def read_pid(path, timeout=5.0):
    def get():
        try:
            with open(path) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (FileNotFoundError, ValueError):
            return None
    return wait_for(get, timeout=timeout, desc="pid file %s" % path)


@pytest.fixture
def xapi(weft_factory, mock):
    from harness import Api
    return Api(weft_factory.start(args=ALLOW, env={"EXEC_KILL_GRACE_MS": "300"}), mock)


def test_exit_codes_signals_and_stdout_as_result(xapi):
    run = run_tasks(xapi, [
        exec_task("json", ["/bin/sh", "-c", 'echo \'{"n": 1}\'']),
        exec_task("text", ["/bin/echo", "plain text"]),
        exec_task("stdin", ["/bin/cat"], input={"hello": ["world"]}),
        exec_task("env", ["/bin/sh", "-c", 'printf "%s" "$GREETING"'], env={"GREETING": "hi there"}),
        exec_task("cwd", ["/bin/pwd"], cwd="/tmp"),
        exec_task("exit3", ["/bin/sh", "-c", "echo oops >&2; exit 3"]),
        exec_task("segv", ["/bin/sh", "-c", "kill -SEGV $$"]),
        exec_task("missing", ["/no/such/program"]),
    ])
    t = ids(run)
    assert all(x["executor"] == "exec" for x in run["tasks"])
    got = {ref: ended(xapi, tid) for ref, tid in t.items()}
    assert got["json"]["status"] == "success" and got["json"]["result"] == {"n": 1}
    assert got["text"]["result"] == "plain text"
    assert got["stdin"]["result"] == {"hello": ["world"]}
    assert got["env"]["result"] == "hi there"
    assert got["cwd"]["result"] == "/tmp"
    assert got["exit3"]["status"] == "failure"
    assert got["exit3"]["error"]["code"] == "exit_3"
    assert "oops" in got["exit3"]["error"]["message"]
    assert got["segv"]["status"] == "failure" and got["segv"]["error"]["code"] == "signal_sigsegv"
    assert got["missing"]["status"] == "failure" and got["missing"]["error"]["code"] == "exec_failed"
    listed = xapi.get("/v1/tasks", params={"executor": "exec", "limit": 100})
    assert listed.status_code == 200, listed.text
    assert {x["id"] for x in listed.json()["tasks"]} == set(t.values())


def test_the_server_environment_does_not_leak(weft_factory, mock):
    from harness import Api
    api = Api(weft_factory.start(args=ALLOW, env={"WEFT_SECRET_THING": "s3cret"}), mock)
    run = run_tasks(api, [exec_task("env", ["/usr/bin/env"])])
    out = ended(api, ids(run)["env"])["result"]
    assert "s3cret" not in out and "PATH=" in out


def test_no_shell_interpretation(xapi, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("still here")
    arg = "$(id); rm -rf %s; `id` | cat > /dev/null & echo *" % victim
    run = run_tasks(xapi, [exec_task("echo", ["/bin/echo", arg])])
    t = ended(xapi, ids(run)["echo"])
    assert t["status"] == "success" and t["result"] == arg
    assert victim.read_text() == "still here"


def test_a_nonzero_exit_retries_under_the_policy(xapi, tmp_path):
    counter = tmp_path / "count"
    script = 'echo x >> %s; [ "$(wc -l < %s)" -ge 2 ] && echo done || exit 7' % (counter, counter)
    run = run_tasks(xapi, [exec_task("flaky", ["/bin/sh", "-c", script],
                                     retry={"max_retries": 2, "initial_delay_secs": 0})])
    t = ended(xapi, ids(run)["flaky"])
    assert t["status"] == "success" and t["result"] == "done" and t["attempt"] == 2
    run = run_tasks(xapi, [exec_task("never", ["/bin/sh", "-c", "exit 7"],
                                     retry={"max_retries": 1, "initial_delay_secs": 0})])
    t = ended(xapi, ids(run)["never"])
    assert t["status"] == "failure" and t["attempt"] == 2 and t["error"]["code"] == "exit_7"


def test_timeout_sends_term_then_kill_to_the_whole_group(xapi, tmp_path):
    marker, pidfile, kidfile = tmp_path / "term", tmp_path / "pid", tmp_path / "kid"
    # Ignores TERM (after noting it), and leaves a grandchild that ignores it too.
    script = ("trap 'echo got-term >> %s' TERM; echo $$ > %s; "
              "(trap '' TERM; exec sleep 300) & echo $! > %s; "
              "while :; do sleep 0.05; done") % (marker, pidfile, kidfile)
    started = time.monotonic()
    run = run_tasks(xapi, [exec_task("slow", ["/bin/sh", "-c", script], timeout_secs=1)])
    pid, kid = read_pid(pidfile), read_pid(kidfile)
    t = ended(xapi, ids(run)["slow"])
    took = time.monotonic() - started
    assert t["status"] == "failure" and t["error"]["code"] == "timeout"
    assert took >= 1.3, took                  # the timeout, then the grace before SIGKILL
    assert "got-term" in marker.read_text()   # SIGTERM came first
    wait_for(lambda: not pid_alive(pid) and not pid_alive(kid), desc="the group killed")


def test_grandchildren_die_with_their_task(xapi, tmp_path):
    kidfile = tmp_path / "kid"
    run = run_tasks(xapi, [exec_task("bg", ["/bin/sh", "-c", "sleep 300 & echo $! > %s; echo ok" % kidfile])])
    t = ended(xapi, ids(run)["bg"])
    assert t["status"] == "success" and t["result"] == "ok"
    kid = read_pid(kidfile)
    wait_for(lambda: not pid_alive(kid), desc="the background sleeper killed")


def test_cancel_of_a_running_exec_task_kills_its_group(xapi, tmp_path):
    pidfile, kidfile = tmp_path / "pid", tmp_path / "kid"
    script = "echo $$ > %s; sleep 300 & echo $! > %s; wait" % (pidfile, kidfile)
    run = run_tasks(xapi, [exec_task("long", ["/bin/sh", "-c", script])])
    tid = ids(run)["long"]
    pid, kid = read_pid(pidfile), read_pid(kidfile)
    assert task(xapi, tid)["status"] == "running"
    r = xapi.post("/v1/tasks/%s/cancel" % tid, json={})
    assert r.status_code == 200, r.text
    assert ended(xapi, tid)["status"] == "canceled"
    wait_for(lambda: not pid_alive(pid) and not pid_alive(kid), desc="the group killed")
    # The run's cancel reaches its running child the same way.
    pidfile2 = tmp_path / "pid2"
    run = run_tasks(xapi, [exec_task("long2", ["/bin/sh", "-c", "echo $$ > %s; exec sleep 300" % pidfile2])])
    pid2 = read_pid(pidfile2)
    r = xapi.post("/v1/runs/%s/cancel" % run["id"], json={})
    assert r.status_code == 200, r.text
    assert ended(xapi, ids(run)["long2"])["status"] == "canceled"
    wait_for(lambda: not pid_alive(pid2), desc="the child killed")


def test_a_template_step_runs_as_an_exec_task(xapi):
    r = xapi.post("/v1/templates", json={"name": "greet", "version": "1", "steps": [
        {"ref": "hello", "executor": "exec", "exec": {"argv": ["/bin/echo", "hello"]}},
        {"ref": "after", "queue": "tpl-after", "parents": [{"ref": "hello"}]}]})
    assert r.status_code == 201, r.text
    r = xapi.post("/v1/templates/greet/1/runs", json={"context": {}})
    assert r.status_code == 201, r.text
    run = r.json()
    t = ids(run)
    assert ended(xapi, t["hello"])["result"] == "hello"
    wait_for(lambda: task(xapi, t["after"])["status"] == "pending", desc="the child released")


def test_refused_without_allow_exec(api):
    r = run_tasks(api, [exec_task("x", ["/bin/true"])], expect=400)
    text = r.text
    assert "tasks[0].executor" in text and "--allow-exec" in text
    # Templates are checked by the same decoder when they are created.
    r = api.post("/v1/templates", json={"name": "t", "version": "1", "steps": [
        {"ref": "x", "executor": "exec", "exec": {"argv": ["/bin/true"]}}]})
    assert r.status_code == 400 and "--allow-exec" in r.text, r.text


def test_allow_list_and_spec_bounds(weft_factory, mock):
    from harness import Api
    api = Api(weft_factory.start(args=ALLOW, env={"EXEC_ALLOW": "/bin/echo:true"}), mock)
    r = run_tasks(api, [exec_task("sh", ["/bin/sh", "-c", "id"])], expect=400)
    assert "tasks[0].exec.argv[0]" in r.text and "EXEC_ALLOW" in r.text, r.text
    run = run_tasks(api, [exec_task("ok", ["/bin/echo", "fine"]), exec_task("name", ["true"])])
    assert ended(api, ids(run)["ok"])["result"] == "fine"
    assert ended(api, ids(run)["name"])["status"] == "success"
    bad = [
        (exec_task("a", []), "tasks[0].exec.argv"),
        (exec_task("a", ["/bin/echo"] * 257), "tasks[0].exec.argv"),
        (exec_task("a", ["/bin/echo", "x" * 5000]), "tasks[0].exec.argv[1]"),
        (exec_task("a", ["/bin/echo"], env={"BAD-NAME": "x"}), "tasks[0].exec.env"),
        (exec_task("a", ["/bin/echo"], cwd="relative"), "tasks[0].exec.cwd"),
        (exec_task("a", ["/bin/echo"], timeout_secs=0), "tasks[0].exec.timeout_secs"),
        ({"ref": "a", "executor": "exec"}, "tasks[0].exec"),
        ({"ref": "a", "executor": "exec", "exec": {"argv": ["/bin/echo"], "shell": "id"}}, "tasks[0].exec.shell"),
    ]
    for t, field in bad:
        r = api.post("/v1/runs", json={"tasks": [t]})
        assert r.status_code in (400, 413) and field in r.text, (field, r.status_code, r.text[:300])


def test_kill_9_leaves_no_orphan_and_the_tasks_retry_at_restart(weft_factory, mock, tmp_path):
    from harness import Api
    env = {"WEFT_NODE_ID": "node-a", "EXEC_KILL_GRACE_MS": "300"}
    srv = weft_factory.start(args=ALLOW, env=env)
    api = Api(srv, mock)
    pidfile, kidfile, marker = tmp_path / "pid", tmp_path / "kid", tmp_path / "second"
    # The first attempt hangs, with a background grandchild; the second
    # (after the restart) succeeds.
    script = ("if [ -e {m} ]; then echo second; exit 0; fi; touch {m}; "
              "sleep 300 & echo $! > {k}; echo $$ > {p}; exec sleep 300"
              .format(m=marker, p=pidfile, k=kidfile))
    run = run_tasks(api, [exec_task("t", ["/bin/sh", "-c", script],
                                    retry={"max_retries": 1, "initial_delay_secs": 0})])
    tid = ids(run)["t"]
    pid, kid = read_pid(pidfile), read_pid(kidfile)
    assert task(api, tid)["status"] == "running"
    srv.kill()
    wait_for(lambda: not pid_alive(pid), desc="the child died with the server")
    assert pid_alive(kid)        # a process group outlives its leader
    api = Api(srv.restart(env=env), mock)
    # What the child left in the background is found at the restart.
    wait_for(lambda: not pid_alive(kid), desc="the grandchild killed at the restart")
    t = ended(api, tid)
    assert t["status"] == "success" and t["result"] == "second" and t["attempt"] == 2


def test_kill_9_without_retries_fails_the_task(weft_factory, mock, tmp_path):
    from harness import Api
    env = {"WEFT_NODE_ID": "node-a"}
    srv = weft_factory.start(args=ALLOW, env=env)
    api = Api(srv, mock)
    pidfile = tmp_path / "pid"
    run = run_tasks(api, [exec_task("t", ["/bin/sh", "-c", "echo $$ > %s; exec sleep 300" % pidfile])])
    tid = ids(run)["t"]
    pid = read_pid(pidfile)
    srv.kill()
    wait_for(lambda: not pid_alive(pid), desc="the child died with the server")
    api = Api(srv.restart(env=env), mock)
    t = ended(api, tid)
    assert t["status"] == "failure" and t["error"]["code"] == "server_restarted"


@pytest.mark.postgres_only
def test_a_node_recovers_only_its_own_exec_tasks(weft_factory, mock, tmp_path):
    from harness import Api
    a = weft_factory.start(args=ALLOW, env={"WEFT_NODE_ID": "node-a"})
    api_a = Api(a, mock)
    pidfile = tmp_path / "pid"
    run = run_tasks(api_a, [exec_task("t", ["/bin/sh", "-c", "echo $$ > %s; exec sleep 300" % pidfile])])
    tid = ids(run)["t"]
    pid = read_pid(pidfile)
    b = weft_factory.start(args=ALLOW, env={"WEFT_NODE_ID": "node-b"}, db=a.db)
    api_b = Api(b, mock)
    a.kill()
    wait_for(lambda: not pid_alive(pid), desc="the child died with its node")
    # Node b started after a's task and runs none of it: not its to recover.
    b2 = b.restart(env={"WEFT_NODE_ID": "node-b"})
    api_b = Api(b2, mock)
    stays(lambda: task(api_b, tid)["status"] == "running", desc="the task left running")
    # Node a's restart recovers it.
    Api(a.restart(env={"WEFT_NODE_ID": "node-a"}), mock)
    t = ended(api_b, tid)
    assert t["status"] == "failure" and t["error"]["code"] == "server_restarted"


@pytest.mark.postgres_only
def test_a_cancel_applied_by_another_node_stops_the_child(weft_factory, mock, tmp_path):
    from harness import Api
    a = weft_factory.start(args=ALLOW, env={"WEFT_NODE_ID": "node-a", "EXEC_KILL_GRACE_MS": "300"})
    api_a = Api(a, mock)
    pidfile = tmp_path / "pid"
    run = run_tasks(api_a, [exec_task("t", ["/bin/sh", "-c", "echo $$ > %s; exec sleep 300" % pidfile])])
    tid = ids(run)["t"]
    pid = read_pid(pidfile)
    api_b = Api(weft_factory.start(args=ALLOW, env={"WEFT_NODE_ID": "node-b"}, db=a.db), mock)
    r = api_b.post("/v1/tasks/%s/cancel" % tid, json={})
    assert r.status_code == 200, r.text
    assert ended(api_a, tid)["status"] == "canceled"
    wait_for(lambda: not pid_alive(pid), timeout=5.0, desc="node a stopped its child")


# ---- the lines a child prints are the task's log lines ------------------------------

def log_lines(api, tid):
    """Every stored line of the task, page after page."""
    out, cursor = [], None
    while True:
        q = {"limit": 1000}
        if cursor:
            q["cursor"] = cursor
        r = api.get("/v1/tasks/%s/logs" % tid, params=q)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["lines"]
        if not page["more"]:
            return out
        cursor = page["next_cursor"]


def test_stdout_and_stderr_are_stored_line_by_line(xapi):
    script = ("echo first; echo 'oops 1' >&2; printf 'second\\nthird'; echo ' (same line)'; "
              "echo 'oops 2' >&2; echo '{\"done\": true}'")
    run = run_tasks(xapi, [exec_task("lines", ["/bin/sh", "-c", script])])
    tid = ids(run)["lines"]
    assert ended(xapi, tid)["status"] == "success"
    got = wait_for(lambda: (lambda v: v if len(v) >= 6 else None)(log_lines(xapi, tid)), timeout=10,
                   desc="six lines stored")
    assert len(got) == 6, got
    # Each stream's lines in the order printed, a line cut by a chunk whole;
    # stdout and stderr are two pipes, so only seq orders them together.
    assert [l["text"] for l in got if l["stream"] == "stdout"] == [
        "first", "second", "third (same line)", '{"done": true}']
    assert [l["text"] for l in got if l["stream"] == "stderr"] == ["oops 1", "oops 2"]
    assert [l["seq"] for l in got] == list(range(1, 7))
    assert {l["attempt"] for l in got} == {1}
    assert {l["level"] for l in got if l["stream"] == "stderr"} == {"warn"}
    only_err = xapi.get("/v1/tasks/%s/logs" % tid, params={"stream": "stderr"}).json()["lines"]
    assert [l["text"] for l in only_err] == ["oops 1", "oops 2"]


def test_100k_lines_of_a_burst_are_complete_or_their_drop_recorded(weft_factory, mock):
    """The child writes 100,000 lines as fast as it can. While the task's
    log buffer has no room for a read more, the executor leaves the child's
    pipes unread and the child waits: with the default buffer, as with one
    larger than the burst, every line is stored, in order. A buffer smaller
    than one read (64 KiB, some 9,000 of these lines) takes a read whole
    when it is empty, its oldest lines dropped: the drops are stored as
    system lines "N lines dropped" where the lines were, and every line is
    stored or counted, each in its place."""
    from harness import Api
    n = 100000
    script = 'awk \'BEGIN { for (i = 0; i < %d; i++) printf "%%06d\\n", i }\'' % n
    for buffer_lines in (str(2 * n), None, "1000"):
        env = {"LOG_BUFFER_LINES": buffer_lines} if buffer_lines else {}
        api = Api(weft_factory.start(args=ALLOW, env=env), mock)
        run = run_tasks(api, [exec_task("burst", ["/bin/sh", "-c", script])])
        tid = ids(run)["burst"]
        assert ended(api, tid, timeout=60)["status"] == "success"

        def dropped(line):
            assert line["text"].endswith(" lines dropped"), line
            return int(line["text"].split()[0])

        def stored():
            v = log_lines(api, tid)
            counted = sum(1 if l["stream"] == "stdout" else dropped(l) for l in v)
            return v if counted >= n else None
        got = wait_for(stored, timeout=60, desc="every line stored or counted as dropped")
        assert [l["seq"] for l in got] == list(range(1, len(got) + 1))
        assert {l["stream"] for l in got} <= {"stdout", "system"}
        # Line k printed is stored at its place: after the k lines before it,
        # stored or counted in a drop that stands where they were.
        before = 0
        for l in got:
            if l["stream"] == "stdout":
                assert int(l["text"]) == before, (l, before)
                before += 1
            else:
                before += dropped(l)
        assert before == n
        system = [l for l in got if l["stream"] == "system"]
        if buffer_lines != "1000":
            assert not system
        if buffer_lines == "1000":
            assert system, "a read of 64 KiB overflows a buffer of 1,000 lines"
