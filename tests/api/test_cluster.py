"""Several weft nodes on one PostgreSQL database, and PostgreSQL going away
under a node (docs/internals/engine.md, "Many nodes on one PostgreSQL
database"): claims, rules, wake-ups and timers work across nodes; a node's
death only delays its share of the work; a database restart answers 503
meanwhile and loses nothing acknowledged.

Every test here starts real `weft serve` processes on the same database URL
(ServerFactory.start(db=...)) and runs only with WEFT_TEST_BACKEND=postgres.
"""

import collections
import datetime
import queue
import random
import threading
import time
import urllib.parse

import pytest
import requests

from harness import Api, Behaviour, metric, parse_prometheus, parse_ts, wait_for, webhook

pytestmark = pytest.mark.postgres_only

CLAIM_TIMEOUT_SECS = 2


def start_nodes(weft_factory, n, env=None):
    """n servers on one fresh database."""
    first = weft_factory.start(env=env)
    return [first] + [weft_factory.start(env=env, db=first.db) for _ in range(n - 1)]


def node_of(hit, nodes):
    """Index of the node that made a webhook call (its handle names its HOST_URL)."""
    handle = hit.params["handle"][0]
    base = handle.rsplit("/task/", 1)[0]
    for i, srv in enumerate(nodes):
        if srv.host_url == base:
            return i
    raise AssertionError("webhook call with a handle of no node: %r" % handle)


def trail(api, tid, t0):
    """A task's audit trail for a failure message, times relative to t0
    (time.monotonic())."""
    wall0 = time.time() - (time.monotonic() - t0)
    return "; ".join("+%.3fs %s->%s (%s%s)" % (parse_ts(e["at"]) - wall0, e["from"], e["to"], e["actor"],
                                               ", " + e["reason"] if e["reason"] else "")
                     for e in api.events(tid))


def leader_flags(nodes):
    """weft_leader of each live node (None for a dead one)."""
    out = []
    for srv in nodes:
        if not srv.alive():
            out.append(None)
            continue
        r = srv.get("/metrics", timeout=5)
        assert r.status_code == 200, r.text[:300]
        samples = parse_prometheus(r.text)
        assert any(n == "weft_leader" for n, _, _ in samples), \
            "GET /metrics has no weft_leader gauge:\n" + r.text[:3000]
        out.append(int(metric(samples, "weft_leader")))
    return out


# ---- many nodes, one database ------------------------------------------------------

N_BATCHES = 20
BATCH = 100
CUSTOMERS = 10
LIMIT = 3
KIND = "cl"
RULES = [{"type": "Concurency", "max_concurency": LIMIT,
          "matcher": {"kind": KIND, "status": "Running", "fields": ["customer"]}}]


def cluster_batch(b, start_url):
    """Batch b: ten chains of ten tasks (even b), or a fan-out of 98 tasks
    between one root and one fan-in task (odd b). Returns (tasks, edges)
    with edges as (parent name, child name)."""
    tasks, edges = [], []

    def add(i, deps=()):
        name = "b%d-t%d" % (b, i)
        t = {"id": "t%d" % i, "name": name, "kind": KIND, "timeout": 600, "rules": RULES,
             "metadata": {"customer": "c%d" % ((b * 7 + i) % CUSTOMERS), "b": b, "i": i},
             "on_start": webhook(start_url)}
        if deps:
            t["dependencies"] = [{"id": "t%d" % d, "requires_success": True} for d in deps]
            edges.extend(("b%d-t%d" % (b, d), name) for d in deps)
        tasks.append(t)

    if b % 2 == 0:
        for c in range(10):
            for k in range(10):
                add(c * 10 + k, (c * 10 + k - 1,) if k else ())
    else:
        add(0)
        for i in range(1, BATCH - 1):
            add(i, (0,))
        add(BATCH - 1, range(1, BATCH - 1))
    assert len(tasks) == BATCH
    return tasks, edges


