"""The handler step of the request path (`app.Pipeline`): one answer for every operation of the spec.

    (routed, identified, within its window) -> auth (the Identity, if the operation needs it)
    -> Prefer (a forced answer, or the task's fate) -> validate (pipeline.Validator) -> handler -> envelope

The answer is returned as bytes for the pipeline to send and record; errors are raised, never rendered
here (the pipeline renders them all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from a2v_spec import ErrorCode
from mock_server.api import handlers
from mock_server.api.examples import Examples
from mock_server.api.scenario import parse_prefer
from mock_server.errors import ApiError, envelope_bytes
from mock_server.http.exchange import json_headers

if TYPE_CHECKING:
    from starlette.types import Scope

    from a2v_spec import Operation
    from mock_server.api.handlers import ApiServices
    from mock_server.api.validation import Validator
    from mock_server.errors import Errors
    from mock_server.http.exchange import Exchange, Header
    from mock_server.http.routing import OperationTable

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
    """The operation's answer, for `app.Pipeline`."""

    def __init__(
        self, table: OperationTable, validator: Validator, errors: Errors, services: ApiServices
    ) -> None:
        self.table = table
        self.validator = validator
        self.errors = errors
        self.services = services
        self.examples = Examples(services.spec)
        #: Per operation, the last data answered and its envelope: a handler that answers the very same
        #: object again (the character list, cached for a second) is encoded once.
        self._encoded: dict[str, tuple[object, bytes]] = {}

    async def answer(self, op: Operation, ex: Exchange) -> tuple[int, list[Header], bytes]:
        """Status, head and body of `op`'s answer to the exchange's request (errors are raised)."""
        scope = ex.scope
        request = Request(scope, ex.receive)
        identity = ex.identity
        if identity is None:
            raise RuntimeError("the request path identifies a request before its handler runs")
        principal = identity.require() if op.needs_auth else None
        try:
            prefer = parse_prefer(request.headers.get("prefer"))
        except ApiError:
            ex.forced = True  # test control, not the API: exempt from response checks
            raise
        if prefer.wants_example:
            ex.forced = True
            status, body = self.examples.answer(op, prefer.example, prefer.status)
            return status, json_headers(body), body
        if prefer.forces_answer:
            ex.forced = True
            raise forced_answer(self.errors, prefer.status, prefer.code)
        values = await self.validator.request(op, request)
        call = handlers.OperationCall(
            principal, values, prefer.fate, base_url(scope, request.headers.get("host"))
        )
        data: Any = await handlers.HANDLERS[op.operation_id](self.services, call)
        if isinstance(data, handlers.Answer):  # an operation's own headers (video.list's X-Total-Count)
            body = envelope_bytes(ErrorCode.SUCCESS, "success", data.data)
            extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in data.headers.items()]
            return 200, json_headers(body, extra), body
        last = self._encoded.get(op.operation_id)
        if last is not None and last[0] is data:
            body = last[1]
        else:
            body = envelope_bytes(ErrorCode.SUCCESS, "success", data)
            self._encoded[op.operation_id] = (data, body)
        return 200, json_headers(body), body
