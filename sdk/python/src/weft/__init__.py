"""weft: a client of the weft orchestration server's /v1 API, and a
worker runtime for its job queues.

    import weft
    client = weft.Client()                      # WEFT_URL, WEFT_TOKEN, WEFT_NAMESPACE
    job = client.enqueue("emails", {"to": "a@b.c"})
    weft.Worker(client, ["emails"], handler, concurrency=8).run()
"""

from .client import DEFAULT_URL, UNSET, Client
from .errors import (BadRequestError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ServerError,
                     UnauthorizedError, WeftConnectionError, WeftError)
from .worker import Job, JobFailed, NonRetryable, Worker

__version__ = "0.1.0"

__all__ = [
    "Client", "UNSET", "DEFAULT_URL",
    "WeftError", "BadRequestError", "UnauthorizedError", "ForbiddenError", "NotFoundError", "ConflictError",
    "RateLimitedError", "ServerError", "WeftConnectionError",
    "Worker", "Job", "JobFailed", "NonRetryable",
]