class Driver:
    """Plays the service behind the start webhooks: once the mock has
    answered a start call, PATCHes the task to Success through a random live
    node and records when it sent that PATCH. A call made by the node being
    killed is not trusted: its task is finished only once it is Running (the
    node may have died before recording the start; then the task must be
    requeued and started again by another node)."""

    def __init__(self, nodes, mock, path, threads=12):
        self.nodes = nodes
        self.mock = mock
        self.path = path
        self.q = queue.Queue()
        self.lock = threading.Lock()
        self.finished = {}           # task id -> time the successful PATCH was sent
        self.requeued = set()        # task ids seen Pending/Claimed after their start call was answered
        self.restarted = {}          # task id -> time it was seen Running again after that
        self.taken = set()           # task ids a worker is finishing
        self.errors = []
        self.down = set()            # nodes not to talk to any more
        self.stop = threading.Event()
        self.local = threading.local()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        mock.on_answer = self._answered
        for t in self.threads:
            t.start()

    def _answered(self, hit):
        if hit.path == self.path:
            self.q.put(hit)

    def live(self):
        return [i for i in range(len(self.nodes)) if i not in self.down]

    def request(self, method, path, **kw):
        """One request through a random live node (another one if the
        connection fails)."""
        if not hasattr(self.local, "sessions"):
            self.local.sessions = [requests.Session() for _ in self.nodes]
        last = None
        for _ in range(6):
            i = random.choice(self.live())
            try:
                return self.local.sessions[i].request(method, self.nodes[i].base + path, timeout=20, **kw)
            except requests.RequestException as e:
                last = e
                time.sleep(0.05)
        raise last

    def error(self, text):
        with self.lock:
            self.errors.append(text)

    def _take(self, tid):
        with self.lock:
            if tid in self.taken:
                return False
            self.taken.add(tid)
            return True

    def _release(self, tid):
        with self.lock:
            self.taken.discard(tid)

    def _work(self):
        while not self.stop.is_set():
            try:
                hit = self.q.get(timeout=0.1)
            except queue.Empty:
                continue
            self._guarded(self._handle, hit)

    def _handle(self, hit):
        if node_of(hit, self.nodes) in self.down:
            t = threading.Thread(target=self._guarded, args=(self._orphan, hit), daemon=True)
            self.threads.append(t)
            t.start()
        else:
            self._finish(hit.header("X-Task-Id"))

    def _guarded(self, fn, hit):
        try:
            fn(hit)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error("driver: %r" % (e,))

    def _orphan(self, hit):
        """A start call of the killed node: waits until the task is Running
        (recorded by its owner before it died, or started again by another
        node) and finishes it, unless someone else does."""
        tid = hit.header("X-Task-Id")
        deadline = time.monotonic() + 60
        while not self.stop.is_set():
            with self.lock:
                if tid in self.finished or tid in self.taken:
                    return
            status = self.request("GET", "/task/" + tid).json()["status"]
            if status == "Running":
                self._finish(tid)
                return
            if status not in ("Claimed", "Pending"):
                return
            if time.monotonic() > deadline:
                self.error("task %s started by the killed node stayed %s" % (tid, status))
                return
            time.sleep(0.05)

    def _finish(self, tid):
        """PATCHes the task to Success, retrying while it is not Running
        (e.g. its claim went stale and it was requeued: it is started again,
        by a new call or, the call having been answered, without one)."""
        if not self._take(tid):
            return
        with self.lock:
            if tid in self.finished:
                return
        deadline = time.monotonic() + 60
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                r = self.request("PATCH", "/task/" + tid, json={"status": "Success"})
                answer = "%d %s" % (r.status_code, r.text[:200])
            except requests.RequestException as e:
                r, answer = None, repr(e)   # lost: see below what was stored
            if r is not None and r.status_code == 200:
                with self.lock:
                    self.finished[tid] = sent
                return
            if r is not None and r.status_code >= 500:
                self.error("PATCH /task/%s {Success} answered %s" % (tid, answer))
            while True:
                status = self.request("GET", "/task/" + tid).json()["status"]
                seen = time.monotonic()
                if status == "Success":
                    with self.lock:
                        self.finished[tid] = sent
                    return
                if status == "Running":
                    break
                if status not in ("Pending", "Claimed"):
                    self.error("PATCH /task/%s {Success} answered %s; task now %s" % (tid, answer, status))
                    return
                with self.lock:
                    self.requeued.add(tid)
                if time.monotonic() > deadline or self.stop.is_set():
                    self.error("task %s: PATCH answered %s, and it stayed %s" % (tid, answer, status))
                    return
                time.sleep(0.05)
            if tid in self.requeued:
                # started again: it holds its rule slot again from (at the latest) now
                with self.lock:
                    self.restarted[tid] = seen
            time.sleep(0.02)

    def close(self):
        self.stop.set()
        self.mock.on_answer = None
        for t in list(self.threads):
            t.join(5)


