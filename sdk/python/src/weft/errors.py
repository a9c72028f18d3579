"""The exceptions of the weft client.

Every error the server answers is a :class:`WeftError` carrying the HTTP
status and the body's ``{"error": {"code", "message", "details"}}``; the
statuses a caller usually handles on their own have subclasses. A server
that cannot be reached raises :class:`WeftConnectionError`, which names
the URL.
"""

from __future__ import annotations

from typing import Any, List, Optional


class WeftError(Exception):
    """An error answered by the server (or, for the subclass
    WeftConnectionError, the lack of an answer)."""

    def __init__(self, status: Optional[int], code: str, message: str,
                 details: Optional[List[str]] = None, body: Any = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details or [])
        self.body = body
        super().__init__(self._text())

    def _text(self) -> str:
        head = "%s %s: %s" % (self.status, self.code, self.message) if self.status else \
            "%s: %s" % (self.code, self.message)
        if self.details:
            head += " (" + "; ".join(self.details) + ")"
        return head


class BadRequestError(WeftError):
    """400 (or 413): the request itself is wrong; details name the fields."""


class UnauthorizedError(WeftError):
    """401: no token, or one the server does not know."""

    def _text(self) -> str:
        return super()._text() + " — set WEFT_TOKEN (or Client(token=...)) to a token the server accepts"


class ForbiddenError(WeftError):
    """403: the token may not do this (its role or its namespaces)."""

    def _text(self) -> str:
        return super()._text() + " — set WEFT_TOKEN to a token allowed to do this (role and namespaces)"


class NotFoundError(WeftError):
    """404: no such object (or one in a namespace the token cannot see)."""


class ConflictError(WeftError):
    """409: the object's state does not allow this; ``current_status`` is
    the task's status when the server says it."""

    def __init__(self, status: Optional[int], code: str, message: str,
                 details: Optional[List[str]] = None, body: Any = None,
                 current_status: Optional[str] = None) -> None:
        self.current_status = current_status
        super().__init__(status, code, message, details, body)

    def _text(self) -> str:
        text = super()._text()
        if self.current_status:
            text += " [current status: %s]" % self.current_status
        return text


class RateLimitedError(WeftError):
    """429: the server sheds load; try again later."""


class ServerError(WeftError):
    """5xx: the server failed or is unavailable; may pass on a retry."""


class WeftConnectionError(WeftError):
    """The server could not be reached, or did not answer in time."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(None, "unreachable",
                         "cannot reach the weft server at %s: %s (is it running? set WEFT_URL)" % (url, reason))


def error_from_answer(status: int, body: Any, fallback_text: str) -> WeftError:
    """The exception for an error answer: the body's error object when it
    has one, else the status and the start of the text."""
    code, message, details, current = "http_%d" % status, fallback_text[:500] or "HTTP %d" % status, [], None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = str(err.get("code") or code)
        message = str(err.get("message") or message)
        raw = err.get("details")
        if isinstance(raw, list):
            details = [str(d) for d in raw]
        current = err.get("current_status")
    if status == 409:
        return ConflictError(status, code, message, details, body, current_status=current)
    cls = {400: BadRequestError, 413: BadRequestError, 401: UnauthorizedError, 403: ForbiddenError,
           404: NotFoundError, 429: RateLimitedError}.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else WeftError
    return cls(status, code, message, details, body)
