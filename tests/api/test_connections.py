"""Connections at the HTTP level: clients that half-close after sending their
request, idle connections and the per-address cap, the header timeout apart
from the keep-alive idle timeout, malformed request lines, and ambiguous
message framing (several Content-Length headers, Content-Length with
Transfer-Encoding)."""

import json
import socket
import time
import uuid

from harness import read_until_close, wait_for


def connect(port, source=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source is not None:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, within):
    """True when the server closes s (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        while True:
            c = s.recv(4096)
            if not c:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def request_bytes(method, path, body=b"", headers=(), length=True):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: x", "Content-Type: application/json"]
    if length:
        lines.append("Content-Length: %d" % len(body))
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def fresh_health(port, timeout=3.0):
    """GET /health on a new connection (a session's pooled connection would
    not show whether new clients get in); its status code, or None."""
    try:
        s = connect(port, timeout=timeout)
    except OSError:
        return None
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp = read_until_close(s)
    except OSError:
        return None
    finally:
        s.close()
    return status_of(resp) if resp else None


def status_of(resp):
    head = resp.split(b"\r\n", 1)[0]
    parts = head.split(b" ")
    assert len(parts) >= 2 and parts[0].startswith(b"HTTP/1."), resp[:200]
    return int(parts[1])


# ---- clients that half-close after their request ------------------------------------


def half_closed(port, data):
    s = connect(port)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return read_until_close(s)
    finally:
        s.close()


def test_half_closed_clients_get_their_answer(api, mock):
    """Some proxies shut their side down once the request is sent: every
    mutating route must still answer, and each answer must be complete."""
    port = api.server.port
    hold = api.hold()
    t = api.running("t")
    waiting = api.create([api.task("w", **hold.kw())])[0]
    group = api.create([api.task("g", group="grp", **hold.kw())])[0]
    bid = t["batch_id"]
    rules = json.dumps({"kind": "test", "rules": []}).encode()
    requests_ = [
        ("POST", "/task", json.dumps([api.task("n")]).encode(), (201,)),
        ("PATCH", "/task/" + t["id"], b'{"metadata":{"k":1}}', (200,)),
        ("PUT", "/task/" + t["id"], b'{"new_success":1}', (202,)),
        ("PATCH", "/task/pause/" + waiting["id"], b"", (200, 409)),
        ("PATCH", "/task/resume/" + waiting["id"], b"", (200, 409)),
        ("PATCH", "/batch/%s/rules" % bid, rules, (200,)),
        ("PATCH", "/group/grp/pause", b"", (200,)),
        ("PATCH", "/group/grp/resume", b"", (200,)),
        ("DELETE", "/task/" + str(uuid.uuid4()), b"", (404,)),
        ("DELETE", "/batch/" + str(uuid.uuid4()), b"", (404,)),
    ]
    for method, path, body, codes in requests_:
        for i in range(25):
            resp = half_closed(port, request_bytes(method, path, body))
            assert resp, "%s %s (try %d): no answer" % (method, path, i)
            assert status_of(resp) in codes, (method, path, resp[:300])
            head, _, rest = resp.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    assert len(rest) == int(value), (method, path, resp[:300])
    # cancels, last: the task and the group end
    resp = half_closed(port, request_bytes("DELETE", "/task/" + waiting["id"]))
    assert status_of(resp) == 200, resp[:300]
    resp = half_closed(port, request_bytes("DELETE", "/group/grp"))
    assert status_of(resp) == 200, resp[:300]
    api.wait_status(group["id"], "Canceled")
    assert api.get_task(t["id"])["success"] == 25
    assert len(api.list_tasks(name="task-n", page_size=100)) == 25


# ---- idle connections -------------------------------------------------------------------


def health_while_idle(port, sources, n_health=5):
    """Opens an idle connection from each source address (None: the
    default), then checks that new clients get /health at once; returns the
    idle sockets, open or closed by the server, for the caller to close."""
    idle = [connect(port, source=src) for src in sources]
    t0 = time.monotonic()
    for _ in range(n_health):
        assert fresh_health(port) == 200
    assert time.monotonic() - t0 < 2.0
    return idle


def test_idle_connections_from_one_address_do_not_block_others(weft_factory):
    """More idle connections than the server holds, from one address: any
    other client still gets /health at once."""
    srv = weft_factory.start(env={"MAX_CONNECTIONS": "32", "MAX_CONNECTIONS_PER_IP": "8"})
    idle = health_while_idle(srv.port, ["127.0.0.2"] * 48)
    try:
        # past the cap, the oldest idle connections of that address are closed
        assert closed_by_server(idle[0], within=2.0)
    finally:
        for s in idle:
            s.close()


def test_idle_connections_from_many_addresses_do_not_block_others(weft_factory):
    srv = weft_factory.start(env={"MAX_CONNECTIONS": "16"})
    for s in health_while_idle(srv.port, ["127.0.1.%d" % (i + 1) for i in range(40)]):
        s.close()


def test_idle_connections_from_the_same_address_do_not_block_it(weft_factory):
    srv = weft_factory.start(env={"MAX_CONNECTIONS_PER_IP": "4"})
    for s in health_while_idle(srv.port, [None] * 20, n_health=3):
        s.close()


def test_connections_past_their_request_header_are_capped_per_address(weft_factory):
    """Connections that sent a request stay open (keep-alive), at most
    MAX_CONNECTIONS_PER_IP of them per address."""
    srv = weft_factory.start(env={"MAX_CONNECTIONS_PER_IP": "4"})
    socks = []
    try:
        answered = 0
        for _ in range(8):
            s = connect(srv.port, source="127.0.0.3")
            socks.append(s)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(2.0)
            try:
                if s.recv(4096).startswith(b"HTTP/1.1 200"):
                    answered += 1
            except (socket.timeout, ConnectionResetError):
                pass
        assert answered == 4
        assert fresh_health(srv.port) == 200
    finally:
        for s in socks:
            s.close()


def test_header_timeout(weft_factory):
    """A connection that sends nothing, or only part of a request header, is
    closed after HTTP_HEADER_TIMEOUT_SECS."""
    srv = weft_factory.start(env={"HTTP_HEADER_TIMEOUT_SECS": "1"})
    silent = connect(srv.port)
    partial = connect(srv.port)
    try:
        partial.sendall(b"POST /task HTTP/1.1\r\nHost: x\r\nContent-Le")
        t0 = time.monotonic()
        assert closed_by_server(silent, within=4.0)
        assert closed_by_server(partial, within=4.0)
        assert time.monotonic() - t0 < 3.5
    finally:
        silent.close()
        partial.close()
    assert srv.get("/health").status_code == 200


def test_keep_alive_idle_timeout_is_separate(weft_factory):
    """Between two requests a keep-alive connection may idle for
    HTTP_IDLE_TIMEOUT_SECS, longer than the header timeout, and is then
    closed."""
    srv = weft_factory.start(env={"HTTP_HEADER_TIMEOUT_SECS": "1", "HTTP_IDLE_TIMEOUT_SECS": "3"})
    s = connect(srv.port)
    try:
        for _ in range(2):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(3.0)
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(1.6)
        assert closed_by_server(s, within=4.0)
    finally:
        s.close()


# ---- malformed requests -------------------------------------------------------------------


def test_malformed_request_lines_get_400_and_close(api):
    port = api.server.port
    for data in (b"GARBAGE\r\n\r\n",
                 b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x9a\x4b",   # a TLS client hello
                 b"\x00\x01\x02\r\n\r\n",
                 b"GET /health\r\n\r\n",
                 b"G(T /health HTTP/1.1\r\nHost: x\r\n\r\n"):
        s = connect(port)
        try:
            s.sendall(data)
            resp = read_until_close(s)      # ends only when the server closes
        finally:
            s.close()
        assert resp.startswith(b"HTTP/1.1 400"), (data, resp[:200])
    assert api.get("/health").status_code == 200


# ---- framing ------------------------------------------------------------------------------


def test_ambiguous_framing_is_refused(api):
    port = api.server.port
    t = api.running("t")
    body = b'{"new_success":1}'
    path = "/task/" + t["id"]
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    cases = [
        request_bytes("PUT", path, body, headers=("Content-Length: 3",)),
        request_bytes("PUT", path, body, headers=("Content-Length: %d" % len(body),)),
        request_bytes("PUT", path, chunked, headers=("Transfer-Encoding: chunked",)),
        request_bytes("PUT", path, chunked, headers=("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
                      length=False),
        request_bytes("PUT", path, body, headers=("Transfer-Encoding: gzip",), length=False),
    ]
    for data in cases:
        s = connect(port)
        try:
            s.sendall(data)
            t0 = time.monotonic()
            resp = read_until_close(s)      # ends when the server closes
            assert time.monotonic() - t0 < 3.0, "the connection stayed open"
        finally:
            s.close()
        assert resp.startswith(b"HTTP/1.1 400"), (data, resp[:300])
    assert api.get_task(t["id"])["success"] == 0
    # one Content-Length, or chunked alone, are fine
    for data in (request_bytes("PUT", path, body),
                 request_bytes("PUT", path, chunked, headers=("Transfer-Encoding: chunked",), length=False)):
        s = connect(port)
        try:
            s.sendall(data)
            s.settimeout(5)
            assert s.recv(65536).startswith(b"HTTP/1.1 202")
        finally:
            s.close()
    wait_for(lambda: api.get_task(t["id"])["success"] == 2, desc="both counted")
