"""libweft against a real server: the example worker's crash test, the
examples built against a staged install (shared and static), the
installed layout and pkg-config file, the library's exported symbols, and
the C test program's scenarios (tests/clients/test_libweft_client.c, in
its ASan+UBSan build and its normal one).

Everything here is built by `make` (mk/libweft.mk adds it to
CLIENT_TEST_DEPS)."""

import os
import re
import signal
import subprocess
import time
import uuid

import pytest
import requests

import drain_check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "build", "examples", "c")
TEST_BINS = [os.path.join(ROOT, "build", "asan", "tests", "libweft_client"),
             os.path.join(ROOT, "build", "tests", "libweft_client")]


def built(path):
    if not os.path.exists(path):
        pytest.fail("%s is not built: run `make libweft build/examples/c/worker ...` (CLIENT_TEST_DEPS)" % path)
    return path


def worker_env(server):
    env = dict(os.environ, WEFT_URL=server.base)
    env.pop("WEFT_TOKEN", None)
    return env


def test_the_example_worker_drains_a_queue_through_a_kill(server):
    worker = built(os.path.join(EXAMPLES, "worker"))
    queue = "c-crash-" + uuid.uuid4().hex[:8]
    started = []

    def start_worker():
        started.append((time.monotonic(), subprocess.Popen(
            [worker, queue, "--concurrency", "8", "--lease-ms", "1500"],
            env=worker_env(server), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        return started[-1][1]

    report = drain_check.drain_with_a_kill(server.base, queue, start_worker)
    assert report["before_kill"] > 0

    # the second worker batched: fewer report requests than jobs, and one
    # heartbeat request per period (500 ms) however many claims it made
    t0, second = started[-1]
    alive = time.monotonic() - t0
    stats = second.stderr.read()
    m = re.search(r"completed (\d+).*claims (\d+), heartbeats (\d+), reports (\d+)", stats)
    assert m, stats
    completed, claims, heartbeats, reports = map(int, m.groups())
    assert completed > 0 and reports < completed, stats
    assert heartbeats <= alive / 0.5 + 2, (alive, stats)


@pytest.mark.parametrize("variant", ["", "-static"])
def test_the_examples_run_linked_shared_and_static(server, variant):
    enqueue = built(os.path.join(EXAMPLES, "enqueue" + variant))
    worker = built(os.path.join(EXAMPLES, "worker" + variant))
    ldd = subprocess.run(["ldd", worker], capture_output=True, text=True).stdout
    assert ("libweft.so" in ldd) == (variant == ""), ldd
    queue = "c-example-" + uuid.uuid4().hex[:8]
    env = worker_env(server)

    out = subprocess.run([enqueue, queue, '{"n": 1}', '{"n": 2, "sleep_ms": 5}', '{"n": 3}'], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    ids = out.stdout.split()
    assert len(ids) == 3

    bad = subprocess.run([enqueue, queue, "{nope"], env=env, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "jobs[0].input" in bad.stderr, bad.stderr

    proc = subprocess.Popen([worker, queue, "--concurrency", "2"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while drain_check.succeeded(server.base, queue) < 3:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the worker did not complete the jobs"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "completed 3" in proc.stderr.read()
    for i, task_id in enumerate(ids, 1):
        task = requests.get(server.base + "/v1/tasks/" + task_id, timeout=10).json()
        assert task["result"] == {"n": i, "double": 2 * i}


def test_install_lib_lays_out_header_libraries_and_pkg_config(tmp_path):
    prefix = tmp_path / "prefix"
    dest = tmp_path / "dest"
    # a make of its own, not a part of the `make clients` that may run this
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    for args in (["PREFIX=%s" % prefix], ["PREFIX=/opt/weft", "DESTDIR=%s" % dest]):
        r = subprocess.run(["make", "-s", "install-lib"] + args, cwd=ROOT, capture_output=True, text=True,
                           timeout=300, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
    for root, pc_prefix in ((prefix, str(prefix)), (dest / "opt" / "weft", "/opt/weft")):
        assert (root / "include" / "weft.h").is_file()
        assert (root / "lib" / "libweft.a").is_file()
        so = root / "lib" / "libweft.so.0"
        assert so.is_symlink() and so.resolve().is_file()
        assert os.readlink(root / "lib" / "libweft.so") == "libweft.so.0"
        pc = (root / "lib" / "pkgconfig" / "weft.pc").read_text()
        assert "prefix=%s\n" % pc_prefix in pc and "Requires.private: libcurl jansson" in pc
    soname = subprocess.run(["objdump", "-p", str(prefix / "lib" / "libweft.so.0")], capture_output=True,
                            text=True).stdout
    assert re.search(r"SONAME\s+libweft\.so\.0\b", soname), soname

    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    cflags = subprocess.run(["pkg-config", "--cflags", "weft"], env=env, capture_output=True, text=True)
    assert cflags.returncode == 0 and "-I%s/include" % prefix in cflags.stdout, cflags.stderr
    libs = subprocess.run(["pkg-config", "--libs", "--static", "weft"], env=env, capture_output=True, text=True)
    assert libs.returncode == 0, libs.stderr
    flags = libs.stdout.split()
    for f in ("-L%s/lib" % prefix, "-lweft", "-lcurl", "-ljansson", "-pthread"):
        assert f in flags, (f, flags)


def _defined_globals(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWGSi":
            names.append(parts[2])
    return names


def test_the_libraries_export_weft_symbols_only():
    so = built(os.path.join(ROOT, "build", "lib", "libweft.so"))
    archive = built(os.path.join(ROOT, "build", "lib", "libweft.a"))
    dynamic = _defined_globals(["nm", "-D", "--defined-only", so])
    static = _defined_globals(["nm", "-g", "--defined-only", archive])
    for names, what in ((dynamic, "libweft.so"), (static, "libweft.a")):
        others = [n for n in names if not n.startswith("weft_")]
        assert not others, "%s exports %s" % (what, others)
    # and every WEFT_API function of the header is there
    with open(os.path.join(ROOT, "include", "weft.h"), encoding="utf-8") as f:
        api = set(re.findall(r"WEFT_API\s+[^;(]*?\b(weft_\w+)\s*\(", f.read()))
    assert len(api) > 50
    assert api <= set(dynamic), api - set(dynamic)
    assert api <= set(static), api - set(static)


SCENARIOS = ["errors", "jobs", "api", "retry", "cancel", "heartbeat", "sigterm", "server-drain", "rejected",
             "unauthorized", "pause", "tokens", "workflow", "schedule", "template", "triggers", "logs"]
# scenarios of operations a server may not serve yet: skipped until its
# document has them
NEEDS = {"pause": "pauseRun", "tokens": "createToken", "workflow": "startWorkflow",
         "schedule": "createSchedule", "template": "createTemplate", "triggers": "createHook",
         "logs": "appendJobLogs"}
ADMIN_TOKEN = "libweft-admin-token"


def run_scenario(base, scenario, token=None):
    for binary in TEST_BINS:
        built(binary)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        env.pop("WEFT_TOKEN", None)
        if token:
            env["WEFT_TOKEN"] = token
        r = subprocess.run([binary, base, scenario], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0 and r.stdout.strip() == "ok " + scenario, \
            "%s %s: exit %d\n%s%s" % (binary, scenario, r.returncode, r.stdout, r.stderr)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_c_client(weft_factory, scenario):
    # the server demands a token; "unauthorized" runs without one
    env = {"AUTH_TOKEN": ADMIN_TOKEN} if scenario in ("tokens", "unauthorized") else {}
    server = weft_factory.start(env=env)
    if scenario in NEEDS:
        headers = {"Authorization": "Bearer " + ADMIN_TOKEN} if env else {}
        doc = requests.get(server.base + "/v1/openapi.json", headers=headers, timeout=10).json()
        ops = {op.get("operationId") for item in doc["paths"].values() for op in item.values()
               if isinstance(op, dict)}
        if NEEDS[scenario] not in ops:
            pytest.skip("the server does not serve %s yet" % NEEDS[scenario])
    run_scenario(server.base, scenario, ADMIN_TOKEN if scenario == "tokens" else None)


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("reachable", [True, False])
def test_an_idle_or_cut_off_worker_waits_without_spinning_and_stops_on_sigterm(server, reachable):
    """On an empty queue the worker long-polls; with the server gone it
    retries with a growing pause. Either way it uses next to no CPU, and
    SIGTERM ends it with 0."""
    worker = built(os.path.join(EXAMPLES, "worker"))
    env = worker_env(server)
    if not reachable:
        env["WEFT_URL"] = "http://127.0.0.1:9"
    proc = subprocess.Popen([worker, "c-idle-" + uuid.uuid4().hex[:8], "--concurrency", "4"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.5)
        assert proc.poll() is None, proc.stderr.read()
        cpu = _cpu_seconds(proc.pid)
        assert cpu < 0.3, "the worker used %.2f s of CPU in 2.5 s" % cpu
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        # the claim waiting on the server is abandoned, not waited out
        assert time.monotonic() - t0 < 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    if not reachable:
        assert "trying again until it answers" in err and "127.0.0.1:9" in err, err
        assert err.count("trying again") == 1, err   # one warning, not one per attempt


def test_the_worker_rides_out_a_server_restart(server):
    """The server is killed while jobs run: reports and heartbeats are
    retried until it is back, and every job still ends in success."""
    worker = built(os.path.join(EXAMPLES, "worker"))
    queue = "c-restart-" + uuid.uuid4().hex[:8]
    jobs = [{"queue": queue, "input": {"n": i, "sleep_ms": 200}, "max_attempts": -1} for i in range(24)]
    r = requests.post(server.base + "/v1/jobs", json={"jobs": jobs}, timeout=30)
    assert r.status_code == 201, r.text
    proc = subprocess.Popen([worker, queue, "--concurrency", "4", "--lease-ms", "5000"], env=worker_env(server),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while drain_check.succeeded(server.base, queue) < 4:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        server.kill()
        time.sleep(1.0)   # the handlers in flight finish; their reports find no server
        server = server.restart(same_port=True)
        deadline = time.monotonic() + 60
        while drain_check.succeeded(server.base, queue) < len(jobs):
            assert time.monotonic() < deadline, "the jobs did not all succeed after the restart"
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert "trying again until it answers" in err, err
