"""What one request carries from layer to layer, under named scope keys with typed accessors.

The identity is resolved once, by the outermost layer that needs it; the operation is set by the API
endpoint once it is routed, and `forced` when test control answered instead of the API (such an answer
is exempt from the test-mode response check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import Scope

    from a2v_spec import Operation
    from mock_server.auth import Identity

__all__ = [
    "identity",
    "mark_forced",
    "operation",
    "set_identity",
    "set_operation",
    "set_validation",
    "tenant",
    "validation",
    "was_forced",
]

_IDENTITY = "a2v.identity"
_OPERATION = "a2v.operation"
_FORCED = "a2v.forced"
_VALIDATION = "a2v.validation"


def set_identity(scope: Scope, value: Identity) -> None:
    scope[_IDENTITY] = value


def identity(scope: Scope) -> Identity:
    """The caller, as the identity layer resolved it (every API request passes that layer)."""
    found: Identity = scope[_IDENTITY]
    return found


def tenant(scope: Scope) -> str | None:
    """The caller's tenant, or None when it sent no token or the request was never identified."""
    found: Identity | None = scope.get(_IDENTITY)
    return None if found is None else found.tenant


def set_operation(scope: Scope, value: Operation) -> None:
    scope[_OPERATION] = value


def operation(scope: Scope) -> Operation | None:
    return scope.get(_OPERATION)


def mark_forced(scope: Scope) -> None:
    scope[_FORCED] = True


def was_forced(scope: Scope) -> bool:
    return bool(scope.get(_FORCED))


def set_validation(scope: Scope, verdict: str) -> None:
    """Test mode's verdict on the answer: "ok", "mismatch" or "exempt" (forced by test control)."""
    scope[_VALIDATION] = verdict


def validation(scope: Scope) -> str | None:
    return scope.get(_VALIDATION)
