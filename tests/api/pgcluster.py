"""A throwaway PostgreSQL server for the API suite (WEFT_TEST_BACKEND=postgres).

One cluster per pytest process (each xdist worker has its own), started on
first use: ``cluster()`` runs initdb into a fresh temporary directory, starts
the server on a random free port of 127.0.0.1 (trust authentication,
superuser ``postgres``, durability knobs off) and keeps one admin connection
open to create a database per weft server.

The cluster is stopped (``pg_ctl stop -m immediate``) and its directory
removed at the end of the session (``shutdown()``, called from conftest.py's
hooks and from atexit). A watchdog process started with the cluster does the
same if the pytest process dies without running either (SIGKILL, SIGTERM).

From the command line, ``pgcluster.py run -- CMD ARGS...`` runs CMD with
WEFT_TEST_PG_URL set to such a server's ``postgres`` database (the unit
tests of the store create their databases through it) and stops the server
when CMD ends, whatever way it ends; its exit status is CMD's. When
WEFT_TEST_PG_URL is set already, CMD runs against that server instead.

The server binaries come from Debian's packages (/usr/lib/postgresql/*/bin);
when they or psycopg2 are missing, scripts/deps.sh installs them (as root;
otherwise it names the packages to install and the suite stops).
"""

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPS_SCRIPT = os.path.join(REPO_ROOT, "scripts", "deps.sh")
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "64MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] %d '",
}


class PgError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# packages


_deps_ran = False


