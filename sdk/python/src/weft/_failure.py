"""What a handler's exception becomes on the wire: the exceptions a
handler raises to choose its error, and the error code of any other.
Shared by the job worker (worker.py) and the workflow runtime
(workflow.py)."""

from __future__ import annotations

import re
from typing import Any, Optional


class JobFailed(Exception):
    """Raised by a handler to fail the attempt with an error code of its
    choosing ([a-z0-9_.:-], at most 64), whether it may be retried, JSON
    details, and optionally the delay before the retry."""

    def __init__(self, message: str = "", *, code: str = "failed", retryable: bool = True,
                 details: Any = None, retry_after_ms: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.details = details
        self.retry_after_ms = retry_after_ms


class NonRetryable(JobFailed):
    """Fails the job for good (it becomes a dead letter) at once."""

    def __init__(self, message: str = "", *, code: str = "non_retryable", details: Any = None) -> None:
        super().__init__(message, code=code, retryable=False, details=details)


ERROR_CODE = re.compile(r"^[a-z0-9_.:-]{1,64}$")
ERROR_MESSAGE_MAX = 4096   # the API's limit on an error's message, in bytes


def error_code(e: BaseException) -> str:
    """ValueError -> value_error (the API's error code alphabet)."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", type(e).__name__).lower()
    name = re.sub(r"[^a-z0-9_.:-]", "_", name)[:64]
    return name or "exception"


def clip(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    return text if len(raw) <= limit else raw[:limit].decode("utf-8", "ignore")
