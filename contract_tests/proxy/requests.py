"""Does a request match the spec? The problems of one request, each with the answer the spec demands.

Both sides use this: a request with a problem breaks A2V-CLIENT-REQUEST-SCHEMA, and the server must
refuse it: with exactly the documented status and code when the request has one kind of problem
(otherwise with some 4xx, A2V-FUZZ-NEGATIVE-REJECTED).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode

if TYPE_CHECKING:
    from a2v_spec import Operation, Spec
    from contract_tests.proxy.exchange import Exchange

__all__ = ["Problem", "problems"]


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    status: int
    code: ErrorCode
    requirement: str


def _route(message: str, status: int, code: ErrorCode) -> Problem:
    return Problem("route", message, status, code, "A2V-ERROR-ROUTING")


def problems(exchange: Exchange, spec: Spec) -> tuple[Operation | None, list[Problem]]:
    """The operation the request is for (None when it is for no operation) and what is wrong with it."""
    op = spec.find(exchange.method, exchange.path)
    if op is None:
        if exchange.path in spec.paths():
            return None, [
                _route(
                    f"{exchange.method} is not a method of {exchange.path}", 405, ErrorCode.METHOD_NOT_ALLOWED
                )
            ]
        return None, [_route(f"no operation has the path {exchange.path}", 404, ErrorCode.NOT_FOUND)]
    found: list[Problem] = []
    if op.needs_auth and exchange.token is None:
        found.append(
            Problem(
                "auth",
                f"{op.operation_id} needs 'Authorization: Bearer <token>'",
                401,
                ErrorCode.UNAUTHORIZED,
                "A2V-AUTH-REQUIRED",
            )
        )
    found += _parameters(exchange, spec, op)
    if op.body_pointer is not None:
        found += _body(exchange, spec, op)
    return op, found


def _bad(message: str) -> Problem:
    return Problem("parameter", message, 400, ErrorCode.INVALID_PARAMETER, "A2V-ERROR-BAD-REQUEST")


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(value)
        return value == "true"
    return value


def _parameters(exchange: Exchange, spec: Spec, op: Operation) -> list[Problem]:
    found: list[Problem] = []
    query: dict[str, list[str]] = {}
    for name, value in exchange.params:
        query.setdefault(name, []).append(value)
    for param in op.parameters:
        if param.location == "query":
            values = query.get(param.name, [])
        elif param.location == "header":
            header = exchange.header(param.name)
            values = [] if header is None else [header]
        else:
            continue
        if not values:
            if param.required:
                found.append(_bad(f"the required {param.location} parameter {param.name!r} is missing"))
            continue
        if len(values) > 1:
            found.append(_bad(f"the {param.location} parameter {param.name!r} is given {len(values)} times"))
            continue
        schema = spec.resolve(spec.at(param.schema_pointer))
        try:
            value = _coerce(values[0], schema)
        except ValueError:
            found.append(_bad(f"{param.name}={values[0]!r} is not of type {schema.get('type')}"))
            continue
        errors = spec.schemas.errors(param.schema_pointer, value)
        if errors:
            found.append(_bad(f"{param.name}={values[0]!r}: {errors[0].reason}"))
    return found


def _body(exchange: Exchange, spec: Spec, op: Operation) -> list[Problem]:
    limit = spec.limits.max_request_bytes
    if exchange.request_size > limit:
        return [
            Problem(
                "size",
                f"the body is {exchange.request_size} bytes; the limit is {limit}",
                413,
                ErrorCode.PAYLOAD_TOO_LARGE,
                "A2V-ERROR-PAYLOAD-TOO-LARGE",
            )
        ]
    kind = (exchange.header("content-type") or "").split(";")[0].strip().lower()
    if exchange.request_size == 0 and not op.body_required:
        return []
    if kind != "application/json":
        return [
            Problem(
                "content_type",
                f"{op.operation_id} takes an application/json body, got Content-Type {kind or 'none'!r}",
                415,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "A2V-ERROR-BAD-REQUEST",
            )
        ]
    try:
        body = json.loads(exchange.request_body)
    except ValueError as err:
        body, reason = None, f"the body is not JSON: {err}"
    else:
        reason = "" if isinstance(body, dict) else f"the body is JSON but not an object: {str(body)[:60]}"
    if reason:
        return [Problem("malformed", reason, 400, ErrorCode.MALFORMED_BODY, "A2V-ERROR-BAD-REQUEST")]
    assert op.body_pointer is not None
    errors = spec.schemas.errors(op.body_pointer, body)
    return [_bad(f"the body does not match the schema: {errors[0]}")] if errors else []
