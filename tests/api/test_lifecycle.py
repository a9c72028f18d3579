"""Process lifecycle: a SIGTERM or SIGINT during load ends the process
with status 0 within seconds, and every answered request is durable; a
database that cannot be opened stops the start-up with a message naming it
(never its password); a server with nothing to do uses no CPU."""

import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from harness import SANITIZER_MARKERS, Api, free_port, wait_for, weft_bin


def load_then_signal(weft_factory, mock, signum):
    srv = weft_factory.start()
    api = Api(srv, mock)
    mock.on("/start/slow", delay=1.0)
    slow = api.create([api.task("slow")])[0]      # its on_start is in flight during the shutdown
    mock.wait_hits("/start/slow", 1)
    running = api.running("r")
    acked = []
    errors = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n):
        s = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            name = "load-%d-%d" % (n, i)
            try:
                r = s.post(srv.base + "/task", json=[{"id": "x", "name": name, "kind": "load",
                                                       "on_start": {"kind": "Webhook",
                                                                    "params": {"url": mock.url("/start/load"),
                                                                               "verb": "Post"}}}],
                           timeout=10)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    acked.append((r.json()[0]["id"], name))
            elif r.status_code != 503:  # refusing new work while draining is fine
                with lock:
                    errors.append("POST answered %d: %s" % (r.status_code, r.text[:300]))
                return

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 30, timeout=5.0, desc="30 answered POSTs")
    patched = api.patch_task(running["id"], {"status": "Success"})
    assert patched.status_code == 200
    srv.killed = True  # stopped on purpose: not a crash
    t0 = time.monotonic()
    srv.proc.send_signal(signum)
    try:
        code = srv.proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        raise AssertionError("weft still running %.1f s after signal %d" % (time.monotonic() - t0, signum))
    stop.set()
    for t in threads:
        t.join(10)
    assert code == 0, "exit status %s after signal %d\n%s" % (code, signum, srv.log_tail(40))
    assert not errors, errors
    api2 = Api(srv.restart(), mock)
    for tid, name in acked:
        got = api2.get_task(tid)
        assert got["name"] == name
    assert api2.status(running["id"]) == "Success"
    assert api2.status(slow["id"]) in ("Claimed", "Pending", "Running")
    return len(acked)


def test_sigterm_under_load_exits_cleanly(weft_factory, mock):
    assert load_then_signal(weft_factory, mock, signal.SIGTERM) >= 30


def test_sigint_exits_cleanly(weft_factory, mock):
    assert load_then_signal(weft_factory, mock, signal.SIGINT) >= 30


def bad_start(tmp_path, args, extra_env, timeout=5):
    env = {k: v for k, v in os.environ.items() if k not in ("WEFT_DB", "DATABASE_URL")}
    env.update({"HOST_URL": "http://127.0.0.1", "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"})
    env.update(extra_env)
    cmd = [weft_bin(), "serve", "--port", str(free_port())] + args
    try:
        p = subprocess.run(cmd, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("weft kept running with an unusable database (%r)" % (args or extra_env))
    out = p.stdout.decode("utf-8", "replace")
    assert not any(m in out for m in SANITIZER_MARKERS), out
    return p.returncode, out


NOT_A_FILE = "the database is a file path (PostgreSQL: test_unreachable_postgres_*)"


@pytest.mark.sqlite_only(NOT_A_FILE)
def test_database_in_missing_directory_flag(tmp_path):
    bad = str(tmp_path / "missing" / "dir" / "weft.db")
    code, out = bad_start(tmp_path, ["--db", bad], {})
    assert code != 0, out
    assert bad in out, out
    assert not os.path.exists(str(tmp_path / "missing"))


@pytest.mark.sqlite_only(NOT_A_FILE)
def test_database_in_missing_directory_env(tmp_path):
    bad = str(tmp_path / "nowhere" / "weft.db")
    code, out = bad_start(tmp_path, [], {"DATABASE_URL": bad})
    assert code != 0, out
    assert bad in out, out
    assert not os.path.exists(str(tmp_path / "nowhere"))


# A postgres:// URL weft cannot use stops the start-up just as a bad file path
# does, with a message naming the server (and not leaking its password).

@pytest.mark.postgres_only
def test_unreachable_postgres_flag(tmp_path):
    url = "postgres://postgres@127.0.0.1:%d/weft" % free_port()   # nothing listens there
    code, out = bad_start(tmp_path, ["--db", url], {}, timeout=15)
    assert code != 0, out
    assert url in out, out


@pytest.mark.postgres_only
def test_unreachable_postgres_env_hides_password(tmp_path):
    port = free_port()
    url = "postgres://postgres:s3cret-pw@127.0.0.1:%d/weft" % port
    code, out = bad_start(tmp_path, [], {"DATABASE_URL": url}, timeout=15)
    assert code != 0, out
    assert "@127.0.0.1:%d/weft" % port in out, out   # named, password masked or left out
    assert "s3cret-pw" not in out, "the password is printed:\n" + out


@pytest.mark.postgres_only
def test_missing_postgres_database(tmp_path, pg):
    url = pg.url("no_such_database")
    code, out = bad_start(tmp_path, ["--db", url], {}, timeout=15)
    assert code != 0, out
    assert url in out, out


@pytest.mark.postgres_only("a password in the database URL exists only there")
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_postgres_password_not_logged(weft_factory, mock, form):
    """A server that starts and runs with a password in its database URL
    writes that password nowhere in its log, at the most verbose level."""
    secret = "s3cret-%s-pw" % form
    url = weft_factory.new_db()
    assert url.startswith("postgres://postgres@"), url
    if form == "userinfo":
        url = url.replace("postgres://postgres@", "postgres://postgres:%s@" % secret, 1)
    else:
        url += "?password=%s&application_name=weft-test" % secret
    srv = weft_factory.start(db=url, env={"WEFT_LOG": "debug"})
    api = Api(srv, mock)
    api.succeed(api.running("a")["id"])
    assert srv.stop() == []
    log = srv.log_text()
    assert "weft serving on port" in log, log[-3000:]
    assert "127.0.0.1:%d/" % pgcluster_port(url) in log, log[-3000:]   # the database is named
    assert secret not in log, "the password is in the log:\n" + log[-3000:]


def pgcluster_port(url):
    return int(url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_waiting_server_does_not_spin(weft_factory, mock):
    """Nothing polls: a server with nothing due uses
    (almost) no CPU, neither when idle nor while an end webhook is held back
    behind its task's start call that is still in flight."""
    srv = weft_factory.start()
    api = Api(srv, mock)
    mock.on("/start/slow", delay=2.5)
    t = api.create([api.task("slow", on_success=[api.hook("/end/slow")])])[0]
    mock.wait_hits("/start/slow", 1)
    assert api.patch_task(t["id"], {"status": "Success"}).status_code == 200
    before = cpu_seconds(srv.proc.pid)
    time.sleep(1.0)
    held = cpu_seconds(srv.proc.pid) - before
    # a spinning engine burns a whole core: ~1 s here
    assert held < 0.3, "engine busy while waiting for the start call: %.2f s CPU in 1 s" % held
    mock.wait_hits("/end/slow", 1, timeout=5)   # and the end webhook follows the start
    time.sleep(0.3)
    before = cpu_seconds(srv.proc.pid)
    time.sleep(1.0)
    idle = cpu_seconds(srv.proc.pid) - before
    assert idle < 0.3, "idle server used %.2f s CPU in 1 s" % idle
