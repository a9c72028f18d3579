#!/usr/bin/python3
"""Jobs per second of ONE worker process of each client on a no-op job:
`weft worker` running /bin/true, libweft's example worker (C), the Python
SDK's and the TypeScript SDK's example workers. Not part of `make check`.

One weft server (SQLite, a fresh file in a temporary directory) serves
every run. A run enqueues N jobs into a queue of its own, starts the
worker, and times from the worker's start until the server has no ready
or running job left in that queue (every job ended in success: checked),
then stops the worker with SIGTERM. Each repetition runs every client
once, in turn, so that the machine's noise falls on all of them alike;
the table gives the median of the repetitions and its ratio to `weft
worker`.

    make bench-clients                    (builds what it needs, then this)
    bench/clients/run.py [--n 20000] [--reps 3] [--concurrency 8] [--clients c,python,...]

The example workers' interface is tests/clients/drain_check.py's.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.path.join(ROOT, "build", "weft")

# How each client's one worker process is started, given the queue and the
# concurrency. Paths are those the Makefile builds.
CLIENTS = {
    "weft-worker": lambda q, c: [WEFT, "worker", "--queue", q, "--concurrency", str(c), "--", "/bin/true"],
    "c": lambda q, c: [os.path.join(ROOT, "build", "examples", "c", "worker"), "--concurrency", str(c), q],
    "python": lambda q, c: [os.path.join(ROOT, "build", "sdk", "python-venv", "bin", "python"),
                            os.path.join(ROOT, "sdk", "python", "examples", "worker.py"), "--concurrency", str(c), q],
    "typescript": lambda q, c: ["node", os.path.join(ROOT, "build", "sdk", "ts-consumer", "node_modules", "@weft",
                                                     "client", "examples", "worker.mjs"), "--concurrency", str(c), q],
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def enqueue(base, queue, n):
    for start in range(0, n, 1000):
        jobs = [{"queue": queue, "input": {"n": i}} for i in range(start, min(n, start + 1000))]
        call(base, "POST", "/v1/jobs", {"jobs": jobs})


def settled(base, queue):
    d = call(base, "GET", "/v1/queues/" + queue)["depth"]
    return d["ready"] == 0 and d["running"] == 0 and d["retrying"] == 0 and d["scheduled"] == 0


def succeeded(base, queue):
    n, cursor = 0, None
    while True:
        path = "/v1/tasks?queue=%s&status=success&limit=1000" % queue + ("&cursor=" + cursor if cursor else "")
        page = call(base, "GET", path)
        n += len(page["tasks"])
        cursor = page.get("next_cursor")
        if not cursor:
            return n


def one_run(base, client, queue, n, concurrency):
    enqueue(base, queue, n)
    env = dict(os.environ, WEFT_URL=base)
    t0 = time.monotonic()
    proc = subprocess.Popen(CLIENTS[client](queue, concurrency), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        while not settled(base, queue):
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %s: %s" % (client, proc.returncode, proc.stderr.read()[-2000:]))
            time.sleep(0.02)
        took = time.monotonic() - t0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    done = succeeded(base, queue)
    if done != n:
        raise RuntimeError("%s: %d of %d jobs in success" % (client, done, n))
    return n / took


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="jobs per run (default 20000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    ap.add_argument("--concurrency", type=int, default=8, help="handlers per worker (default 8)")
    ap.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated: " + ",".join(CLIENTS))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in CLIENTS:
            ap.error("--clients: unknown client %r (expected %s)" % (c, ", ".join(CLIENTS)))

    tmp = tempfile.mkdtemp(prefix="weft-bench-clients-")
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    server = subprocess.Popen([WEFT, "serve", "--port", str(port), "--db", os.path.join(tmp, "bench.db")],
                              stdout=open(os.path.join(tmp, "serve.log"), "w"), stderr=subprocess.STDOUT)
    results = {c: [] for c in clients}
    try:
        for _ in range(100):
            try:
                call(base, "GET", "/health")
                break
            except OSError:
                time.sleep(0.05)
        for rep in range(args.reps):
            for c in clients:
                rate = one_run(base, c, "bench-%s-%d" % (c, rep), args.n, args.concurrency)
                results[c].append(rate)
                log("rep %d  %-12s %9.0f jobs/s" % (rep + 1, c, rate))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    medians = {c: statistics.median(v) for c, v in results.items()}
    if args.json:
        print(json.dumps({"n": args.n, "concurrency": args.concurrency, "runs": results, "median": medians}))
        return 0
    ref = medians.get("weft-worker")
    print("one worker process, no-op jobs, N = %d, concurrency %d, median of %d" % (args.n, args.concurrency, args.reps))
    print("%-12s %12s %22s %10s" % ("client", "jobs/s", "range", "÷ weft worker"))
    for c in clients:
        v = results[c]
        ratio = "%.2f×" % (medians[c] / ref) if ref else "-"
        print("%-12s %12.0f %10.0f – %-9.0f %10s" % (c, medians[c], min(v), max(v), ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
