"""The server never crashes on clients: slow or vanishing clients, truncated
requests, many connections at once."""

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import read_until_close


def raw_send(port, data, read=True, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return read_until_close(s) if read else b""
    finally:
        s.close()


def request_bytes(method, path, body=b"", extra=""):
    head = "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s" \
           "Connection: close\r\n\r\n" % (method, path, len(body), extra)
    return head.encode() + body


def assert_healthy(api):
    r = api.get("/health", timeout=5)
    assert r.status_code == 200


def test_client_disconnects_right_after_sending(api, mock):
    body = json.dumps([api.task("a", start="/start")]).encode()
    for _ in range(30):
        raw_send(api.server.port, request_bytes("POST", "/task", body), read=False)
    t = api.running("x")
    for _ in range(30):
        raw_send(api.server.port, request_bytes("PUT", "/task/" + t["id"], b'{"new_success":1}'), read=False)
    patch = json.dumps({"status": "Success"}).encode()
    raw_send(api.server.port, request_bytes("PATCH", "/task/" + t["id"], patch), read=False)
    assert_healthy(api)
    # every acknowledged-or-not write either happened completely or not at all
    got = api.wait_status(t["id"], "Success")
    assert got["success"] <= 30
    created = api.list_tasks(name="task-a", page_size=100)
    assert len(created) <= 30
    assert_healthy(api)


def test_truncated_body(api):
    # Content-Length announces more than is sent, then the client goes away
    data = request_bytes("POST", "/task", b'[{"id":"a"').replace(b"Content-Length: 10", b"Content-Length: 500")
    raw_send(api.server.port, data, read=False)
    assert_healthy(api)
    assert api.list_tasks() == []


def test_slow_clients_do_not_block_others(api):
    socks = []
    try:
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", api.server.port), timeout=5)
            s.sendall(b"POST /task HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")  # never finished
            socks.append(s)
        t0 = time.monotonic()
        for _ in range(5):
            assert_healthy(api)
        api.running("a")
        assert time.monotonic() - t0 < 3.0
    finally:
        for s in socks:
            s.close()
    assert_healthy(api)


def test_garbage_requests(api):
    for data in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /task HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /task HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"GET /task?page=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 b"GET /health HTTP/1.1\r\n" + b"X-H: " + b"v" * 20000 + b"\r\n\r\n"):
        try:
            raw_send(api.server.port, data, timeout=2.0)
        except OSError:
            pass
    assert_healthy(api)


def test_chunked_post_accepted(api):
    body = json.dumps([api.task("a")]).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 50]), body[i:i + 50]) for i in range(0, len(body), 50))
    chunked += b"0\r\n\r\n"
    head = b"POST /task HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" \
           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    resp = raw_send(api.server.port, head + chunked)
    assert resp.startswith(b"HTTP/1.1 201"), resp[:200]


def test_many_concurrent_clients(api):
    url = api.server.url("/task")
    local = threading.local()

    def work(i):
        if not hasattr(local, "s"):
            local.s = requests.Session()
        codes = []
        for j in range(10):
            r = local.s.post(url, json=[{"id": "a", "name": "c%d-%d" % (i, j), "kind": "many",
                                         "on_start": {"kind": "Webhook",
                                                      "params": {"url": api.mock.url("/start"), "verb": "Post"}}}],
                             timeout=30)
            codes.append(r.status_code)
        return codes

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(work, range(32)))
    assert all(c == 201 for codes in results for c in codes)
    total = sum(len(api.list_tasks(kind="many", page=p, page_size=100)) for p in range(4))
    assert total == 320
    assert_healthy(api)


def test_keep_alive_many_requests_one_connection(api):
    s = requests.Session()
    t = api.running("a")
    for _ in range(200):
        r = s.put(api.server.url("/task/" + t["id"]), json={"new_success": 1}, timeout=10)
        assert r.status_code == 202
    assert api.get_task(t["id"])["success"] == 200
