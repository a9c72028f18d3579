"""Black-box harness for weft's ArcRun-compatible HTTP API.

Three pieces:

* ``Server``: one ``weft serve`` process on a random free port with its own
  database (a SQLite file, or with WEFT_TEST_BACKEND=postgres a fresh
  database of the suite's throwaway PostgreSQL server, see pgcluster.py),
  started with sanitizer-friendly environment, stopped with SIGTERM (SIGKILL
  after a grace period), and its log scanned for sanitizer reports.
* ``MockWebhook``: a threaded HTTP server on 127.0.0.1 that records every
  request and answers per path with a configurable behaviour (status, delay,
  JSON body, Location header), with helpers that wait for hits.
* ``Api``: convenience calls against one server (task fixtures in ArcRun's
  style, status polling, PATCH/PUT shortcuts).

Waiting is always done by polling a condition against a deadline.
"""

import json
import os
import re
import signal
import socket
import shutil
import subprocess
import tempfile
import threading
import time
import contextlib
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

import pgcluster

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "weft")

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?Z$")

STATUSES = ("Waiting", "Pending", "Claimed", "Running", "Failure", "Success", "Paused", "Canceled")
TERMINAL = ("Success", "Failure", "Canceled")

TASK_DTO_KEYS = (
    "id", "name", "kind", "status", "timeout", "rules", "metadata", "actions",
    "created_at", "started_at", "ended_at", "last_updated", "success", "failures",
    "expected_count", "failure_reason", "batch_id", "dead_end_barrier", "priority",
)
BASIC_TASK_DTO_KEYS = (
    "id", "name", "kind", "status", "created_at", "started_at", "success", "failures",
    "expected_count", "ended_at", "batch_id", "dead_end_barrier", "priority",
)
STATUS_COUNT_KEYS = ("waiting", "pending", "claimed", "running", "success", "failure", "paused", "canceled")
# status_counts also says how many of the pending tasks wait for a retry
# (state "retrying", shown with status Pending)
RETRY_COUNT_KEY = "retrying"

# Storage backend of the servers the tests start: "sqlite" (a file per
# server) or "postgres" (a database per server in pgcluster's cluster).
BACKENDS = ("sqlite", "postgres")
BACKEND = os.environ.get("WEFT_TEST_BACKEND") or "sqlite"

# Default per-request timeout for the client (seconds).
HTTP_TIMEOUT = float(os.environ.get("WEFT_TEST_HTTP_TIMEOUT", "20"))
# How long a server may take to exit after SIGTERM before SIGKILL.
STOP_TIMEOUT = float(os.environ.get("WEFT_TEST_STOP_TIMEOUT", "10"))


def parse_ts(s):
    """RFC 3339 'YYYY-MM-DDTHH:MM:SS[.fff…]Z' -> float seconds since the epoch."""
    import calendar
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$", s)
    assert m, "not an RFC 3339 UTC timestamp: %r" % (s,)
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = float(m.group(7)) if m.group(7) else 0.0
    return calendar.timegm((y, mo, d, h, mi, sec)) + frac


def pg_log_tail(lines=30):
    """The end of the PostgreSQL server's log, when the suite runs one."""
    if BACKEND != "postgres" or not pgcluster.started():
        return ""
    return "\n---- PostgreSQL log (last %d lines) ----\n%s" % (lines, pgcluster.cluster().log_tail(lines))


def weft_bin():
    # absolute: servers run in the test's directory
    return os.path.abspath(os.environ.get("WEFT_BIN") or DEFAULT_BIN)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url(path="/nobody"):
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    return "http://127.0.0.1:%d%s" % (free_port(), path)


# ---------------------------------------------------------------------------
# waiting


class WaitTimeout(AssertionError):
    pass


