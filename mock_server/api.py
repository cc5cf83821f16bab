"""The API endpoint: one pipeline for every operation of the spec.

    route (OperationTable) -> auth (the request's Identity, if the operation needs it)
    -> Prefer (a forced answer, or the task's fate) -> validate (pipeline.Validator) -> handler -> envelope

Errors are raised, never rendered here: the error layer of the middleware stack renders them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from a2v_spec import ErrorCode
from mock_server import context, handlers
from mock_server.control import parse_prefer
from mock_server.errors import ApiError, envelope_bytes
from mock_server.examples import Examples

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from mock_server.errors import Errors
    from mock_server.handlers import ApiServices
    from mock_server.pipeline import Validator
    from mock_server.routing import OperationTable

__all__ = ["ApiEndpoint", "base_url"]


def base_url(scope: Scope, host: str | None) -> str:
    """`scheme://host[:port][root_path]` as the client addressed us (cheaper than `request.base_url`)."""
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


def forced_answer(errors: Errors, status: int | None, code: int | None) -> ApiError:
    """The error a `Prefer: status=..., code=...` header asks for, checked against the catalog."""
    if code is None:
        code = next(
            (c for c, e in errors.catalog.items() if e.http_status == status), ErrorCode.INTERNAL_ERROR
        )
    if code not in errors.catalog:
        raise ApiError(
            ErrorCode.INVALID_PARAMETER,
            f"invalid parameter 'Prefer': code={code} is not in the error catalog",
        )
    if status is not None and not 400 <= status <= 599:
        message = f"invalid parameter 'Prefer': status={status} must be an error status (400-599)"
        raise ApiError(ErrorCode.INVALID_PARAMETER, message)
    final = status or errors.status(code)
    headers = {"Retry-After": "1"} if final in (429, 503) else {}
    message = f"{errors.message(code)} (forced by the Prefer header)"
    return ApiError(ErrorCode(code), message, status=final, headers=headers)


class ApiEndpoint:
    """ASGI app for `/v1/...`."""

    def __init__(
        self, table: OperationTable, validator: Validator, errors: Errors, services: ApiServices
    ) -> None:
        self.table = table
        self.validator = validator
        self.errors = errors
        self.services = services
        self.examples = Examples(services.spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        op = self.table.find(scope["method"], scope["path"])
        context.set_operation(scope, op)
        request = Request(scope, receive)
        principal = context.identity(scope).require() if op.needs_auth else None
        try:
            prefer = parse_prefer(request.headers.get("prefer"))
        except ApiError:
            context.mark_forced(scope)  # test control, not the API: exempt from response checks
            raise
        if prefer.wants_example:
            context.mark_forced(scope)
            status, body = self.examples.answer(op, prefer.example, prefer.status)
            await Response(body, status, media_type="application/json")(scope, receive, send)
            return
        if prefer.forces_answer:
            context.mark_forced(scope)
            raise forced_answer(self.errors, prefer.status, prefer.code)
        values = await self.validator.request(op, request)
        call = handlers.Call(principal, values, prefer.fate, base_url(scope, request.headers.get("host")))
        data: Any = await handlers.HANDLERS[op.operation_id](self.services, call)
        headers = None
        if isinstance(data, handlers.Answer):
            data, headers = data.data, data.headers
        body = envelope_bytes(ErrorCode.SUCCESS, "success", data)
        await Response(body, media_type="application/json", headers=headers)(scope, receive, send)