def max_overlap(intervals):
    """(most intervals (start, end) open at one instant, that instant); an
    interval ending at the instant another starts does not overlap it."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    cur = best = 0
    at = None
    for t, d in events:
        cur += d
        if cur > best:
            best, at = cur, t
    return best, at


def test_many_nodes_one_database_survive_a_kill(weft_factory, mock, pg):
    env = {"WORKER_CLAIM_TIMEOUT_SECS": str(CLAIM_TIMEOUT_SECS), "DB_READERS": "4"}
    nodes = start_nodes(weft_factory, 3, env)
    # the victim is the leader: its timers (requeueing its own stale claims)
    # move to another node as well
    flags = wait_for(lambda: (lambda f: f if sorted(f) == [0, 0, 1] else None)(leader_flags(nodes)),
                     timeout=5, desc="exactly one leader among three nodes")
    victim = flags.index(1)
    path = "/cl/start"
    mock.on(path, Behaviour(delay=lambda: random.uniform(0.01, 0.05)))
    start_url = mock.url(path)
    total = N_BATCHES * BATCH
    driver = Driver(nodes, mock, path)
    submit_lock = threading.Lock()
    batches = {}                 # batch number -> (batch id, node index, {name: id})
    edges = []
    sub_errors = []

    def submit():
        s = requests.Session()
        for b in range(N_BATCHES):
            # keep about 1,000 tasks unfinished: the kill happens while
            # batches are still being submitted
            while len(batches) * BATCH - len(driver.finished) > 1000 and not driver.stop.is_set():
                time.sleep(0.01)
            tasks, e = cluster_batch(b, start_url)
            with submit_lock:
                live = driver.live()
                i = live[b % len(live)]
                try:
                    r = s.post(nodes[i].base + "/task", json=tasks, timeout=60)
                except requests.RequestException as ex:
                    sub_errors.append("POST batch %d to node %d: %r" % (b, i, ex))
                    return
            if r.status_code != 201:
                sub_errors.append("POST batch %d to node %d: %d %s" % (b, i, r.status_code, r.text[:300]))
                return
            batches[b] = (r.headers.get("X-Batch-ID"), i, {t["name"]: t["id"] for t in r.json()})
            edges.extend(e)

    submitter = threading.Thread(target=submit, daemon=True)
    t_start = time.monotonic()
    submitter.start()
    try:
        # SIGKILL the victim a third of the way through, while the mock holds
        # start calls it made (their answers reach nobody)
        try:
            wait_for(lambda: len(driver.finished) >= total // 3 or sub_errors,
                     timeout=60, interval=0.01, desc="a third of the tasks to finish")
        except AssertionError:
            raise AssertionError("only %d of %d tasks finished within 60 s (%d submitted); driver errors: %s"
                                 % (len(driver.finished), total, len(batches) * BATCH, driver.errors[:10]))
        assert not sub_errors, sub_errors

        def victim_calls_in_flight():
            return [h for h in mock.hits(path)[-300:] if h.answered is None and node_of(h, nodes) == victim]

        with submit_lock:
            try:
                wait_for(lambda: len(victim_calls_in_flight()) >= 2, timeout=5, interval=0.003,
                         desc="start calls of node %d in flight" % victim)
            except AssertionError:
                pass    # kill anyway; only the takeover check below needs them
            driver.down.add(victim)
            nodes[victim].kill()
            kill_time = time.monotonic()
            in_flight_at_kill = {h.header("X-Task-Id") for h in victim_calls_in_flight()}
        submitter.join(60)
        assert not submitter.is_alive(), "submission did not finish"
        assert not sub_errors, sub_errors
        assert len(batches) == N_BATCHES
        ids = {name: tid for (_, _, m) in batches.values() for name, tid in m.items()}
        assert len(ids) == total

        # every task finishes
        try:
            wait_for(lambda: len(driver.finished) >= total, timeout=120, interval=0.05,
                     desc="every task to be finished")
        except AssertionError:
            raise AssertionError("%d of %d tasks finished within 120 s; driver errors: %s"
                                 % (len(driver.finished), total, driver.errors[:10]))
        assert not driver.errors, "%d errors: %s" % (len(driver.errors), driver.errors[:10])
        elapsed = time.monotonic() - t_start
    finally:
        driver.close()

    # ... and the database says so, read through a live node
    live_api = Api(nodes[driver.live()[0]], mock)
    for b, (bid, _, _) in sorted(batches.items()):
        listed = live_api.list_tasks(batch_id=bid, page_size=100)
        assert len(listed) == BATCH, (b, len(listed))
        bad = [(t["name"], t["status"]) for t in listed if t["status"] != "Success"]
        assert not bad, "batch %d: tasks not Success: %s" % (b, bad[:10])

    hits = mock.hits(path)
    by_task = collections.defaultdict(list)
    for h in hits:
        by_task[h.header("X-Task-Id")].append(h)
    assert set(by_task) == set(ids.values()), "tasks never started: %d" % len(set(ids.values()) - set(by_task))

    # start calls: one per task and key, except the killed node's unfinished
    # ones, called again by a live node only after the kill
    redelivered = 0
    for tid, hs in by_task.items():
        hs.sort(key=lambda h: h.time)
        keys = {h.header("Idempotency-Key") for h in hs}
        assert keys == {"%s:start" % tid}, keys
        for a, b in zip(hs, hs[1:]):
            ok = node_of(a, nodes) == victim and a.time < kill_time + 0.2 and b.time > kill_time
            assert ok, ("task %s: start called by node %d at +%.3fs (answered at %s), again by node %d at "
                        "+%.3fs; node %d killed at +%.3fs; claim timeout %d s; trail: %s"
                        % (tid, node_of(a, nodes), a.time - t_start,
                           "+%.3fs" % (a.answered - t_start) if a.answered else "never",
                           node_of(b, nodes), b.time - t_start, victim, kill_time - t_start, CLAIM_TIMEOUT_SECS,
                           trail(live_api, tid, t_start)))
        redelivered += len(hs) > 1
    victim_hits = [h for h in hits if node_of(h, nodes) == victim]
    assert victim_hits, "the killed node started nothing before the kill"
    assert max(h.time for h in victim_hits) < kill_time + 0.2
    if in_flight_at_kill:
        # its start calls in flight at the kill were taken over
        assert redelivered >= 1, "calls in flight at the kill (%s) were not made again" % sorted(in_flight_at_kill)
    # the work submitted through the killed node went on without it
    victim_tasks = [tid for b, (_, i, m) in batches.items() if i == victim for tid in m.values()]
    assert victim_tasks, "no batch was submitted through the killed node"
    assert any(driver.finished[tid] > kill_time for tid in victim_tasks)

    # dependencies: a child's start comes after its parent's PATCH Success
    for parent, child in edges:
        first = by_task[ids[child]][0].time
        assert first > driver.finished[ids[parent]], "%s started before %s had succeeded" % (child, parent)

    # the rule: at most LIMIT tasks of a customer running at once, across
    # nodes. A task occupied its slot at least from the start call that
    # made it Running (the last one before its PATCH; or, if it was requeued
    # after that call, from when it was seen Running again) until its PATCH
    # was sent.
    customer = {}
    for b, (_, _, m) in batches.items():
        for name, tid in m.items():
            i = int(name.split("-t")[1])
            customer[tid] = "c%d" % ((b * 7 + i) % CUSTOMERS)
    spans = collections.defaultdict(dict)
    for tid, sent in driver.finished.items():
        starts = [h.time for h in by_task[tid] if h.time <= sent]
        assert starts, "task %s finished before its start call" % tid
        spans[customer[tid]][tid] = (max(starts + [driver.restarted.get(tid, 0.0)]), sent)
    worst = {c: max_overlap(v.values()) for c, v in spans.items()}
    for c, (n, at) in sorted(worst.items()):
        if n > LIMIT:
            running = [(tid, s, e) for tid, (s, e) in spans[c].items() if s <= at < e]
            raise AssertionError(
                "%d tasks of customer %s running at +%.3fs (limit %d):\n%s" % (
                    n, c, at - t_start, LIMIT, "\n".join(
                        "  %s started by node %d at +%.3fs, PATCH sent at +%.3fs; trail: %s"
                        % (tid, node_of([h for h in by_task[tid] if h.time <= s][-1], nodes), s - t_start,
                           e - t_start, trail(live_api, tid, t_start)) for tid, s, e in running)))
    assert max(n for n, _ in worst.values()) == LIMIT, \
        "the rule was never reached (%s): the check proves nothing" % {c: n for c, (n, _) in worst.items()}
    print("%d tasks on 3 nodes in %.1f s; %d start calls made again after the kill; "
          "%d tasks requeued after their start call was answered"
          % (total, elapsed, redelivered, len(driver.requeued)))


def test_task_created_on_one_node_started_by_another_at_once(weft_factory, mock, pg):
    """Only the other node can start the task (this node's single start slot
    is taken) and the safety sweep is a minute away: the other node is
    woken by this node's commit."""
    env = {"WORKER_LOOP_INTERVAL_MS": "60000", "WORKER_WEBHOOK_CONCURRENCY": "1"}
    a, b = start_nodes(weft_factory, 2, env)
    api_a, api_b = Api(a, mock), Api(b, mock)
    mock.on("/start/slow", delay=8.0)
    slow = api_a.create([api_a.task("slow")])[0]
    hit = mock.wait_hits("/start/slow", 1)[0]
    if node_of(hit, [a, b]) == 1:   # b took it: the busy one must be a
        a, b, api_a, api_b = b, a, api_b, api_a
    nodes = [a, b]

    t0 = time.monotonic()
    created = api_a.create([api_a.task("p"), api_a.task("c", deps=["p"])])
    p, c = created[0]["id"], created[1]["id"]
    hit = mock.wait_hits("/start/p", 1, timeout=1.0)[0]
    assert hit.time - t0 < 1.0
    assert node_of(hit, nodes) == 1, "started by the busy node"
    api_b.wait_status(p, "Running", timeout=1.0)
    assert api_b.status(c) == "Waiting"

    # a PATCH through the busy node releases the child; the other one starts it
    t1 = time.monotonic()
    api_a.succeed(p)
    hit = mock.wait_hits("/start/c", 1, timeout=1.0)[0]
    assert hit.time - t1 < 1.0
    assert node_of(hit, nodes) == 1
    assert api_a.status(slow["id"]) == "Claimed"


