"""GET /v1/changes, the change feed: a stream sees a job's status changes in
commit order (enqueue, claim, complete), resumes after a cursor (the after
parameter or Last-Event-ID), keeps to the namespaces of a scoped token,
resets a stream that fell behind what the server keeps or whose cursor is
of an earlier process, and the number of streams open is bounded."""

import http.client
import json
import queue
import socket
import threading
import time
import urllib.parse

import pytest

ROOT, TEAM_A = "admin-token-0123456789", "token-of-team-a-0123"
TOKENS = "root %s * admin; a %s a client" % (ROOT, TEAM_A)
HR, HA = {"Authorization": "Bearer " + ROOT}, {"Authorization": "Bearer " + TEAM_A}


class Stream:
    """A change stream read on a thread: next() waits for the next event
    (event, id, data) at most `timeout` seconds. Closing shuts the socket
    down, so that the reading thread stops at once."""

    def __init__(self, api, headers=None, **params):
        base = urllib.parse.urlsplit(api.server.base)
        self.conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
        h = {"Accept": "text/event-stream"}
        h.update(headers or {})
        self.conn.request("GET", "/v1/changes?" + urllib.parse.urlencode(params), headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = self.resp.headers
        self.events = queue.Queue()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = self.resp.read().decode()

    def _read(self):
        event, ident, data = None, None, []
        try:
            for raw in self.resp:
                raw = raw.decode().rstrip("\r\n")
                if raw == "":
                    if event is not None:
                        self.events.put((event, ident, json.loads("\n".join(data))))
                    event, ident, data = None, None, []
                elif raw.startswith(":"):
                    continue
                elif raw.startswith("event: "):
                    event = raw[7:]
                elif raw.startswith("id: "):
                    ident = raw[4:]
                elif raw.startswith("data: "):
                    data.append(raw[6:])
        except Exception:   # closed by close()
            pass

    def next(self, timeout=15):
        return self.events.get(timeout=timeout)

    def tasks_until(self, done, timeout=30):
        """Every task object of the tasks events until done(tasks so far);
        and the id of the last event read."""
        seen, last = [], None
        while not done(seen):
            event, last, data = self.next(timeout)
            assert event == "tasks", (event, data)
            seen += data["tasks"]
        return seen, last

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def enqueue(api, n=1, queue_name="q", headers=None, namespace=None):
    body = {"jobs": [{"queue": queue_name} for _ in range(n)]}
    if namespace:
        body["namespace"] = namespace
    r = api.post("/v1/jobs", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return [j["id"] for j in r.json()["jobs"]]


def statuses_of(tasks, task_id):
    return [t["status"] for t in tasks if t["id"] == task_id]


def test_a_jobs_changes_in_order_and_resume(api):
    with Stream(api) as s:
        assert s.status == 200 and s.headers["Content-Type"].startswith("text/event-stream")
        (jid,) = enqueue(api)
        r = api.post("/v1/jobs/claim", json={"queues": ["q"], "worker_id": "w1"})
        (job,) = r.json()["jobs"]
        r = api.post("/v1/jobs/%s/complete" % jid, json={"lease_token": job["lease_token"], "result": {"ok": 1}})
        assert r.status_code == 200, r.text
        seen, last = s.tasks_until(lambda t: "success" in statuses_of(t, jid))
        assert statuses_of(seen, jid) == ["pending", "running", "success"]
        done = [t for t in seen if t["id"] == jid][-1]
        assert done["run_id"] == jid and done["namespace"] == "default" and done["queue"] == "q"
        assert done["kind"] == "q" and done["executor"] == "queue" and done["attempt"] == 1
        assert done["started_at"] is not None and done["ended_at"] is not None
        first_id = None
    # Resumed after the first event, a stream gets what came after it.
    with Stream(api) as s:
        (a,) = enqueue(api)
        event, first_id, data = s.next()
        assert event == "tasks" and [t["id"] for t in data["tasks"]] == [a]
        (b,) = enqueue(api)
        s.tasks_until(lambda t: any(x["id"] == b for x in t))
        # Another stream stays open, so the feed keeps the changes.
        for resume in ({"after": first_id}, {"Last-Event-ID": first_id}):
            params = {"after": first_id} if "after" in resume else {}
            headers = resume if "after" not in resume else None
            with Stream(api, headers=headers, **params) as again:
                seen, _ = again.tasks_until(lambda t: any(x["id"] == b for x in t))
                assert [t["id"] for t in seen] == [b]
    # A cursor that is not one names the parameter.
    r = api.get("/v1/changes", params={"after": "nope"})
    assert r.status_code == 400 and "after" in r.text
    r = api.get("/v1/changes", params={"run": jid, "namespace": "default"})
    assert r.status_code == 400 and "namespace" in r.text


def test_run_filter(api):
    with Stream(api) as watch_all:
        (mine,) = enqueue(api)
        with Stream(api, run=mine) as s:
            (other,) = enqueue(api)
            r = api.post("/v1/tasks/%s/cancel" % mine, json={})
            assert r.status_code == 200, r.text
            seen, _ = s.tasks_until(lambda t: "canceled" in statuses_of(t, mine))
            assert {t["id"] for t in seen} == {mine}
        watch_all.tasks_until(lambda t: any(x["id"] == other for x in t))
    r = api.get("/v1/changes", params={"run": "00000000-0000-4000-8000-000000000000"})
    assert r.status_code == 404


def test_namespaces_of_a_scoped_token(make_api):
    api = make_api(WEFT_TOKENS=TOKENS)
    (in_b,) = enqueue(api, headers=HR, namespace="b")
    with Stream(api, headers=HA) as team_a, Stream(api, headers=HA, namespace="b") as a_asks_b, \
            Stream(api, headers=HR) as root:
        (b2,) = enqueue(api, headers=HR, namespace="b")
        (a1,) = enqueue(api, headers=HA, namespace="a")
        seen, _ = root.tasks_until(lambda t: {x["id"] for x in t} >= {b2, a1})
        seen_a, _ = team_a.tasks_until(lambda t: any(x["id"] == a1 for x in t))
        assert {t["namespace"] for t in seen_a} == {"a"}
        # Asking for a namespace it may not see gives nothing at all.
        assert a_asks_b.events.empty()
    assert api.get("/v1/changes", headers=HA, params={"run": in_b}).status_code == 404
    assert api.get("/v1/changes").status_code == 401


def test_reset_when_behind_or_from_an_earlier_process(api):
    with Stream(api) as s:
        (first,) = enqueue(api)
        _, cursor, _ = s.next()
        # More changes than the feed keeps (8,192) pass while this cursor waits.
        last = None
        for _ in range(9):
            last = enqueue(api, 1000)[-1]
        s.tasks_until(lambda t: any(x["id"] == last for x in t), timeout=60)
        with Stream(api, after=cursor) as behind:
            event, head, data = behind.next()
            assert event == "reset" and data == {}
            # It goes on from there.
            (after_reset,) = enqueue(api)
            event, _, data = behind.next()
            assert event == "tasks" and [t["id"] for t in data["tasks"]] == [after_reset]
    again = api.server.restart(same_port=True)
    with Stream(type("A", (), {"server": again})(), after=cursor) as old:
        event, _, _ = old.next()
        assert event == "reset"


def test_streams_are_bounded(make_api):
    api = make_api(UI_STREAMS_MAX="1")
    with Stream(api) as first:
        assert first.status == 200
        r = api.get("/v1/changes")
        assert r.status_code == 503 and "UI_STREAMS_MAX" in r.text


def test_poll_with_follow_false(api):
    start = api.get("/v1/changes", params={"follow": "false"})
    assert start.status_code == 200, start.text
    page = start.json()
    assert page["tasks"] == [] and page["reset"] is False
    (jid,) = enqueue(api)
    r = api.post("/v1/tasks/%s/cancel" % jid, json={})
    assert r.status_code == 200, r.text
    page = api.get("/v1/changes", params={"follow": "false", "after": page["cursor"]}).json()
    assert statuses_of(page["tasks"], jid) == ["pending", "canceled"] and page["reset"] is False
    again = api.get("/v1/changes", params={"follow": "false", "after": page["cursor"]}).json()
    assert again["tasks"] == []
    r = api.get("/v1/changes", params={"follow": "maybe"})
    assert r.status_code == 400 and "follow" in r.text


@pytest.mark.postgres_only
def test_another_nodes_changes_arrive(weft_factory, mock):
    """Two nodes on one database: a stream on the first sees a cancel made
    through the second (read from the trail, within about a second)."""
    from harness import Api
    first = weft_factory.start()
    second = weft_factory.start(db=first.db)
    a, b = Api(first, mock), Api(second, mock)
    (jid,) = enqueue(b)
    with Stream(a, run=jid) as s:
        t0 = time.monotonic()
        r = b.post("/v1/tasks/%s/cancel" % jid, json={})
        assert r.status_code == 200, r.text
        seen, _ = s.tasks_until(lambda t: "canceled" in statuses_of(t, jid), timeout=10)
        assert time.monotonic() - t0 < 5