def _run_deps(why):
    """Runs scripts/deps.sh once (it installs the missing Debian packages as
    root, or names them and fails otherwise)."""
    global _deps_ran
    if _deps_ran:
        return
    _deps_ran = True
    p = subprocess.run([DEPS_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise PgError("%s, and scripts/deps.sh could not install it (exit %d):\n%s"
                      % (why, p.returncode, p.stdout.decode("utf-8", "replace")))


def _version_key(path):
    v = path.split(os.sep)[-2]
    return tuple(int(x) if x.isdigit() else 0 for x in v.split("."))


def find_bindir():
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and postgres."""
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
            if all(os.access(os.path.join(d, b), os.X_OK) for b in SERVER_BINARIES)]
    return max(dirs, key=_version_key) if dirs else None


def bindir():
    d = find_bindir()
    if d is None:
        _run_deps("the PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are missing")
        d = find_bindir()
        if d is None:
            raise PgError("scripts/deps.sh ran but /usr/lib/postgresql/*/bin/{initdb,pg_ctl,postgres} "
                          "are still missing")
    return d


def psycopg2():
    try:
        import psycopg2 as mod
    except ImportError:
        _run_deps("the Python module psycopg2 (Debian package python3-psycopg2) is missing")
        import importlib
        importlib.invalidate_caches()
        import psycopg2 as mod
    return mod


# ---------------------------------------------------------------------------
# the cluster


def _parent_dir():
    """Where the cluster lives: in memory (/dev/shm) when there is room,
    where creating a database takes a few ms instead of a few hundred."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= (2 << 30):
            return shm
    except OSError:
        pass
    return None    # tempfile's default


def _free_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Runs beside the cluster: when the pytest process goes away without
# stopping the cluster (its end of the pipe closes), stops it and removes its
# directory.
_WATCHDOG = r"""
import os, shutil, subprocess, sys
sys.stdin.buffer.read()
pg_ctl, data, top = sys.argv[1], sys.argv[2], sys.argv[3]
prefix = sys.argv[4:]
if os.path.exists(os.path.join(data, "postmaster.pid")):
    subprocess.run(prefix + [pg_ctl, "stop", "-D", data, "-m", "immediate", "-w", "-t", "30"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=top)
shutil.rmtree(top, ignore_errors=True)
"""


class Cluster:
    def __init__(self):
        self.bindir = bindir()
        self.pg = psycopg2()
        self.top = tempfile.mkdtemp(prefix="weft-pg-", dir=_parent_dir())
        self.data = os.path.join(self.top, "data")
        self.sockdir = os.path.join(self.top, "sock")
        self.logfile = os.path.join(self.top, "postgres.log")
        self.port = None
        self.user = "postgres"
        self._lock = threading.RLock()
        self._admin = None
        self._n = 0
        self._watchdog = None
        self._closed = False
        self.prefix = []
        os.mkdir(self.sockdir)
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root: use the account the
            # Debian package creates.
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PgError("running as root and there is no 'postgres' system user to run PostgreSQL as "
                              "(it comes with the Debian package postgresql; run scripts/deps.sh)")
            os.chmod(self.top, 0o700)
            for p in (self.top, self.sockdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        try:
            self._initdb()
            self._start_watchdog()
            self._start_new_port()
            self.version = int(self._admin_exec("SHOW server_version_num")[0][0])
        except BaseException:
            self.shutdown()
            raise

    # -- process control ------------------------------------------------------

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def _run(self, args, timeout=120, check=True):
        p = subprocess.run(self.prefix + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, cwd=self.top, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise PgError("%s failed (exit %d):\n%s\n%s" % (" ".join(args), p.returncode, out, self.log_tail()))
        return p.returncode, out

    def _initdb(self):
        self._run([self._bin("initdb"), "-D", self.data, "-U", self.user, "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--no-sync", "--no-instructions"])

    def _write_conf(self):
        lines = ["%s = %s" % kv for kv in SETTINGS.items()]
        lines.append("port = %d" % self.port)
        lines.append("unix_socket_directories = '%s'" % self.sockdir)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "w") as f:
            f.write("# written by tests/api/pgcluster.py\n" + "\n".join(lines) + "\n")

    def _start_watchdog(self):
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, self._bin("pg_ctl"), self.data, self.top] + self.prefix,
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd="/")

    def _start_new_port(self):
        """Starts the server on a random free port (another one if it was
        taken meanwhile)."""
        last = None
        for _ in range(5):
            self.port = _free_port()
            self._write_conf()
            try:
                self.start()
                return
            except PgError as e:
                last = e
                if "could not bind" not in self.log_tail() and "Address already in use" not in self.log_tail():
                    raise
        raise last

    def start(self):
        """Starts the (stopped) server on its port and waits until it accepts connections."""
        self._run([self._bin("pg_ctl"), "start", "-D", self.data, "-l", self.logfile, "-w", "-t", "60"])

    def stop(self, mode="fast"):
        """Stops the server (mode: smart, fast or immediate)."""
        with self._lock:
            self._drop_admin()
        self._run([self._bin("pg_ctl"), "stop", "-D", self.data, "-m", mode, "-w", "-t", "60"])

    def restart(self, pause=0.0, mode="fast"):
        """Stops the server, waits `pause` seconds and starts it again on the
        same port. Returns (stopped, starting, started) in time.monotonic():
        the server was down from `stopped` to at least `starting` (when it
        was asked to start) and up again at `started`."""
        self.stop(mode)
        stopped = time.monotonic()
        if pause > 0:
            time.sleep(pause)
        starting = time.monotonic()
        self.start()
        return stopped, starting, time.monotonic()

    def running(self):
        code, _ = self._run([self._bin("pg_ctl"), "status", "-D", self.data], check=False)
        return code == 0

    def log_tail(self, lines=40):
        try:
            with open(self.logfile, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def shutdown(self):
        """Stops the server at once and removes its directory (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._drop_admin()
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self._run([self._bin("pg_ctl"), "stop", "-D", self.data, "-m", "immediate", "-w", "-t", "30"],
                          check=False, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass
        shutil.rmtree(self.top, ignore_errors=True)
        if self._watchdog is not None:
            try:
                self._watchdog.stdin.close()
                self._watchdog.wait(timeout=30)
            except (OSError, subprocess.SubprocessError):
                pass

    # -- SQL ----------------------------------------------------------------------

    def url(self, dbname):
        return "postgres://%s@127.0.0.1:%d/%s" % (self.user, self.port, dbname)

    def connect(self, dbname="postgres", autocommit=True, timeout=5):
        conn = self.pg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=dbname,
                               connect_timeout=timeout)
        conn.autocommit = autocommit
        return conn

    def _drop_admin(self):
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:
                pass
            self._admin = None

    def _admin_exec(self, sql):
        with self._lock:
            for attempt in (0, 1):
                if self._admin is None or self._admin.closed:
                    self._admin = self.connect()
                try:
                    with self._admin.cursor() as cur:
                        cur.execute(sql)
                        return cur.fetchall() if cur.description is not None else None
                except (self.pg.OperationalError, self.pg.InterfaceError):
                    # the connection did not survive a restart of the server
                    self._drop_admin()
                    if attempt:
                        raise

    def create_database(self):
        """Creates a fresh, empty database; returns its name."""
        with self._lock:
            self._n += 1
            name = "weft_%d" % self._n
        # FILE_COPY (PostgreSQL 15+) copies the template's files instead of
        # writing them to the WAL page by page: faster for small databases
        self._admin_exec("CREATE DATABASE %s%s" % (name, " STRATEGY FILE_COPY" if self.version >= 150000 else ""))
        return name

    def drop_database(self, name):
        self._admin_exec("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)

    def sql(self, dbname, query, params=None):
        """Runs one statement in `dbname` (autocommit); returns its rows (or
        None for a statement that returns none)."""
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description is not None else None
        finally:
            conn.close()


_cluster = None
_cluster_error = None
_cluster_lock = threading.Lock()


def cluster():
    """This process's cluster, started on first use (a failure to start it
    is remembered, not retried by every test)."""
    global _cluster, _cluster_error
    with _cluster_lock:
        if _cluster is None:
            if _cluster_error is not None:
                raise PgError(_cluster_error)
            try:
                _cluster = Cluster()
            except Exception as e:
                _cluster_error = "could not start the test PostgreSQL server: %s" % e
                raise PgError(_cluster_error)
            atexit.register(shutdown)
        return _cluster


def started():
    return _cluster is not None


def shutdown():
    global _cluster
    with _cluster_lock:
        c, _cluster = _cluster, None
    if c is not None:
        c.shutdown()


def dbname_of(url):
    """'postgres://u@h:p/name?x' -> 'name'."""
    return url.rsplit("/", 1)[1].split("?", 1)[0]


# ---------------------------------------------------------------------------
# command line


USAGE = "usage: pgcluster.py run -- COMMAND [ARGS...]"


def main(argv):
    if len(argv) < 4 or argv[1] != "run" or argv[2] != "--":
        print(USAGE, file=sys.stderr)
        return 2
    cmd = argv[3:]
    env = dict(os.environ)
    if not env.get("WEFT_TEST_PG_URL"):
        try:
            env["WEFT_TEST_PG_URL"] = cluster().url("postgres")
        except PgError as e:
            # The command still runs: whatever needs the server fails and says why.
            print("pgcluster.py: %s" % e, file=sys.stderr)
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        return subprocess.run(cmd, env=env).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
