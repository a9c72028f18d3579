"""A COMMIT whose answer is lost with the connection (PostgreSQL): the node
does not guess. It learns whether the transaction committed, and answers
accordingly: a write that committed is acknowledged (never 503), one that
did not is answered 503 (never acknowledged).

The server reaches PostgreSQL through a TCP proxy in this process. Armed
with a task's id, the proxy lets through everything until the connection
that sent a statement naming that task sends COMMIT; then it drops both
sides of that connection, after forwarding the COMMIT (the server commits,
weft never hears so) or before (nothing commits); it may then refuse every
connection for a while, as a database out of reach would.
"""

import socket
import struct
import threading
import time
import urllib.parse

import pytest

from harness import Api, wait_for

pytestmark = pytest.mark.postgres_only

AFTER, BEFORE = "after", "before"


class CommitDropProxy:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server, and can drop
    one connection at the COMMIT of a transaction that mentions a marker."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.lock = threading.Lock()
        self.marker = None        # bytes: arms the proxy
        self.mode = None
        self.outage = 0.0
        self.outage_until = 0.0   # time.monotonic(): connections refused until then
        self.dropped = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closing = False
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker, mode, outage=0.0):
        """Drops the connection at the COMMIT of a transaction naming
        `marker` (once), then refuses connections for `outage` seconds."""
        with self.lock:
            self.marker = marker.encode()
            self.mode = mode
            self.outage = outage

    def close(self):
        self.closing = True
        self.listener.close()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            _close(s)

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.outage_until:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self.lock:
                self.socks += [client, server]
            # Set before a COMMIT to drop goes out: from then on nothing the
            # server sends reaches the client, its answer included.
            cut = threading.Event()
            threading.Thread(target=self._client_to_server, args=(client, server, cut), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(client, server, cut), daemon=True).start()

    def _server_to_client(self, client, server, cut):
        try:
            while True:
                data = server.recv(65536)
                if not data or cut.is_set():
                    break
                client.sendall(data)
        except OSError:
            pass
        _close(client)
        _close(server)

    def _client_to_server(self, client, server, cut):
        pending = b""
        started = False           # the startup message (no type byte) went through
        seen = False              # this connection sent a message naming the marker
        drop_at_sync = False      # COMMIT went out in a pipeline: drop once its Sync has
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                pending += data
                while True:
                    head = 5 if started else 4
                    if len(pending) < head:
                        break
                    size = (1 + struct.unpack("!I", pending[1:5])[0]) if started \
                        else struct.unpack("!I", pending[:4])[0]
                    if len(pending) < size:
                        break
                    msg, pending = pending[:size], pending[size:]
                    if drop_at_sync and msg[:1] == b"S":
                        server.sendall(msg)
                        raise ConnectionAbortedError("dropped after COMMIT")
                    with self.lock:
                        marker, mode = self.marker, self.mode
                        if started and marker is not None:
                            seen = seen or marker in msg
                            # COMMIT as a simple query, or parsed (unnamed) in a pipeline
                            commit = (msg[:1] == b"Q" and msg[5:11] == b"COMMIT") or \
                                (msg[:1] == b"P" and msg[5:12] == b"\0COMMIT")
                            if seen and commit:
                                self.marker = None
                                self.dropped += 1
                                self.outage_until = time.monotonic() + self.outage
                                cut.set()
                                if mode != AFTER:
                                    raise ConnectionAbortedError("dropped at COMMIT")
                                if msg[:1] == b"Q":
                                    server.sendall(msg)
                                    raise ConnectionAbortedError("dropped at COMMIT")
                                drop_at_sync = True   # the rest of the pipeline goes too
                    server.sendall(msg)
                    started = True
        except OSError:
            pass
        _close(client)
        _close(server)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


@pytest.fixture
def proxied(weft_factory, mock, pg):
    """A server whose every connection to PostgreSQL goes through a
    CommitDropProxy; yields (api, proxy)."""
    proxy = CommitDropProxy(pg.port)
    url = urllib.parse.urlsplit(weft_factory.new_db())
    # sslmode/gssencmode disable: the proxy reads the protocol's messages.
    db = "postgres://%s@127.0.0.1:%d%s?sslmode=disable&gssencmode=disable" % (url.username, proxy.port, url.path)
    srv = weft_factory.start(db=db)
    yield Api(srv, mock), proxy
    # stopped before the proxy goes: its problems reported as the factory's
    weft_factory.problems.extend("%s: %s" % (srv.log_path, p) for p in srv.stop())
    proxy.close()


def test_put_whose_commit_answer_is_lost_is_acknowledged(proxied):
    api, proxy = proxied
    t = api.running("a")
    assert api.counters(t["id"], 1).status_code == 202
    proxy.arm(t["id"], AFTER)
    r = api.counters(t["id"], 2)
    assert proxy.dropped == 1, "the proxy never saw the PUT's COMMIT"
    assert r.status_code == 202, "PUT whose COMMIT committed: %d %s" % (r.status_code, r.text[:300])
    assert api.get_task(t["id"])["success"] == 3
    # and the node goes on
    assert api.counters(t["id"], 4).status_code == 202
    assert api.get_task(t["id"])["success"] == 7


def test_put_whose_commit_never_arrived_is_answered_503(proxied):
    api, proxy = proxied
    t = api.running("a")
    proxy.arm(t["id"], BEFORE)
    r = api.counters(t["id"], 2)
    assert proxy.dropped == 1, "the proxy never saw the PUT's COMMIT"
    assert r.status_code == 503, "PUT whose COMMIT never arrived: %d %s" % (r.status_code, r.text[:300])
    assert api.get_task(t["id"])["success"] == 0
    wait_for(lambda: api.counters(t["id"], 4).status_code == 202, timeout=5, desc="a PUT acknowledged again")
    assert api.get_task(t["id"])["success"] == 4


def test_while_a_commit_is_in_doubt_other_writes_answer_503_at_once(proxied):
    api, proxy = proxied
    t = api.running("a")
    u = api.running("b")
    proxy.arm(t["id"], AFTER, outage=2.0)
    answered = {}

    def put():
        sent = time.monotonic()
        r = api.counters(t["id"], 2)
        answered["put"] = (r.status_code, time.monotonic() - sent, r.text[:300])

    th = threading.Thread(target=put, daemon=True)
    th.start()
    wait_for(lambda: proxy.dropped == 1, timeout=5, desc="the PUT's COMMIT dropped")
    # the database is out of reach and the PUT's outcome unknown: another
    # write is refused at once, not queued behind it
    sent = time.monotonic()
    r = api.counters(u["id"], 1)
    took = time.monotonic() - sent
    assert r.status_code == 503, "PUT while a commit is in doubt: %d %s" % (r.status_code, r.text[:300])
    assert took < 1.5, "PUT while a commit is in doubt took %.2f s" % took
    # once the database is back, the parked PUT gets its true answer
    th.join(15)
    assert "put" in answered, "the PUT whose commit was in doubt got no answer"
    status, waited, text = answered["put"]
    assert status == 202, "PUT whose COMMIT committed: %d %s" % (status, text)
    assert waited > 1.5, "answered after %.2f s, before the database was back" % waited
    assert api.get_task(t["id"])["success"] == 2
    assert api.get_task(u["id"])["success"] == 0
