"""Validation against the spec: requests in (always), responses out (test mode).

The request rules are `a2v_spec.RequestRules`, the same ones the contract kit's proxy judges client
traffic by, so the mock refuses exactly the requests the proxy flags: parameters read and checked as
their schemas say, the body's size, media type, JSON and schema, the URL rule. This module only reads
the request (the body streamed with the size limit) and turns a `Refusal` into the `ApiError` the error
layer renders. Responses are checked against the documented statuses, headers and schemas.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from a2v_spec import Refusal, Rule, resolve_refs
from a2v_spec.request_rules import oversize_message, read_json_object
from mock_server.errors import ApiError, ResponseMismatch

if TYPE_CHECKING:
    from starlette.requests import Request

    from a2v_spec import Operation, Spec

__all__ = ["Validated", "Validator", "json_object", "read_body"]

log = logging.getLogger("mock_server")


@dataclass
class Validated:
    """What a handler gets: coerced query/header values and the parsed body."""

    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    raw_body: bytes = b""


def refused(refusal: Refusal) -> ApiError:
    """The error that answers a broken request rule (its catalog code, status and message)."""
    return ApiError(refusal.code, refusal.message, status=refusal.status)


class Validator:
    def __init__(self, spec: Spec, max_body_bytes: int | None = None) -> None:
        self.spec = spec
        self.rules = (
            spec.request_rules
            if max_body_bytes is None
            else spec.request_rules.with_body_limit(max_body_bytes)
        )
        #: Bodies over this many bytes answer 1013 before they are parsed (the spec's limit by default).
        self.max_body_bytes = self.rules.max_body_bytes

    async def request(self, op: Operation, request: Request) -> Validated:
        """The request's values, or the `ApiError` of the first rule it breaks (parameters, then body)."""
        params = self.rules.parameters(op, request.scope.get("query_string", b""), request.headers)
        if params.refusals:
            raise refused(params.refusals[0])
        out = Validated(query=params.query, headers=params.headers)
        if op.method in ("post", "put", "patch"):
            out.raw_body = await read_body(request, self.max_body_bytes)
            if op.body_pointer is not None:
                body = self.rules.body(op, request.headers.get("content-type"), out.raw_body)
                if body.refusal is not None:
                    raise refused(body.refusal)
                out.body = body.value
        return out

    def response(self, op: Operation | None, status: int, headers: dict[str, str], body: bytes) -> None:
        """Raise ResponseMismatch when a response is not what the spec documents for `op`."""
        if op is None:
            return
        where = f"{op.method.upper()} {op.path} -> {status}"
        if (
            str(status) not in op.responses
            and f"{str(status)[0]}XX" not in op.responses
            and "default" not in op.responses
        ):
            raise ResponseMismatch(
                f"{where}: status {status} is not documented (documented: {', '.join(op.responses)})"
            )
        lower = {k.lower(): v for k, v in headers.items()}
        for name in ("x-ratelimit-total", "x-ratelimit-left", "x-ratelimit-reset"):
            if name not in lower or not lower[name].isdigit():
                raise ResponseMismatch(f"{where}: header {name} is missing or not a non-negative integer")
        if status in (429, 503) and not lower.get("retry-after", "").isdigit():
            raise ResponseMismatch(f"{where}: header Retry-After is missing")
        for name, header in self.spec.response_headers(op, status).items():
            sent = lower.get(name.lower())
            if sent is None:
                if header.get("required"):
                    raise ResponseMismatch(f"{where}: required header {name} is missing")
                continue
            schema = resolve_refs(self.spec.document, header.get("schema", {}))
            if schema.get("type") == "integer" and not sent.isdigit():
                raise ResponseMismatch(f"{where}: header {name} is {sent!r}, not a non-negative integer")
        pointer = self.spec.response_pointer(op, status)
        if pointer is None:
            return
        if not lower.get("content-type", "").startswith("application/json"):
            raise ResponseMismatch(
                f"{where}: Content-Type {lower.get('content-type')!r} is not application/json"
            )
        try:
            value = json.loads(body)
        except ValueError as err:
            raise ResponseMismatch(f"{where}: body is not JSON: {err}") from err
        errors = self.spec.schemas.errors(pointer, value)
        if errors:
            raise ResponseMismatch(f"{where}: body does not match the spec at {errors[0]}")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 1013 as soon as it is known to be over the limit (never read whole).

    Not Starlette's `RequestBodyLimitMiddleware`: when the app answers without reading an oversized
    body (a 1001 for a missing token, a 404), that middleware replaces the answer with its own
    plain-text 413, so the catalog's envelope and the error precedence the kit checks (auth before
    the body) would be lost; and it wraps `receive` and `send` of every request for the few that
    have a body. The spec's limit applies to the operations that take a body, here.
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        size = None if len(declared) > 18 else int(declared)
        raise ApiError(Rule.SIZE.code, oversize_message(size, limit))
    chunks: list[bytes] = []
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise ApiError(Rule.SIZE.code, oversize_message(None, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(raw: bytes) -> dict[str, Any]:
    """`raw` read as a JSON object by the API's rule (`a2v_spec.RequestRules.json_object`), else 1004.
    The admin API reads its bodies so too."""
    parsed = read_json_object(raw)
    if isinstance(parsed, str):
        raise ApiError(Rule.MALFORMED.code, parsed)
    return parsed
