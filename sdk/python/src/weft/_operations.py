"""Which /v1 operation each client method speaks.

``@operation("getTask")`` marks a method as the client's function for
that operationId of the OpenAPI document; the package's agreement test
reads these marks and the methods' signatures to check that every
operation, request-body property and parameter of the document can be
passed. ``each="jobs"`` marks a convenience method that sends one item of
that array property, its keyword arguments being the item's properties.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def operation(operation_id: str, each: Optional[str] = None) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        fn.__weft_operation__ = operation_id  # type: ignore[attr-defined]
        fn.__weft_each__ = each  # type: ignore[attr-defined]
        return fn
    return mark


def param_name(name: str) -> str:
    """The Python keyword for a parameter or property of the document:
    'Idempotency-Key' -> 'idempotency_key'."""
    return name.replace("-", "_").lower()
