"""HTTP for the client: one keep-alive http.client connection per thread
(http.client connections are not thread-safe, and a worker's claim,
heartbeat and report threads each keep their own), JSON in and out,
answers turned into dicts or exceptions."""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
import urllib.parse
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from .errors import WeftConnectionError, WeftError, error_from_answer

USER_AGENT = "weft-python/0.1"
# The largest answer body taken: a server (or something posing as one)
# cannot make the client hold more.
MAX_ANSWER_BYTES = 256 << 20

# Errors of a kept-alive connection the server closed meanwhile. A
# connection found closed before the request is replaced silently; one
# that closes during it may have carried the request to the server, so it
# is sent again only when that is harmless (replay: a GET, a request with
# an Idempotency-Key, or one the server answers alike when repeated).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.BadStatusLine)


class Transport:
    def __init__(self, url: str, token: Optional[str], timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("weft URL %r: expected http://host[:port] or https://host[:port]" % url)
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._local = threading.local()
        # The connection each thread is using now, so that another thread
        # can cut a request short (a worker's drain ends its long poll).
        self._busy: Dict[int, http.client.HTTPConnection] = {}
        self._busy_lock = threading.Lock()
        self._cut: Set[int] = set()   # threads whose next request is to end at once

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Closes this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def interrupt(self, thread_id: int) -> None:
        """Ends the request that thread is waiting on, or else its next
        one (it raises WeftConnectionError), unless it calls
        forget_interrupt() first."""
        with self._busy_lock:
            conn = self._busy.get(thread_id)
            if conn is None or conn.sock is None:
                self._cut.add(thread_id)
                return
            conn._weft_interrupted = True  # type: ignore[attr-defined]
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def forget_interrupt(self) -> None:
        """Drops an interrupt() of the calling thread that no request has
        taken yet."""
        with self._busy_lock:
            self._cut.discard(threading.get_ident())

    def request(self, method: str, path: str, query: Optional[Mapping[str, Any]] = None,
                body: Any = None, headers: Optional[Mapping[str, str]] = None,
                timeout: Optional[float] = None, replay: bool = False, raw_body: Optional[bytes] = None) -> Any:
        target = self._prefix + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urllib.parse.urlencode(pairs)
        hdrs = {"Accept": "application/json", "User-Agent": USER_AGENT}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif raw_body is not None:
            data = raw_body
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        if headers:
            hdrs.update(headers)
        replay = replay or method == "GET" or "Idempotency-Key" in hdrs
        status, raw = self._exchange(method, target, data, hdrs, timeout or self.timeout, replay)
        text = raw.decode("utf-8", "replace")
        try:
            answer = json.loads(text) if text else None
        except ValueError:
            answer = None
        if status >= 400:
            raise error_from_answer(status, answer, text)
        if answer is None and text:
            raise WeftConnectionError(self.url, "the answer to %s %s is not JSON: %.200s" % (method, path, text))
        return answer

    def events(self, path: str, query: Optional[Mapping[str, Any]] = None) -> Iterator[Tuple[str, str]]:
        """(event, data) pairs of a server-sent event stream, as they
        arrive, on a connection of its own (the stream holds it until it
        ends). Comments (keep-alives) are skipped."""
        target = self._prefix + path
        pairs = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        if pairs:
            target += "?" + urllib.parse.urlencode(pairs)
        hdrs = {"Accept": "text/event-stream", "User-Agent": USER_AGENT}
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        # The server writes at least every 15 s: a read waits longer than that.
        timeout = max(self.timeout, 60.0)
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            try:
                conn.request("GET", target, headers=hdrs)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                raise WeftConnectionError(self.url, _reason(e)) from e
            if resp.status >= 400:
                text = resp.read(MAX_ANSWER_BYTES).decode("utf-8", "replace")
                try:
                    answer = json.loads(text) if text else None
                except ValueError:
                    answer = None
                raise error_from_answer(resp.status, answer, text)
            event: Optional[str] = None
            data: List[str] = []
            while True:
                raw = resp.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "":
                    if event is not None:
                        yield event, "\n".join(data)
                    event, data = None, []
                elif line.startswith(":"):
                    continue
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        finally:
            conn.close()

    def _exchange(self, method: str, target: str, data: Optional[bytes], hdrs: Dict[str, str],
                  timeout: float, replay: bool) -> Tuple[int, bytes]:
        me = threading.get_ident()
        for attempt in (1, 2):
            conn = self._connection()
            if conn.sock is not None and _closed_while_idle(conn.sock):
                self.close()
                conn = self._connection()
            reused = conn.sock is not None
            try:
                if conn.sock is None:
                    conn.timeout = timeout
                    conn.connect()
                assert conn.sock is not None
                conn.sock.settimeout(timeout)
                with self._busy_lock:
                    if me in self._cut:
                        self._cut.discard(me)
                        raise WeftConnectionError(self.url, "the request was interrupted")
                    self._busy[me] = conn
                conn.request(method, target, body=data, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read(MAX_ANSWER_BYTES + 1)
                if len(raw) > MAX_ANSWER_BYTES:
                    self.close()
                    raise WeftError(resp.status, "answer_too_large", "the answer of %s %s is larger than %d bytes"
                                    % (method, target, MAX_ANSWER_BYTES))
                if resp.will_close:
                    self.close()
                return resp.status, raw
            except _STALE as e:
                interrupted = getattr(conn, "_weft_interrupted", False)
                self.close()
                if reused and replay and attempt == 1 and not interrupted:
                    continue
                raise WeftConnectionError(self.url, _reason(e)) from None
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise WeftConnectionError(self.url, _reason(e)) from None
            finally:
                with self._busy_lock:
                    self._busy.pop(me, None)
        raise AssertionError("unreachable")


def _closed_while_idle(sock: socket.socket) -> bool:
    """An idle keep-alive connection that is readable has been closed by
    the server (or holds garbage): either way it is not to be used."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _reason(e: BaseException) -> str:
    if isinstance(e, socket.timeout):
        return "no answer in time"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, http.client.RemoteDisconnected):
        return "the server closed the connection"
    if isinstance(e, socket.gaierror):
        return "unknown host (%s)" % e.strerror
    return str(e) or type(e).__name__


def _query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)
