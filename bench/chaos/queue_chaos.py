#!/usr/bin/python3
"""Queue chaos: every job is completed exactly once, while workers die.

Starts `weft serve` on a fresh database (a SQLite file, or with --backend
postgres a database of a throwaway PostgreSQL server from
tests/api/pgcluster.py), enqueues --jobs jobs (inputs {"i": n}) through
`weft enqueue` on stdin, and runs --workers `weft worker --concurrency C`
processes with bench/chaos/handler.sh as the job. Every 0.5–2 s one worker,
chosen at random, is SIGKILLed and started again; its jobs come back when
their leases (--lease) expire.

handler.sh appends "<job id> <attempt>" to one file per execution, and
every worker appends "<job id> <attempt> complete|fail <outcome>" for each
report the server answered (--outcome-log). At the end it reports:

  enqueued            jobs enqueued
  succeeded           jobs the server lists as success
  lost                enqueued jobs that did not succeed: must be 0 (the
                      jobs have no attempt limit); not_succeeded gives their
                      statuses
  executions          handler runs; duplicate_executions, runs beyond the
                      first of a job (allowed: delivery is at least once)
  completed_twice     jobs whose completion the server accepted more than
                      once (by the workers' outcome logs; a worker killed
                      between the answer and its log line misses one, so
                      this can only undercount): must be 0
  lease_expiries      from the server's jobs_lease_expired_total, when it
                      has the metric
  kills               workers SIGKILLed

Exits 1 when lost or completed_twice is not 0, or the run timed out. Not
part of `make check`: a run of 100,000 jobs takes minutes.

  /usr/bin/python3 bench/chaos/queue_chaos.py [--jobs N] [--backend sqlite|postgres] [--url URL] [--json]
"""

import argparse
import collections
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
QUEUE = "chaos"


