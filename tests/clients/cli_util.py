"""Running the `weft` client commands in tests: a clean environment (no
WEFT_* variables, no config file unless a test writes one), sanitizer
reports failing the test, and readers for --json and table output."""

import json
import os
import re
import subprocess

from harness import SANITIZER_MARKERS, weft_bin

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def clean_env(url=None, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_") or k == "WEFT_BIN"}
    env.pop("NO_COLOR", None)
    # no config file from the machine's user
    env["XDG_CONFIG_HOME"] = "/nonexistent-weft-config"
    env["HOME"] = "/nonexistent-weft-home"
    if url:
        env["WEFT_URL"] = url
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def weft(url, *args, env=None, stdin=None, timeout=60):
    """Runs `weft ARGS` against url (a server's base URL, or None)."""
    r = subprocess.run([weft_bin(), *args], env=env or clean_env(url), input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    for marker in SANITIZER_MARKERS:
        assert marker not in r.stderr, r.stderr
    return r


def ok(url, *args, **kw):
    r = weft(url, *args, **kw)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout


def as_json(url, *args, **kw):
    return json.loads(ok(url, *args, "--json", **kw))


def table(text):
    """A table's header and rows, each a list of cells (split on runs of
    two or more spaces)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    split = [re.split(r"\s{2,}", ln.strip()) for ln in lines]
    return split[0], split[1:]


def rows_by(text, column):
    header, rows = table(text)
    i = header.index(column)
    return header, {r[i]: dict(zip(header, r)) for r in rows}


def fields(text):
    """A details view's "Label: value" lines as a dict."""
    out = {}
    for ln in text.splitlines():
        m = re.match(r"^([A-Z][A-Za-z0-9 -]*):\s+(.*)$", ln)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def enqueue(server, queue, *inputs, **spec):
    jobs = [dict(queue=queue, input=i, **spec) for i in inputs]
    r = server.post("/v1/jobs", json={"jobs": jobs})
    assert r.status_code in (200, 201), r.text
    return [j["id"] for j in r.json()["jobs"]]


def claim(server, queue, n=1, worker="w-test", hostname="host-a"):
    r = server.post("/v1/jobs/claim", json={"queues": [queue], "worker_id": worker, "hostname": hostname,
                                            "max_jobs": n, "wait_ms": 0})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def fail(server, job, code="boom", message="it broke"):
    r = server.post("/v1/jobs/fail", json={"items": [{"id": job["id"], "lease_token": job["lease_token"],
                                                       "error": {"code": code, "message": message}}]})
    assert r.status_code == 200, r.text
    return r.json()