def wait_for(pred, timeout=3.0, interval=0.02, desc="condition"):
    """Polls pred() until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout("timed out after %.1fs waiting for %s (last: %r)" % (timeout, desc, last))
        time.sleep(interval)


def stays(pred, duration=0.5, interval=0.05, desc="condition"):
    """Asserts pred() stays truthy for `duration` seconds."""
    deadline = time.monotonic() + duration
    while True:
        v = pred()
        if not v:
            raise AssertionError("%s stopped holding (got %r)" % (desc, v))
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------------------
# routes exercised by the suite

# Every (method, path template) the suite sends requests to. test_openapi.py
# checks that the OpenAPI document describes each of them; the harness
# records every request that reached a route (any answer but 404/405) and
# conftest.py fails the session if one is missing from this list, so it
# cannot fall behind the tests.
EXERCISED_ROUTES = frozenset({
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/api-docs/openapi.json"),
    ("POST", "/task"),
    ("GET", "/task"),
    ("GET", "/task/{id}"),
    ("PATCH", "/task/{id}"),
    ("PUT", "/task/{id}"),
    ("DELETE", "/task/{id}"),
    ("GET", "/task/{id}/events"),
    ("PATCH", "/task/pause/{id}"),
    ("PATCH", "/task/resume/{id}"),
    ("GET", "/batch/{id}"),
    ("DELETE", "/batch/{id}"),
    ("PATCH", "/batch/{id}/rules"),
    ("GET", "/batch/{id}/critical-path"),
    ("GET", "/batches"),
    ("GET", "/dag/{id}"),
    ("GET", "/webhook-deliveries"),
    ("DELETE", "/group/{group}"),
    ("PATCH", "/group/{group}/pause"),
    ("PATCH", "/group/{group}/resume"),
    # the web UI's page and files (described by /api-docs/openapi.json)
    ("GET", "/ui"),
    ("GET", "/ui/"),
    ("GET", "/ui/{file}"),
    ("GET", "/ui/assets/{file}"),
    ("GET", "/assets/{file}"),
    ("GET", "/view"),
    ("GET", "/icon.png"),
    ("GET", "/favicon.ico"),
    # /v1 (described by /v1/openapi.json)
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/tasks"),
    ("GET", "/v1/tasks/{id}"),
    ("GET", "/v1/tasks/{id}/events"),
    ("GET", "/v1/tasks/{id}/logs"),
    ("POST", "/v1/jobs/{id}/logs"),
    ("GET", "/v1/logs"),
    ("GET", "/v1/changes"),
    ("GET", "/v1/tasks/{id}/deliveries"),
    ("GET", "/v1/metrics/history"),
    ("GET", "/v1/runs/{id}/graph"),
    ("GET", "/v1/runs/{id}/critical-path"),
    ("PATCH", "/v1/runs/{id}/rules"),
    ("POST", "/v1/jobs"),
    ("POST", "/v1/jobs/claim"),
    ("POST", "/v1/jobs/heartbeat"),
    ("POST", "/v1/jobs/complete"),
    ("POST", "/v1/jobs/fail"),
    ("POST", "/v1/jobs/release"),
    ("POST", "/v1/jobs/{id}/complete"),
    ("POST", "/v1/jobs/{id}/fail"),
    # /v1 operator actions, dead letters, workers
    ("POST", "/v1/tasks/{id}/retry"),
    ("POST", "/v1/tasks/{id}/reset"),
    ("POST", "/v1/tasks/{id}/resolve"),
    ("POST", "/v1/tasks/{id}/cancel"),
    ("POST", "/v1/tasks/{id}/pause"),
    ("POST", "/v1/tasks/{id}/resume"),
    ("GET", "/v1/dead-letters"),
    ("GET", "/v1/dead-letters/{id}"),
    ("POST", "/v1/dead-letters/requeue"),
    ("GET", "/v1/workers"),
    ("GET", "/v1/workers/{id}"),
    ("POST", "/v1/workers/{id}/drain"),
    ("POST", "/v1/runs"),
    ("GET", "/v1/runs"),
    ("GET", "/v1/runs/{id}"),
    ("GET", "/v1/runs/{id}/tasks"),
    ("POST", "/v1/runs/{id}/cancel"),
    ("POST", "/v1/runs/{id}/pause"),
    ("POST", "/v1/runs/{id}/resume"),
    ("POST", "/v1/tasks/{id}/complete"),
    ("POST", "/v1/tasks/{id}/fail"),
    ("GET", "/v1/queues"),
    ("GET", "/v1/queues/{name}"),
    ("PATCH", "/v1/queues/{name}"),
    ("POST", "/v1/queues/{name}/pause"),
    ("POST", "/v1/queues/{name}/resume"),
    ("GET", "/v1/tokens"),
    ("POST", "/v1/tokens"),
    ("GET", "/v1/tokens/{name}"),
    ("DELETE", "/v1/tokens/{name}"),
    ("GET", "/v1/whoami"),
    ("GET", "/v1/audit"),
    ("POST", "/v1/templates"),
    ("GET", "/v1/templates"),
    ("GET", "/v1/templates/{name}/{version}"),
    ("POST", "/v1/templates/{name}/{version}/runs"),
    ("POST", "/v1/schedules"),
    ("GET", "/v1/schedules"),
    ("GET", "/v1/schedules/{name}"),
    ("DELETE", "/v1/schedules/{name}"),
    ("POST", "/v1/schedules/{name}/pause"),
    ("POST", "/v1/schedules/{name}/resume"),
    ("POST", "/v1/schedules/{name}/trigger"),
    ("POST", "/v1/hooks"),
    ("GET", "/v1/hooks"),
    ("GET", "/v1/hooks/{name}"),
    ("DELETE", "/v1/hooks/{name}"),
    ("POST", "/v1/hooks/{name}"),
    ("POST", "/v1/hooks/{name}/rotate"),
    ("POST", "/v1/events"),
    ("GET", "/v1/events"),
    ("GET", "/v1/events/{id}"),
    ("POST", "/v1/subscriptions"),
    ("GET", "/v1/subscriptions"),
    ("GET", "/v1/subscriptions/{name}"),
    ("DELETE", "/v1/subscriptions/{name}"),
    ("POST", "/v1/workflows"),
    ("GET", "/v1/workflows"),
    ("GET", "/v1/workflows/{id}"),
    ("GET", "/v1/workflows/by-key/{key}"),
    ("GET", "/v1/workflows/{id}/steps"),
    ("POST", "/v1/workflows/{id}/cancel"),
    ("POST", "/v1/workflows/{id}/terminate"),
    ("POST", "/v1/workflows/{id}/retry"),
    ("POST", "/v1/workflows/{id}/signals"),
    ("POST", "/v1/workflows/{id}/wait-signal"),
    ("POST", "/v1/workflows/{id}/steps/begin"),
    ("POST", "/v1/workflows/{id}/steps/complete"),
    ("POST", "/v1/workflows/{id}/steps/fail"),
    ("POST", "/v1/workflows/{id}/sleep"),
    ("POST", "/v1/workflows/{id}/complete"),
    ("POST", "/v1/workflows/{id}/fail"),
})

_recorded_routes = set()
_recorded_lock = threading.Lock()


def route_template(path):
    """'/task/<uuid>/events?x' -> '/task/{id}/events'; '/group/g1/pause' ->
    '/group/{group}/pause'."""
    segs = path.split("?", 1)[0].split("/")
    out = []
    for i, seg in enumerate(segs):
        if UUID_RE.match(seg):
            out.append("{id}")
        elif i == 2 and segs[1] == "group":
            out.append("{group}")
        elif seg and i == len(segs) - 1 and (segs[1:3] == ["ui", "assets"] and i == 3 or
                                              segs[1] in ("ui", "assets") and i == 2):
            out.append("{file}")
        elif i == 3 and segs[1:3] == ["v1", "workers"]:
            out.append("{id}")
        elif i == 3 and segs[1:3] in (["v1", "queues"], ["v1", "tokens"], ["v1", "schedules"], ["v1", "hooks"],
                                      ["v1", "subscriptions"]):
            out.append("{name}")
        elif i == 3 and segs[1:3] == ["v1", "events"]:
            out.append("{id}")
        elif i == 3 and segs[1:3] == ["v1", "templates"]:
            out.append("{name}")
        elif i == 4 and segs[1:3] == ["v1", "templates"]:
            out.append("{version}")
        elif i == 4 and segs[1:4] == ["v1", "workflows", "by-key"]:
            out.append("{key}")
        else:
            out.append(seg)
    return "/".join(out)


def record_route(method, path, status):
    if status in (404, 405):
        return
    with _recorded_lock:
        _recorded_routes.add((method.upper(), route_template(path)))


def recorded_routes():
    with _recorded_lock:
        return set(_recorded_routes)


def openapi_template(path):
    """'/task/{task_id}' and '/task/{id}' both -> '/task/{}'."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


