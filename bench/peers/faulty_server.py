#!/usr/bin/env python3
"""A deliberately faulty server, for testing `weft bench --queue` itself: it
speaks the /v1 job routes the bench uses (POST /v1/jobs, /v1/jobs/claim with
a waiting long poll, /v1/jobs/complete), GET /health and GET /metrics
(tasks_by_status), and can break the guarantees the real server keeps:

    build/weft bench --queue --jobs 5000 --latency-secs 2 --server bench/peers/faulty_server.py

It exists to inject the faults the real server must never have, so that
the bench's own checks can be seen to catch them (a job handed out twice, a
server without the /v1 job routes), and to tell a bench fault from a server
fault. Its figures measure nothing, and nothing is measured with it.
Python standard library only; one process, one in-memory queue.
It refuses the same bad requests the real server does: no jobs or more than
1,000, a claim without queues or worker_id, a stale lease token.

FAULTY_FAIL_EVERY=K in the environment makes one claim in K also hand out a
job completed already, to see the bench report the run as failed;
FAULTY_NO_JOB_ROUTES=1 answers 404 for every /v1/jobs route, as a server
older than the job queue does.
"""

import argparse
import itertools
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_JOBS = 1000


class Store:
    def __init__(self):
        self.cv = threading.Condition()
        self.pending = {}            # queue -> deque of job ids
        self.jobs = {}               # id -> dict
        self.tokens = itertools.count(1)
        self.success = 0
        self.claims = 0

    def enqueue(self, jobs):
        out = []
        with self.cv:
            for j in jobs:
                jid = str(uuid.uuid4())
                self.jobs[jid] = {"id": jid, "queue": j["queue"], "input": j.get("input"), "status": "pending",
                                  "token": None}
                self.pending.setdefault(j["queue"], deque()).append(jid)
                out.append({"id": jid, "run_id": jid, "queue": j["queue"], "status": "pending",
                            "duplicate": False})
            self.cv.notify_all()
        return out

    def claim(self, queues, max_jobs, wait_ms, stale_every):
        deadline = time.monotonic() + wait_ms / 1000.0
        with self.cv:
            while True:
                got = []
                for q in queues:
                    d = self.pending.get(q)
                    while d and len(got) < max_jobs:
                        got.append(self.jobs[d.popleft()])
                if got or time.monotonic() >= deadline:
                    break
                self.cv.wait(max(0.0, deadline - time.monotonic()))
            self.claims += 1
            out = []
            for j in got:
                j["status"], j["token"] = "running", str(next(self.tokens))
                out.append({"id": j["id"], "run_id": j["id"], "queue": j["queue"], "name": j["queue"],
                            "attempt": 1, "max_attempts": 5, "lease_token": j["token"],
                            "input": j["input"], "metadata": {}, "parents": []})
            if stale_every and out and self.claims % stale_every == 0:
                done = next((j for j in self.jobs.values() if j["status"] == "success"), None)
                if done:
                    if len(out) >= max_jobs:   # make room: the last one goes back
                        back = out.pop()
                        self.jobs[back["id"]].update(status="pending", token=None)
                        self.pending[back["queue"]].appendleft(back["id"])
                    out.append({"id": done["id"], "lease_token": done["token"], "input": done["input"]})
            return out

    def complete(self, items):
        res = []
        with self.cv:
            for it in items:
                j = self.jobs.get(it.get("id"))
                if j is None:
                    res.append({"id": it.get("id"), "outcome": "not_found"})
                elif j["status"] == "success" and j["token"] == it.get("lease_token"):
                    res.append({"id": j["id"], "outcome": "already_completed"})
                elif j["status"] != "running" or j["token"] != it.get("lease_token"):
                    res.append({"id": j["id"], "outcome": "stale_lease"})
                else:
                    j["status"] = "success"
                    self.success += 1
                    res.append({"id": j["id"], "outcome": "completed"})
        return res


STORE = Store()
OPTS = None


def error(code, message, details=()):
    return {"error": {"code": code, "message": message, "details": list(details)}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body go out in separate writes

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="application/json"):
        data = (json.dumps(body) if ctype == "application/json" else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.answer(200, {"status": "ok"})
        elif self.path == "/metrics":
            self.answer(200, 'tasks_by_status{status="Success"} %d\n' % STORE.success, "text/plain")
        else:
            self.answer(404, error("not_found", "no such route"))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(n) or b"null")
        except ValueError:
            return self.answer(400, error("invalid_request", "the body is not JSON"))
        if not isinstance(body, dict):
            return self.answer(400, error("invalid_request", "the body is not an object"))
        if OPTS.no_job_routes and self.path.startswith("/v1/jobs"):
            return self.answer(404, error("not_found", "no such route"))
        if self.path == "/v1/jobs":
            jobs = body.get("jobs")
            if not isinstance(jobs, list) or not 1 <= len(jobs) <= MAX_JOBS:
                return self.answer(400, error("invalid_request", "jobs must hold 1 to 1000 jobs",
                                              ["jobs: 1 to 1000 jobs"]))
            if not all(isinstance(j, dict) and isinstance(j.get("queue"), str) for j in jobs):
                return self.answer(400, error("invalid_request", "every job needs a queue", ["jobs[].queue"]))
            return self.answer(201, {"jobs": STORE.enqueue(jobs)})
        if self.path == "/v1/jobs/claim":
            queues, worker = body.get("queues"), body.get("worker_id")
            max_jobs, wait_ms = body.get("max_jobs", 1), body.get("wait_ms", 0)
            if not isinstance(queues, list) or not 1 <= len(queues) <= 16 or not isinstance(worker, str) \
                    or not 1 <= max_jobs <= MAX_JOBS or not 0 <= wait_ms <= 60000:
                return self.answer(400, error("invalid_request", "bad claim"))
            return self.answer(200, {"jobs": STORE.claim(queues, max_jobs, wait_ms, OPTS.fail_every),
                                     "drain": False})
        if self.path == "/v1/jobs/complete":
            items = body.get("items")
            if not isinstance(items, list) or not 1 <= len(items) <= MAX_JOBS:
                return self.answer(400, error("invalid_request", "items must hold 1 to 1000 items"))
            return self.answer(200, {"results": STORE.complete(items)})
        self.answer(404, error("not_found", "no such route"))


def main(argv):
    global OPTS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["serve"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", default="")
    OPTS = p.parse_args(argv[1:])
    OPTS.fail_every = int(os.environ.get("FAULTY_FAIL_EVERY") or 0)
    OPTS.no_job_routes = os.environ.get("FAULTY_NO_JOB_ROUTES") == "1"
    srv = ThreadingHTTPServer(("127.0.0.1", OPTS.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