# ---- leader failover -------------------------------------------------------------------


def test_timeout_fires_after_the_leader_is_killed(weft_factory, mock, pg):
    nodes = start_nodes(weft_factory, 2)
    flags = wait_for(lambda: (lambda f: f if sorted(f) == [0, 1] else None)(leader_flags(nodes)),
                     timeout=5, desc="exactly one leader among two nodes")
    leader = flags.index(1)
    other = 1 - leader
    api = Api(nodes[other], mock)
    t = api.running("a", timeout=2, on_failure=[api.hook("/a-failed")])
    t_running = time.monotonic()
    nodes[leader].kill()
    wait_for(lambda: leader_flags(nodes)[other] == 1, timeout=3, desc="the surviving node to become the leader")
    got = api.wait_status(t["id"], "Failure", timeout=6.0)
    fired = time.monotonic()
    assert got["failure_reason"] == "Timeout", got
    assert fired - t_running >= 1.5, "timed out after %.2f s of a 2 s timeout" % (fired - t_running)
    hit = mock.wait_hits("/a-failed", 1, timeout=5)[0]
    assert hit.header("Idempotency-Key") == "%s:end:failure" % t["id"]


# ---- PostgreSQL restart -----------------------------------------------------------------


def test_postgres_restart_answers_503_and_loses_nothing(weft_factory, mock, pg):
    readers = 4
    srv = weft_factory.start(env={"DB_READERS": str(readers)})
    dbname = urllib.parse.urlsplit(srv.db).path.lstrip("/")
    api = Api(srv, mock)
    lock = threading.Lock()
    log = []                     # (sent, answered, method, what, status)
    created = {}                 # task id -> name, answered 201
    succeeded = set()            # task ids answered 200 to PATCH Success
    counted = collections.Counter()   # task id -> new_success acknowledged (202, or 200 with Success)
    unsure = collections.Counter()    # task id -> new_success sent but not acknowledged
    problems = []
    stop = threading.Event()
    start_url = mock.url("/start")

    def call(s, method, path, what, **kw):
        sent = time.monotonic()
        try:
            r = s.request(method, srv.base + path, timeout=10, **kw)
        except requests.RequestException as e:
            with lock:
                problems.append("%s %s: no answer after %.1f s: %r" % (method, what, time.monotonic() - sent, e))
            return None
        with lock:
            log.append((sent, time.monotonic(), method, what, r.status_code))
        if r.status_code not in (200, 201, 202, 503):
            with lock:
                problems.append("%s %s: %d %s" % (method, what, r.status_code, r.text[:300]))
        return r

    def client(n):
        s = requests.Session()
        running = []
        i = 0
        while not stop.is_set():
            i += 1
            name = "w%d-%d" % (n, i)
            r = call(s, "POST", "/task", "task", json=[{"id": "x", "name": name, "kind": "pgr", "timeout": 600,
                                                         "on_start": webhook(start_url)}])
            if r is not None and r.status_code == 201:
                tid = r.json()[0]["id"]
                with lock:
                    created[tid] = name
                running.append(tid)
            for tid in list(running):
                r = call(s, "GET", "/task/" + tid, "status")
                if r is None or r.status_code != 200 or r.json()["status"] != "Running":
                    continue
                r = call(s, "PUT", "/task/" + tid, "counters", json={"new_success": 2})
                with lock:
                    if r is not None and r.status_code == 202:
                        counted[tid] += 2
                    else:   # a 503 may still have been committed just before the connection dropped
                        unsure[tid] += 2
                r = call(s, "PATCH", "/task/" + tid, "success", json={"status": "Success", "new_success": 1})
                with lock:
                    if r is not None and r.status_code == 200:
                        succeeded.add(tid)
                        counted[tid] += 1
                        running.remove(tid)
                    else:
                        unsure[tid] += 1
            time.sleep(0.01)

    ready = []                   # (time, status or None)

    def probe():
        s = requests.Session()
        while not stop.is_set():
            t = time.monotonic()
            try:
                code = s.get(srv.base + "/ready", timeout=5).status_code
            except requests.RequestException:
                code = None
            ready.append((t, time.monotonic() - t, code))
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(2)]
    threads.append(threading.Thread(target=probe, daemon=True))
    for th in threads:
        th.start()
    try:
        wait_for(lambda: len(succeeded) >= 20, timeout=10, desc="20 tasks through before the restart")
        stopped, starting, started = pg.restart(pause=2.0)
        wait_for(lambda: any(code == 200 for t, _, code in ready if t > started), timeout=10,
                 desc="/ready to answer 200 again after PostgreSQL is back")
        after = len(succeeded)
        wait_for(lambda: len(succeeded) >= after + 20, timeout=10, desc="20 more tasks through after the restart")
    finally:
        stop.set()
        for th in threads:
            th.join(15)
    assert not problems, problems[:20]

    # during the outage: /ready and the writes answer 503 at once
    down = [(t, d, code) for t, d, code in ready if stopped + 0.2 < t and t + d < starting]
    assert down, "no /ready probe during the outage"
    assert all(code == 503 for _, _, code in down), \
        "/ready during the outage (%.2f s): %s" % (starting - stopped, ["+%.2fs %.3fs: %s" % (t - stopped, d, code)
                                                                     for t, d, code in down])
    slow = [(m, w, round(a - s, 2)) for s, a, m, w, _ in log if a - s > 3.0]
    assert not slow, "requests took more than 3 s: %s" % slow[:10]
    outage_writes = [(m, w, code) for s, a, m, w, code in log if stopped + 0.2 < s and a < starting and m != "GET"]
    assert outage_writes, "no write was sent during the outage"
    assert any(code == 503 for _, _, code in outage_writes), outage_writes[:10]
    assert all(code == 503 for _, _, code in outage_writes), \
        "writes acknowledged while PostgreSQL was stopped: %s" % [w for w in outage_writes if w[2] != 503][:10]

    # the node is still the same process, serving, and kept every acknowledged write
    assert srv.alive()
    for tid, name in created.items():
        got = api.get_task(tid)
        assert got["name"] == name
        if tid in succeeded:
            assert got["status"] == "Success", (tid, got["status"])
        assert counted[tid] <= got["success"] <= counted[tid] + unsure[tid], \
            (tid, got["success"], counted[tid], unsure[tid])
    assert api.get("/ready").status_code == 200
    # and did not pile up connections (readers, writer, listener)
    n = pg.sql(dbname, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
               (dbname,))[0][0]
    assert n <= readers + 2, "%d connections to the database after the restart (DB_READERS=%d)" % (n, readers)