# ---------------------------------------------------------------------------
# server process


class Server:
    """One weft process. Use ServerFactory to create it."""

    def __init__(self, factory, db, env, port, log_path, args):
        self.factory = factory
        self.db = db              # what --db gets: a file path or a postgres:// URL
        self.env_overrides = dict(env)
        self.port = port
        self.log_path = log_path
        self.args = list(args)
        self.proc = None
        self.killed = False       # stopped on purpose (kill -9 / stop)
        self.stopped = False
        self.base = "http://127.0.0.1:%d" % port
        self.host_url = self.base
        self.session = requests.Session()
        # The test-only clock control socket (WEFT_TEST_CLOCK_SOCKET); see advance().
        self.clock_path = os.path.join(factory.clock_dir(), "%d.sock" % port)

    # -- process control --------------------------------------------------

    def _env(self):
        env = dict(os.environ)
        for k in ("DATABASE_URL", "WEFT_DB", "AUTH_TOKEN", "WEFT_TOKENS", "WEFT_TOKENS_FILE", "PORT", "HOST_URL", "PAYLOAD_MAX_BYTES",
                  "SKIP_SSRF_VALIDATION", "WORKER_CLAIM_TIMEOUT_SECS", "WORKER_WEBHOOK_CONCURRENCY"):
            env.pop(k, None)
        env.update({
            "HOST_URL": self.host_url,
            "SKIP_SSRF_VALIDATION": "1",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
            "WEFT_TEST_CLOCK_SOCKET": self.clock_path,
        })
        for k, v in self.env_overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def start(self):
        binary = weft_bin()
        if not os.path.exists(binary):
            raise AssertionError("weft binary not found at %s (build it, or set WEFT_BIN)" % binary)
        cmd = [binary, "serve", "--port", str(self.port), "--db", self.db] + self.args
        logf = open(self.log_path, "ab")
        try:
            # A binary being relinked at this instant cannot be executed
            # (EACCES/ETXTBSY): retry briefly.
            give_up = time.monotonic() + 5.0
            while True:
                try:
                    self.proc = subprocess.Popen(cmd, env=self._env(), stdout=logf, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL, cwd=self.factory.tmpdir)
                    break
                except OSError:
                    if time.monotonic() >= give_up:
                        raise
                    time.sleep(0.1)
        finally:
            logf.close()
        deadline = time.monotonic() + 10.0
        while True:
            if self.proc.poll() is not None:
                raise ServerStartError("weft exited with code %s before answering /health\n%s%s"
                                       % (self.proc.returncode, self.log_tail(), pg_log_tail()))
            try:
                # Another process may answer on this port for a moment (the
                # port was free when chosen, not reserved): ready only once
                # this process listens on it itself.
                if self._listens() and self.session.get(self.base + "/health", timeout=1.0).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError("weft did not answer GET /health within 10 s\n%s" % self.log_tail())
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _listens(self):
        """Whether this server's process holds a listening TCP socket on
        self.port (its descriptors' socket inodes against /proc/net/tcp*)."""
        inodes = set()
        fd_dir = "/proc/%d/fd" % self.proc.pid
        try:
            for fd in os.listdir(fd_dir):
                try:
                    target = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            return False
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        cols = line.split()
                        port = int(cols[1].rsplit(":", 1)[1], 16)
                        if port == self.port and cols[3] == "0A" and cols[9] in inodes:
                            return True
            except OSError:
                continue
        return False

    def advance(self, secs):
        """Moves this server's clock forward by `secs` and returns once its
        engine has run a cycle at the new time: deadlines due by then
        (timeouts, retry backoffs, delivery retries, stale claims) have
        fired. The server's timestamps run ahead of the test's clock by the
        total advanced."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(HTTP_TIMEOUT)
            s.connect(self.clock_path)
            s.sendall(b"advance %d\n" % int(round(secs * 1e6)))
            reply = s.makefile("rb").readline().decode().strip()
        assert reply == "ok", "clock advance: %r" % reply

    def kill(self):
        """kill -9."""
        self.killed = True
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after `timeout`. Returns a list of problems."""
        problems = []
        if self.proc is None or self.stopped:
            return problems
        self.stopped = True
        if self.proc.poll() is not None:
            if not self.killed:
                problems.append("weft exited unexpectedly during the test (exit code %s)" % self.proc.returncode)
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
                problems.append("weft did not exit within %.0f s of SIGTERM (killed)" % timeout)
        self.session.close()
        return problems

    def restart(self, env=None, args=None, same_port=False):
        """Starts a new process on the same database (the same file or
        PostgreSQL URL; the old process is stopped with SIGTERM if it still
        runs). Returns the new Server."""
        if self.alive():
            probs = self.stop()
            self.factory.problems.extend(probs)
        merged = dict(self.env_overrides)
        if env:
            merged.update(env)
        return self.factory.start(env=merged, args=self.args if args is None else args,
                                  db=self.db, port=self.port if same_port else None)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=200):
        text = self.log_text().splitlines()
        return "---- %s (last %d lines) ----\n%s" % (self.log_path, min(lines, len(text)), "\n".join(text[-lines:]))

    # -- HTTP ---------------------------------------------------------------

    def url(self, path):
        return self.base + path

    def request(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        r = self.session.request(method, self.base + path, **kw)
        record_route(method, path, r.status_code)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class ServerStartError(AssertionError):
    pass


@contextlib.contextmanager
def mock_webhook():
    """A MockWebhook, closed on the way out (the suites' ``mock`` fixture)."""
    m = MockWebhook()
    try:
        yield m
    finally:
        m.close()


@contextlib.contextmanager
def server_factory(tmpdir, mock):
    """A ServerFactory whose servers are stopped on the way out; their
    problems (a crash, a sanitizer report) fail the test (the suites'
    ``weft_factory`` fixture)."""
    factory = ServerFactory(tmpdir, mock)
    yield factory
    problems = factory.teardown()
    if problems:
        import pytest
        pytest.fail("server problems:\n" + "\n\n".join(problems), pytrace=False)


class ServerFactory:
    """Creates servers for one test; stops and checks them at teardown."""

    def __init__(self, tmpdir, mock=None):
        self.tmpdir = str(tmpdir)
        self.mock = mock
        self.servers = []
        self.problems = []
        self.pg_databases = []    # PostgreSQL databases made for this test (dropped at teardown)
        self._n = 0
        self._dbs = 0
        self._torn_down = False
        self._clock_dir = None

    def clock_dir(self):
        """A short directory for the servers' clock sockets (a Unix socket
        path must stay under 108 bytes, which the test's own may not)."""
        if self._clock_dir is None:
            self._clock_dir = tempfile.mkdtemp(prefix="weftclk-")
        return self._clock_dir

    def new_db(self):
        """A fresh, empty database for a server, as `--db` takes it: a file
        in the test's directory (weft.db, then weft-2.db, …), or on
        PostgreSQL the URL of a new database."""
        self._dbs += 1
        if BACKEND == "postgres":
            cluster = pgcluster.cluster()
            name = cluster.create_database()
            self.pg_databases.append(name)
            return cluster.url(name)
        return os.path.join(self.tmpdir, "weft.db" if self._dbs == 1 else "weft-%d.db" % self._dbs)

    def start(self, env=None, args=(), db=None, port=None):
        """Starts a server on `db` (default: a fresh database, see new_db;
        pass another server's `db` to share its database)."""
        env = dict(env or {})
        if db is None:
            db = self.new_db()
        last_err = None
        for _attempt in range(3):
            self._n += 1
            p = port or free_port()
            log_path = os.path.join(self.tmpdir, "weft-%d.log" % self._n)
            srv = Server(self, db, env, p, log_path, args)
            self.servers.append(srv)
            try:
                return srv.start()
            except ServerStartError as e:
                # Most likely the port was taken meanwhile; try another one
                # (only when the port was not imposed).
                srv.stopped = True
                last_err = e
                if port is not None:
                    # the previous process may still hold the port briefly
                    time.sleep(0.2)
        raise last_err

    def teardown(self):
        """Stops every server and returns the problems found (each only once)."""
        if self._torn_down:
            return []
        self._torn_down = True
        if self.mock is not None:
            self.mock.release()
        problems = list(self.problems)
        for srv in self.servers:
            for p in srv.stop():
                problems.append("%s: %s" % (srv.log_path, p))
        if self._clock_dir is not None:
            shutil.rmtree(self._clock_dir, ignore_errors=True)
        if self.pg_databases and pgcluster.started():
            cluster = pgcluster.cluster()
            for name in self.pg_databases:
                try:
                    cluster.drop_database(name)
                except Exception:   # e.g. the server was left stopped: the cluster goes anyway
                    pass
        for srv in self.servers:
            text = srv.log_text()
            if any(m in text for m in SANITIZER_MARKERS):
                problems.append("sanitizer report in %s:\n%s" % (srv.log_path, text[-60000:]))
        if problems and not any(m in p for p in problems for m in SANITIZER_MARKERS):
            for srv in self.servers:
                problems.append(srv.log_tail(80))
        return problems

    def log_tails(self, lines=60):
        return "\n".join(srv.log_tail(lines) for srv in self.servers)


# ---------------------------------------------------------------------------
# mock webhook server


@dataclass
class Behaviour:
    status: int = 200
    delay: object = 0.0          # seconds, or a callable returning them (drawn per request)
    json: object = None
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    location: str = None


@dataclass
class Hit:
    method: str
    path: str
    query: str
    headers: list
    body: bytes
    time: float                  # arrival (time.monotonic())
    answered: float = None       # when the answer was written (None: not yet, or the client left)

    @property
    def params(self):
        return urllib.parse.parse_qs(self.query, keep_blank_values=True)

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until blank line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        mock = self.server.mock
        body = self._read_body()
        parsed = urllib.parse.urlsplit(self.path)
        hit = Hit(self.command, parsed.path, parsed.query, list(self.headers.items()), body, time.monotonic())
        beh = mock._record(hit)
        delay = beh.delay() if callable(beh.delay) else beh.delay
        if delay:
            mock._release.wait(delay)
        payload = beh.body
        headers = dict(beh.headers)
        if beh.json is not None:
            payload = json.dumps(beh.json).encode()
            headers.setdefault("Content-Type", "application/json")
        if beh.location:
            headers["Location"] = beh.location
        try:
            self.send_response(beh.status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            return
        hit.answered = time.monotonic()
        callback = mock.on_answer
        if callback is not None:
            callback(hit)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _MockHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class MockWebhook:
    """Records requests; answers per path (default: 200, empty body)."""

    def __init__(self, host="127.0.0.1"):
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._routes = {}
        self._hits = []
        self._release = threading.Event()
        self.on_answer = None    # callable(hit), run after each answer is written
        self.httpd = _MockHTTPServer((host, 0), _Handler)
        self.httpd.mock = self
        self.port = self.httpd.server_address[1]
        self.host = host if host != "0.0.0.0" else "127.0.0.1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def on(self, path, *behaviours, **kw):
        """Sets the answer for `path`. With several behaviours, they are used
        one per request in order, the last one repeating."""
        if not behaviours:
            behaviours = (Behaviour(**kw),)
        with self._lock:
            self._routes[path] = list(behaviours)
        return self.url(path)

    def _record(self, hit):
        with self._cond:
            self._hits.append(hit)
            seq = self._routes.get(hit.path)
            if not seq:
                beh = Behaviour()
            elif len(seq) > 1:
                beh = seq.pop(0)
            else:
                beh = seq[0]
            self._cond.notify_all()
            return beh

    def hits(self, path=None):
        with self._lock:
            return [h for h in self._hits if path is None or h.path == path]

    def count(self, path=None):
        return len(self.hits(path))

    def wait_hits(self, path, n=1, timeout=3.0):
        """Waits until `path` received at least n requests; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [h for h in self._hits if h.path == path]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout("timed out after %.1fs waiting for %d hit(s) on %s (got %d; all paths: %s)"
                                      % (timeout, n, path, len(got), sorted({h.path for h in self._hits})))
                self._cond.wait(min(left, 0.05))

    def release(self):
        """Ends every pending delay at once (used at teardown)."""
        self._release.set()

    def close(self):
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------
# API convenience


def webhook(url, verb="Post", body=None, headers=None):
    params = {"url": url, "verb": verb}
    if body is not None:
        params["body"] = body
    if headers is not None:
        params["headers"] = headers
    return {"kind": "Webhook", "params": params}


class Hold:
    """A running 'gate' task holding a concurrency slot: tasks created with
    hold.kw() stay Pending until the gate ends."""

    def __init__(self, api, kind, lane):
        self.api = api
        self.kind = kind
        self.lane = lane
        self.rules = [{"type": "Concurency", "max_concurency": 1,
                       "matcher": {"kind": kind, "status": "Running", "fields": ["lane"]}}]
        gate = api.create([api.task("gate-" + lane, kind=kind, rules=self.rules, metadata={"lane": lane})])[0]
        self.gate_id = gate["id"]
        api.wait_status(self.gate_id, "Running")

    def kw(self, **metadata):
        md = {"lane": self.lane}
        md.update(metadata)
        return {"kind": self.kind, "rules": self.rules, "metadata": md}

    def release(self):
        self.api.succeed(self.gate_id)


class Api:
    def __init__(self, server, mock):
        self.server = server
        self.mock = mock
        self._holds = 0

    def advance(self, secs):
        """The server's clock moves `secs` forward (Server.advance)."""
        self.server.advance(secs)

    # raw HTTP passthrough
    def get(self, path, **kw):
        return self.server.get(path, **kw)

    def post(self, path, **kw):
        return self.server.post(path, **kw)

    def patch(self, path, **kw):
        return self.server.patch(path, **kw)

    def put(self, path, **kw):
        return self.server.put(path, **kw)

    def delete(self, path, **kw):
        return self.server.delete(path, **kw)

    # fixtures
    def hook(self, path, verb="Post", **kw):
        return webhook(self.mock.url(path), verb=verb, **kw)

    def task(self, id, name=None, kind="test", start=None, deps=(), **kw):
        """A task with the suite's defaults: timeout 60, metadata {"test": true}, on_start to
        the mock at /start/<id> (or `start`: a mock path starting with '/', or any URL). deps is a
        list of local ids (requires_success true) or (id, requires_success)."""
        if start is None:
            start = "/start/" + id
        url = self.mock.url(start) if start.startswith("/") else start
        t = {
            "id": id,
            "name": name if name is not None else "task-" + id,
            "kind": kind,
            "timeout": 60,
            "metadata": {"test": True},
            "on_start": webhook(url),
        }
        if deps:
            t["dependencies"] = [
                {"id": d, "requires_success": True} if isinstance(d, str)
                else {"id": d[0], "requires_success": d[1]}
                for d in deps
            ]
        for k, v in kw.items():
            if v is _DROP:
                t.pop(k, None)
            else:
                t[k] = v
        return t

    def create_raw(self, body, **kw):
        return self.server.post("/task", json=body, **kw)

    def create(self, tasks, expect=201):
        r = self.server.post("/task", json=tasks)
        assert r.status_code == expect, "POST /task: expected %d, got %d: %s" % (expect, r.status_code, r.text[:2000])
        if expect == 201:
            return r.json()
        return r

    def create_batch(self, tasks):
        """Returns (batch_id, {local_id: task_dto})."""
        r = self.server.post("/task", json=tasks)
        assert r.status_code == 201, "POST /task: expected 201, got %d: %s" % (r.status_code, r.text[:2000])
        created = r.json()
        bid = r.headers.get("X-Batch-ID")
        assert bid, "X-Batch-ID header missing"
        by_name = {t["name"]: t for t in created}
        out = {}
        for t in tasks:
            if t["name"] in by_name:
                out[t["id"]] = by_name[t["name"]]
        return bid, out

    def get_task(self, uuid):
        r = self.server.get("/task/" + uuid)
        assert r.status_code == 200, "GET /task/%s: %d %s" % (uuid, r.status_code, r.text[:500])
        return r.json()

    def status(self, uuid):
        return self.get_task(uuid)["status"]

    def wait_status(self, uuid, status, timeout=3.0):
        want = (status,) if isinstance(status, str) else tuple(status)
        seen = {}

        def check():
            t = self.get_task(uuid)
            seen["t"] = t
            return t if t["status"] in want else None

        try:
            return wait_for(check, timeout=timeout, desc="task %s to be %s" % (uuid, "/".join(want)))
        except WaitTimeout:
            t = seen.get("t") or {}
            raise WaitTimeout("task %s (%s) did not reach %s within %.1fs; status %s, failure_reason %r"
                              % (uuid, t.get("name"), "/".join(want), timeout, t.get("status"),
                                 t.get("failure_reason")))

    def wait_state(self, uuid, state, timeout=3.0):
        """Waits for the task's precise state ("retrying", "running", …)."""
        seen = {}

        def check():
            t = self.get_task(uuid)
            seen["t"] = t
            return t if t["state"] == state else None

        try:
            return wait_for(check, timeout=timeout, desc="task %s to be %s" % (uuid, state))
        except WaitTimeout:
            raise WaitTimeout("task %s did not reach state %s within %.1fs; state %s"
                              % (uuid, state, timeout, (seen.get("t") or {}).get("state")))

    def stays_status(self, uuid, status, duration=0.5):
        return stays(lambda: self.status(uuid) == status, duration=duration,
                     desc="task %s staying %s" % (uuid, status))

    def running(self, id="t", **kw):
        """Creates one task and waits until it is Running; returns its DTO."""
        t = self.create([self.task(id, **kw)])[0]
        return self.wait_status(t["id"], "Running")

    def hold(self, lane=None, kind="held"):
        self._holds += 1
        return Hold(self, kind, lane or "lane-%d" % self._holds)

    def patch_task(self, uuid, body):
        return self.server.patch("/task/" + uuid, json=body)

    def succeed(self, uuid, **kw):
        body = {"status": "Success"}
        body.update(kw)
        r = self.patch_task(uuid, body)
        assert r.status_code == 200, "PATCH Success %s: %d %s" % (uuid, r.status_code, r.text[:500])
        return r

    def fail(self, uuid, reason="boom", **kw):
        body = {"status": "Failure", "failure_reason": reason}
        body.update(kw)
        r = self.patch_task(uuid, body)
        assert r.status_code == 200, "PATCH Failure %s: %d %s" % (uuid, r.status_code, r.text[:500])
        return r

    def cancel(self, uuid):
        return self.server.delete("/task/" + uuid)

    def pause(self, uuid):
        return self.server.patch("/task/pause/" + uuid)

    def resume(self, uuid):
        return self.server.patch("/task/resume/" + uuid)

    def counters(self, uuid, s=0, f=0):
        body = {}
        if s:
            body["new_success"] = s
        if f:
            body["new_failures"] = f
        return self.server.put("/task/" + uuid, json=body)

    def list_tasks(self, **params):
        r = self.server.get("/task", params=params)
        assert r.status_code == 200, "GET /task %r: %d %s" % (params, r.status_code, r.text[:500])
        return r.json()

    def dag(self, bid):
        r = self.server.get("/dag/" + bid)
        assert r.status_code == 200, r.text
        return r.json()

    def metrics(self):
        r = self.server.get("/metrics")
        assert r.status_code == 200, r.text[:500]
        return parse_prometheus(r.text)

    # outbox, audit trail
    def deliveries(self, status=None):
        """Every row of GET /webhook-deliveries (all pages), newest first."""
        out = []
        page = 0
        while True:
            params = {"page": page, "page_size": 100}
            if status is not None:
                params["status"] = status
            r = self.server.get("/webhook-deliveries", params=params)
            assert r.status_code == 200, "GET /webhook-deliveries %r: %d %s" % (params, r.status_code,
                                                                                 r.text[:500])
            rows = r.json()
            assert isinstance(rows, list), rows
            out.extend(rows)
            if len(rows) < 100:
                return out
            page += 1

    def delivery(self, key):
        """The delivery with this Idempotency-Key, or None."""
        rows = [d for d in self.deliveries() if d["idempotency_key"] == key]
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def wait_delivery(self, key, status, timeout=3.0):
        seen = {}

        def check():
            d = self.delivery(key)
            seen["d"] = d
            return d if d is not None and d["status"] == status else None

        try:
            return wait_for(check, timeout=timeout, desc="delivery %s to be %s" % (key, status))
        except WaitTimeout:
            raise WaitTimeout("delivery %s did not become %s within %.1fs; last: %r"
                              % (key, status, timeout, seen.get("d")))

    def events(self, uuid):
        r = self.server.get("/task/%s/events" % uuid)
        assert r.status_code == 200, "GET /task/%s/events: %d %s" % (uuid, r.status_code, r.text[:500])
        return r.json()

    def actions(self, uuid, trigger=None, url=None):
        """The task's actions (GET /task/{id}), optionally of one trigger and URL."""
        return [a for a in self.get_task(uuid)["actions"]
                if (trigger is None or a["trigger"] == trigger) and (url is None or a["params"]["url"] == url)]


_DROP = object()
DROP = _DROP  # pass as a field value to remove that field from task()


# ---------------------------------------------------------------------------
# Prometheus text


_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """Returns a list of (name, {labels}, value)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = dict(_LABEL_RE.findall(m.group(3) or ""))
        v = m.group(4)
        value = float("inf") if v == "+Inf" else float(v)
        out.append((m.group(1), labels, value))
    return out


def metric(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for n, ls, v in samples:
        if n == name and all(ls.get(k) == val for k, val in labels.items()):
            total += v
    return total


def metric_names(samples):
    return {n for n, _, _ in samples}


# ---------------------------------------------------------------------------
# raw HTTP (for bodies a server may refuse before reading them)


def read_until_close(sock):
    """Everything the server sends on sock until it closes the connection
    (or, when the socket has a timeout, until that passes without data)."""
    chunks = []
    while True:
        try:
            c = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not c:
            break
        chunks.append(c)
    return b"".join(chunks)


def raw_request(port, method, path, body, headers=None, timeout=10.0):
    """Sends a request over a plain socket while reading the answer
    concurrently, so an early answer (e.g. 413) is seen even if the server
    stops reading. Returns (status, body_bytes); status None if the
    connection closed without an answer."""
    hdrs = {"Host": "127.0.0.1:%d" % port, "Content-Type": "application/json",
            "Content-Length": str(len(body)), "Connection": "close"}
    hdrs.update(headers or {})
    head = "%s %s HTTP/1.1\r\n%s\r\n\r\n" % (method, path, "\r\n".join("%s: %s" % kv for kv in hdrs.items()))
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    received = []

    def reader():
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received.append(chunk)
        except OSError:
            pass

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        sock.sendall(head.encode() + body)
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    t.join(timeout)
    sock.close()
    data = b"".join(received)
    if not data:
        return None, b""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    if not m:
        return None, data
    _, _, rest = data.partition(b"\r\n\r\n")
    return int(m.group(1)), rest
