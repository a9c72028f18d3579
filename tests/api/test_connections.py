"""Connections at the HTTP level: clients that half-close after sending their
request, and ambiguous message framing (several Content-Length headers,
Content-Length with Transfer-Encoding)."""

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


def request_bytes(method, path, body=b"", headers=(), length=True):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: x", "Content-Type: application/json"]
    if length:
        lines.append("Content-Length: %d" % len(body))
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


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
