"""docs/guide/getting-started.md, step by step, against a real server: the
stand-in service, the DAG submitted from YAML and from JSON and waited
for, the look at it, a queue drained by `weft worker` with the example
handler. A change that breaks the guide's commands fails here."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from harness import free_port

GUIDE = "examples/getting-started"


def weft(weft_bin, server, *args, check=True, timeout=60):
    env = dict(os.environ, WEFT_URL=server.base, NO_COLOR="1")
    env.pop("WEFT_TOKEN", None)
    p = subprocess.run([weft_bin, *args], capture_output=True, text=True, env=env, timeout=timeout)
    if check:
        assert p.returncode == 0, "weft %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr)
    return p


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the service did not listen on port %d" % port)


@pytest.fixture
def service(root, tmp_path):
    """service.py on a free port, and the guide's DAG files rewritten to
    point at it (the guide's own port, 8090, may be taken here)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(root, GUIDE, "service.py"), str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_port(port)
        files = {}
        for name in ("pipeline.yaml", "pipeline.json"):
            text = open(os.path.join(root, GUIDE, name)).read()
            assert "127.0.0.1:8090" in text
            path = tmp_path / name
            path.write_text(text.replace("127.0.0.1:8090", "127.0.0.1:%d" % port))
            files[name] = str(path)
        yield files
    finally:
        proc.kill()
        proc.wait()


def test_the_dag_of_webhook_tasks(weft_factory, weft_bin, service):
    server = weft_factory.start(env={"SKIP_SSRF_VALIDATION": "1"})
    for name in ("pipeline.yaml", "pipeline.json"):
        p = weft(weft_bin, server, "submit", service[name], "--wait", "--json")
        run = json.loads(p.stdout)
        run_id = run["id"]

        p = weft(weft_bin, server, "runs", "show", run_id, "--json")
        shown = json.loads(p.stdout)
        assert shown["status"] == "success"
        by_name = {t["name"]: t for t in shown["tasks"]}
        assert set(by_name) == {"fetch", "spellcheck", "thumbnail", "publish"}
        assert by_name["fetch"]["result"]["got"] == {"article": 42}
        assert all(t["status"] == "success" for t in shown["tasks"])

        p = weft(weft_bin, server, "runs", "ls")
        assert run_id[:8] in p.stdout
        p = weft(weft_bin, server, "get", by_name["publish"]["id"])
        assert "success" in p.stdout and "publish" in p.stdout


def test_a_queue_and_a_worker(server, weft_bin, root):
    inputs = ['{"path": "a.png"}', '{"path": "b.png"}', '{"path": "c.png"}']
    weft(weft_bin, server, "enqueue", "images", *inputs)
    p = weft(weft_bin, server, "queues")
    assert "images" in p.stdout

    env = dict(os.environ, WEFT_URL=server.base)
    worker = subprocess.Popen([weft_bin, "worker", "--queue", "images", "--concurrency", "4", "--",
                               os.path.join(root, GUIDE, "resize.sh")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            p = weft(weft_bin, server, "ls", "--queue", "images", "--json")
            tasks = json.loads(p.stdout)["tasks"]
            if len(tasks) == 3 and all(t["status"] == "success" for t in tasks):
                break
            assert time.monotonic() < deadline, tasks
            time.sleep(0.1)
    finally:
        worker.terminate()
        rc = worker.wait(timeout=30)
    assert rc == 0, worker.stderr.read()
    for t in tasks:
        got = json.loads(weft(weft_bin, server, "get", t["id"], "--json").stdout)
        assert got["result"]["resized"]["path"] in ("a.png", "b.png", "c.png")
    p = weft(weft_bin, server, "ls", "--queue", "images")
    assert p.stdout.count("success") == 3