def log(msg):
    print("[chaos %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class Run:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="weft-chaos-")
        self.weft = os.path.abspath(args.weft)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.server = None
        self.workers = []          # (Popen, outcome log path)
        self.outcome_logs = []
        self.exec_log = os.path.join(self.dir, "executions.log")
        self.kills = 0
        self.pg = None
        self.pg_db = None

    # -- the server ------------------------------------------------------

    def database(self):
        if self.args.backend == "sqlite":
            return os.path.join(self.dir, "weft.db")
        sys.path.insert(0, os.path.join(REPO, "tests", "api"))
        import pgcluster
        self.pg = pgcluster.cluster()
        self.pg_db = self.pg.create_database()
        return self.pg.url(self.pg_db)

    def start_server(self):
        if self.args.url:   # a server someone else runs
            self.url = self.args.url.rstrip("/")
            return
        db = self.database()
        out = open(os.path.join(self.dir, "server.log"), "w")
        self.server = subprocess.Popen([self.weft, "serve", "--port", str(self.port), "--db", db],
                                       stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return
            except OSError:
                if self.server.poll() is not None:
                    raise SystemExit("weft serve exited; see %s/server.log" % self.dir)
                time.sleep(0.05)
        raise SystemExit("weft serve did not answer /health within 30 s")

    # -- jobs and workers ------------------------------------------------

    def env(self):
        env = dict(os.environ, WEFT_URL=self.url, CHAOS_EXEC_LOG=self.exec_log)
        env.pop("WEFT_TOKEN", None)
        env.pop("WEFT_NAMESPACE", None)
        if self.args.work_ms:
            env["CHAOS_WORK_SECS"] = "%.3f" % (self.args.work_ms / 1000)
        return env

    def enqueue(self):
        lines = "".join('{"i":%d}\n' % i for i in range(self.args.jobs))
        t0 = time.monotonic()
        # no attempt limit: a job may lose many workers in a row (each kill
        # costs its jobs an attempt), and must still succeed in the end
        r = subprocess.run([self.weft, "enqueue", "--max-attempts", "-1", QUEUE], input=lines, env=self.env(),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("weft enqueue failed (%d): %s" % (r.returncode, r.stderr))
        ids = [line.split()[0] for line in r.stdout.splitlines()]
        log("enqueued %d jobs in %.1f s" % (len(ids), time.monotonic() - t0))
        return ids

    def start_worker(self, slot):
        n = len(self.outcome_logs)
        outcome_log = os.path.join(self.dir, "outcomes-%d.log" % n)
        self.outcome_logs.append(outcome_log)
        err = open(os.path.join(self.dir, "worker-%d.log" % n), "w")
        p = subprocess.Popen([self.weft, "worker", "--queue", QUEUE, "--concurrency", str(self.args.concurrency),
                              "--lease", self.args.lease, "--claim-wait", "1s", "--outcome-log", outcome_log, "--",
                              os.path.join(HERE, "handler.sh")],
                             env=self.env(), stdout=subprocess.DEVNULL, stderr=err)
        if slot < len(self.workers):
            self.workers[slot] = p
        else:
            self.workers.append(p)

    def completed_ids(self):
        """Every "completed" answer in the outcome logs, as a Counter of ids."""
        c = collections.Counter()
        for path in self.outcome_logs:
            try:
                with open(path) as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) == 4 and parts[3] == "completed":
                            c[parts[0]] += 1
            except FileNotFoundError:
                pass
        return c

    def chaos(self, total):
        """Kills a worker every 0.5–2 s until the server has no job of the
        queue left to run. The outcome logs show the progress; the server
        decides the end (a worker killed right after the server accepted
        its report never logged it)."""
        deadline = time.monotonic() + self.args.timeout
        next_kill = time.monotonic() + random.uniform(0.5, 2.0)
        last_report = last_check = 0
        while time.monotonic() < deadline:
            done = len(self.completed_ids())
            now = time.monotonic()
            if (done >= total * 0.99 and now - last_check >= 2) or now - last_check >= 10:
                last_check = now
                if self.queue_settled():
                    return True
            if now - last_report >= 5:
                log("%d of %d completed, %d kills" % (done, total, self.kills))
                last_report = now
            if now >= next_kill:
                slot = random.randrange(len(self.workers))
                self.workers[slot].send_signal(signal.SIGKILL)
                self.workers[slot].wait()
                self.kills += 1
                self.start_worker(slot)
                next_kill = now + random.uniform(0.5, 2.0)
            time.sleep(0.1)
        return False

    def stop_workers(self):
        for p in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # -- the verdict -----------------------------------------------------

    def queue_settled(self):
        """No job of the queue is pending, running or retrying (one small
        read each, so that the check does not hold up the kills)."""
        for status in ("pending", "running", "retrying"):
            q = {"queue": QUEUE, "status": status, "limit": 1}
            if http_json(self.url + "/v1/tasks?" + urllib.parse.urlencode(q))["tasks"]:
                return False
        return True

    def server_succeeded(self):
        """Ids the server lists as success in the queue (every page)."""
        ids, cursor = set(), None
        while True:
            q = {"queue": QUEUE, "status": "success", "limit": 1000}
            if cursor:
                q["cursor"] = cursor
            page = http_json(self.url + "/v1/tasks?" + urllib.parse.urlencode(q))
            ids.update(t["id"] for t in page["tasks"])
            cursor = page.get("next_cursor")
            if not cursor:
                return ids

    def not_succeeded(self):
        """How many jobs of the queue are in each status but success."""
        out = {}
        for status in ("pending", "running", "retrying", "failure", "canceled"):
            n, cursor = 0, None
            while True:
                q = {"queue": QUEUE, "status": status, "limit": 1000}
                if cursor:
                    q["cursor"] = cursor
                page = http_json(self.url + "/v1/tasks?" + urllib.parse.urlencode(q))
                n += len(page["tasks"])
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            if n:
                out[status] = n
        return out

    def lease_expiries(self):
        try:
            with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("jobs_lease_expired_total"):
                        return int(float(line.split()[-1]))
        except OSError:
            pass
        return None

    def executions(self):
        runs = collections.Counter()
        try:
            with open(self.exec_log) as f:
                for line in f:
                    parts = line.split()
                    if parts:
                        runs[parts[0]] += 1
        except FileNotFoundError:
            pass
        return runs

    def cleanup(self):
        for p in self.workers:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.pg is not None:
            if self.pg_db and not self.args.keep:
                self.pg.drop_database(self.pg_db)
            self.pg.shutdown()
        if self.args.keep:
            log("kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--lease", default="5s", help="the workers' lease (default 5s): how soon a killed worker's "
                    "jobs come back")
    ap.add_argument("--work-ms", type=int, default=0, help="how long each job sleeps (default 0)")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--weft", default=os.path.join(REPO, "build", "weft"))
    ap.add_argument("--url", help="use the weft server at URL (an empty queue named chaos) instead of starting one")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before the run gives up")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the directory with the logs and the database")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    random.seed(args.seed)
    # a SIGTERM (timeout(1), a CI's stop) still runs the cleanup below
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))

    run = Run(args)
    try:
        run.start_server()
        ids = run.enqueue()
        for slot in range(args.workers):
            run.start_worker(slot)
        t0 = time.monotonic()
        finished = run.chaos(len(ids))
        took = time.monotonic() - t0
        run.stop_workers()
        succeeded = run.server_succeeded()
        completed = run.completed_ids()
        runs = run.executions()
        report = {
            "backend": args.backend,
            "enqueued": len(ids),
            "succeeded": len(succeeded & set(ids)),
            "lost": len(set(ids) - succeeded),
            "not_succeeded": run.not_succeeded(),
            "executions": sum(runs.values()),
            "duplicate_executions": sum(n - 1 for n in runs.values() if n > 1),
            "completed_twice": sum(1 for n in completed.values() if n > 1),
            "lease_expiries": run.lease_expiries(),
            "kills": run.kills,
            "seconds": round(took, 1),
            "finished": finished,
        }
    finally:
        run.cleanup()
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print("%-22s %s" % (k, v))
    ok = report["finished"] and report["lost"] == 0 and report["completed_twice"] == 0
    if not ok:
        log("FAILED: lost %d, completed twice %d%s" % (report["lost"], report["completed_twice"],
                                                         "" if report["finished"] else ", timed out"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