# ---- deliveries leased as they are written ---------------------------------------------


def test_delivery_leased_as_written_is_not_taken_over_by_another_node(weft_factory, mock, pg):
    """A node writes a completion's delivery already leased to itself and
    sends it after its commit. The row names that node as its lessee, so
    another node's sweep for the leases of nodes that are gone (every
    second) leaves it alone while the call is slow: one call, not two."""
    nodes = start_nodes(weft_factory, 2)
    apis = [Api(srv, mock) for srv in nodes]
    mock.on("/end/slow", delay=2.5)
    t = apis[0].running("a", on_success=[apis[0].hook("/end/slow")])
    # A first delivery, leased as usual, leaves nothing waiting on node 0:
    # the next one is written leased.
    w = apis[0].running("w", on_success=[apis[0].hook("/end/warm")])
    assert apis[0].patch_task(w["id"], {"status": "Success"}).status_code == 200
    apis[0].wait_delivery("%s:end:success" % w["id"], "success", timeout=5.0)
    time.sleep(0.3)
    assert apis[0].patch_task(t["id"], {"status": "Success"}).status_code == 200
    mock.wait_hits("/end/slow", 1, timeout=5)
    # While the call is out, node 0's commits wake node 1, which leases
    # and sweeps (at most once a second) each time.
    end = time.monotonic() + 2.2
    while time.monotonic() < end:
        apis[0].create([apis[0].task("x")])
        time.sleep(0.2)
    time.sleep(1.0)     # past the slow answer
    hits = mock.hits("/end/slow")
    assert len(hits) == 1, "the delivery was made %d times: %s" % (
        len(hits), [(h.header("Idempotency-Key"), node_of(h, nodes)) for h in hits])
    key = "%s:end:success" % t["id"]
    d = apis[1].wait_delivery(key, "success", timeout=5.0)
    assert d["attempts"] == 1


