"""weft: a client of the weft orchestration server's /v1 API, and a
worker runtime for its job queues.

    import weft
    client = weft.Client()                      # WEFT_URL, WEFT_TOKEN, WEFT_NAMESPACE
    job = client.enqueue("emails", {"to": "a@b.c"})
    weft.Worker(client, ["emails"], handler, concurrency=8).run()

    worker = weft.Worker(client, ["orders"])     # durable workflows
    @worker.workflow("order")
    def order(wf, input):
        wf.step("reserve", reserve, input)
        wf.sleep("cool_down", 60)
        return wf.step("charge", charge, input)
"""

from .client import DEFAULT_URL, UNSET, Client
from .errors import (BadRequestError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ServerError,
                     UnauthorizedError, WeftConnectionError, WeftError)
from ._failure import JobFailed, NonRetryable
from .worker import Job, Worker
from .workflow import (SignalTimeout, StepFailed, Workflow, WorkflowCanceled, WorkflowEnded, WorkflowInterrupt,
                       WorkflowLeaseLost, WorkflowSuspended)

__version__ = "0.1.0"

__all__ = [
    "Client", "UNSET", "DEFAULT_URL",
    "WeftError", "BadRequestError", "UnauthorizedError", "ForbiddenError", "NotFoundError", "ConflictError",
    "RateLimitedError", "ServerError", "WeftConnectionError",
    "Worker", "Job", "JobFailed", "NonRetryable",
    "Workflow", "StepFailed", "SignalTimeout", "WorkflowInterrupt", "WorkflowSuspended", "WorkflowEnded",
    "WorkflowCanceled", "WorkflowLeaseLost",
]