# ---- sets applied by two nodes at once -------------------------------------------------

SET_TASKS = 120
SET_CLIENTS = 16


def test_two_nodes_apply_sets_on_the_same_tasks(weft_factory, mock, pg):
    """Both nodes apply the commands of each cycle as sets (locked in id
    order, one statement per round) to the same tasks, in opposite orders:
    every counter increment lands once, every task completes once, no
    request fails, nothing waits on a deadlock."""
    nodes = start_nodes(weft_factory, 2)
    apis = [Api(srv, mock) for srv in nodes]
    bid, created = apis[0].create_batch([apis[0].task("s%d" % i, start="/start/set") for i in range(SET_TASKS)])
    ids = sorted(t["id"] for t in created.values())
    wait_for(lambda: apis[1].get("/batch/" + bid).json()["status_counts"]["running"] == SET_TASKS,
             timeout=20, desc="every task running")

    sent = collections.Counter()
    requests_made = [0]
    errors = []
    lock = threading.Lock()

    def client(k):
        s = requests.Session()
        srv = nodes[k % 2]
        rnd = random.Random(k)
        # half the clients walk the tasks up, half down, through both nodes
        order = ids if k % 4 < 2 else ids[::-1]
        mine = collections.Counter()
        made = 0
        for _ in range(3):
            for tid in order:
                n = rnd.randint(1, 3)
                r = s.put(srv.url("/task/" + tid), json={"new_success": n}, timeout=30)
                made += 1
                if r.status_code != 202:
                    errors.append(("PUT", tid, r.status_code, r.text[:200]))
                else:
                    mine[tid] += n
            # every task completed by each client, through its node: one applies
            for tid in order[k % 7::7]:
                r = s.patch(srv.url("/task/" + tid), json={"status": "Success"}, timeout=30)
                made += 1
                if r.status_code != 200:
                    errors.append(("PATCH", tid, r.status_code, r.text[:200]))
        with lock:
            sent.update(mine)
            requests_made[0] += made

    threads = [threading.Thread(target=client, args=(k,)) for k in range(SET_CLIENTS)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "clients still waiting after 120 s: a deadlock?"
    assert errors == [], errors[:5]
    elapsed = time.monotonic() - t0

    for tid in ids:
        got = apis[0].get_task(tid)
        assert got["status"] == "Success", got
        assert got["success"] == sent[tid], "task %s: %d counted, %d sent" % (tid, got["success"], sent[tid])
        done = [e for e in apis[1].events(tid) if e["to"] == "Success"]
        assert len(done) == 1, "task %s completed %d times: %r" % (tid, len(done), done)
    conflicts = sum(metric(parse_prometheus(srv.get("/metrics").text), "engine_conflict_retries_total")
                    for srv in nodes)
    print("%d requests on 2 nodes in %.1f s; %d conflict retries" % (requests_made[0], elapsed, conflicts))


# ---- the status gauges ---------------------------------------------------------------------

STATE_LABEL = {"waiting": "Waiting", "pending": "Pending", "claimed": "Claimed", "running": "Running",
               "paused": "Paused", "retrying": "RetryPending", "success": "Success", "failure": "Failure",
               "canceled": "Canceled"}


def test_status_gauges_match_the_tasks_on_two_nodes(weft_factory, mock, pg):
    """Tasks driven through every status by two nodes (each creating, ending,
    pausing and canceling some): each node's tasks_by_status gauges, kept as
    counts by the transactions that change a status, equal a count of the
    tasks themselves, again after more changes."""
    nodes = start_nodes(weft_factory, 2, {"WEBHOOK_TIMEOUT_MS": "60000"})
    apis = [Api(srv, mock) for srv in nodes]
    mock.on("/start/claimed", delay=30.0)     # stays Claimed for the test
    retry = {"max_retries": 1, "initial_delay_secs": 3600, "backoff_multiplier": 1, "max_delay_secs": 3600,
             "retry_on": ["explicit"]}
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat()
    made = []
    for k, api in enumerate(apis):
        other = apis[1 - k]
        bid, t = api.create_batch([
            api.task("run%d" % k), api.task("ok%d" % k), api.task("ko%d" % k), api.task("stop%d" % k),
            api.task("retry%d" % k, retry=retry), api.task("claimed%d" % k, start="/start/claimed"),
            api.task("later%d" % k, start_after=later), api.task("pause%d" % k, start_after=later),
            api.task("wait%d" % k, deps=["run%d" % k]), api.task("wait2%d" % k, deps=["ok%d" % k]),
            api.task("gone%d" % k, deps=["ko%d" % k]),
        ])
        made.append(bid)
        for name in ("run", "ok", "ko", "stop", "retry"):
            other.wait_status(t["%s%d" % (name, k)]["id"], "Running", timeout=10)
        other.succeed(t["ok%d" % k]["id"])                       # its child becomes pending, then starts
        other.fail(t["ko%d" % k]["id"])                          # its child fails with it
        assert other.cancel(t["stop%d" % k]["id"]).status_code == 200
        other.fail(t["retry%d" % k]["id"])
        api.wait_state(t["retry%d" % k]["id"], "retrying", timeout=5)
        assert other.pause(t["pause%d" % k]["id"]).status_code == 200
        api.wait_status(t["claimed%d" % k]["id"], "Claimed", timeout=5)
        api.wait_status(t["wait2%d" % k]["id"], "Running", timeout=10)
    # a batch stopped as a whole, through the other node
    bid, t = apis[0].create_batch([apis[0].task("b-run"), apis[0].task("b-wait", deps=["b-run"])])
    apis[0].wait_status(t["b-run"]["id"], "Running", timeout=10)
    assert apis[1].delete("/batch/" + bid).status_code == 200

    def counted():
        want = collections.Counter()
        page = 0
        while True:
            r = apis[0].get("/task", params={"page": page, "page_size": 100})
            assert r.status_code == 200, r.text
            rows = r.json()
            want.update(STATE_LABEL[t["state"]] for t in rows)
            if len(rows) < 100:
                return want
            page += 1

    def gauges(srv):
        samples = parse_prometheus(srv.get("/metrics").text)
        return collections.Counter({label: int(metric(samples, "tasks_by_status", status=label))
                                    for label in STATE_LABEL.values()
                                    if metric(samples, "tasks_by_status", status=label)})

    want = counted()
    assert set(want) == set(STATE_LABEL.values()), "not every status reached: %r" % want
    for srv in nodes:
        assert gauges(srv) == want

    # more changes, again through both nodes
    for k, api in enumerate(apis):
        rows = [t for t in api.list_tasks(page_size=100) if t["name"] in ("task-run%d" % k, "task-pause%d" % k)]
        for t in rows:
            if t["status"] == "Running":
                apis[1 - k].succeed(t["id"])
            else:
                assert apis[1 - k].cancel(t["id"]).status_code == 200
    def children_run():
        return all(t["status"] == "Running" for t in apis[0].list_tasks(page_size=100)
                   if t["name"] in ("task-wait0", "task-wait1"))

    wait_for(children_run, timeout=10, desc="the released children to run")
    want = counted()
    for srv in nodes:
        assert gauges(srv) == want
