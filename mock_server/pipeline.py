"""Validation against the spec: requests in (always), responses out (test mode).

Every rule comes from `openapi.yaml` through `a2v_spec`: parameters and their schemas, the request body's
schema, the documented responses. Query values arrive as strings and are coerced to the schema's type
before validation, as an OpenAPI server does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, ValidationError

from a2v_spec import ErrorCode, SchemaError, resolve_pointer, resolve_refs
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


class Validator:
    def __init__(self, spec: Spec, max_body_bytes: int | None = None) -> None:
        self.spec = spec
        #: Bodies over this many bytes answer 1013 before they are parsed (the spec's limit by default).
        self.max_body_bytes = spec.limits.max_request_bytes if max_body_bytes is None else max_body_bytes
        self._schemas: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, Draft202012Validator] = {}

    def _schema(self, pointer: str) -> dict[str, Any]:
        """The (dereferenced) schema at `pointer`, for its `type` and `default`."""
        if pointer not in self._schemas:
            document = self.spec.document
            self._schemas[pointer] = resolve_refs(document, resolve_pointer(document, pointer))
        return self._schemas[pointer]

    def _inline(self, node: Any, depth: int = 0) -> Any:
        """`node` with every local `$ref` replaced by its target (request schemas are not recursive)."""
        if depth > 32:
            raise ValueError("request schema nests $refs too deeply (recursive?)")
        if isinstance(node, dict):
            if "$ref" in node and isinstance(node["$ref"], str) and node["$ref"].startswith("#/"):
                target = resolve_pointer(self.spec.document, node["$ref"])
                rest = {k: v for k, v in node.items() if k != "$ref"}
                inlined = self._inline(target, depth + 1)
                return {"allOf": [inlined, self._inline(rest, depth + 1)]} if rest else inlined
            return {k: self._inline(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [self._inline(v, depth + 1) for v in node]
        return node

    def _validator(self, pointer: str) -> Draft202012Validator:
        """A plain validator of the inlined schema: no reference resolution per request (fast)."""
        found = self._validators.get(pointer)
        if found is None:
            found = self._validators[pointer] = Draft202012Validator(self._inline(self._schema(pointer)))
        return found

    def _check(self, pointer: str, name: str, value: Any) -> None:
        validator = self._validator(pointer)
        if validator.is_valid(value):
            return
        found = sorted(validator.iter_errors(value), key=lambda e: -len(e.absolute_path))
        errors = [_named(e) for e in found]
        if errors:
            err = errors[0]
            where = f"{name}.{err.path}" if err.path and name else (err.path or name)
            raise ApiError(ErrorCode.INVALID_PARAMETER, f"invalid parameter '{where}': {err.reason}")

    def _coerce(self, pointer: str, name: str, raw: str) -> Any:
        kind = self._schema(pointer).get("type")
        try:
            if kind == "integer":
                return int(raw)
            if kind == "number":
                return float(raw)
        except ValueError:
            raise ApiError(
                ErrorCode.INVALID_PARAMETER, f"invalid parameter '{name}': {raw!r} is not an {kind}"
            ) from None
        if kind == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise ApiError(
                ErrorCode.INVALID_PARAMETER, f"invalid parameter '{name}': {raw!r} is not a boolean"
            )
        return raw

    async def request(self, op: Operation, request: Request) -> Validated:
        out = Validated()
        for param in op.parameters:
            if param.location == "query":
                values = request.query_params.getlist(param.name)
                if len(values) > 1:
                    raise ApiError(
                        ErrorCode.INVALID_PARAMETER,
                        f"invalid parameter '{param.name}': given {len(values)} times",
                    )
                raw = values[0] if values else None
                target = out.query
            elif param.location == "header":
                raw = request.headers.get(param.name)
                target = out.headers
            else:
                continue
            if raw is None:
                if param.required:
                    raise ApiError(
                        ErrorCode.INVALID_PARAMETER,
                        f"invalid parameter '{param.name}': required {param.location} parameter is missing",
                    )
                default = self._schema(param.schema_pointer).get("default")
                if default is not None:
                    target[param.name] = default
                continue
            value = self._coerce(param.schema_pointer, param.name, raw)
            self._check(param.schema_pointer, param.name, value)
            target[param.name] = value
        if op.method in ("post", "put", "patch"):
            out.raw_body = await self._read_body(request)
            if op.body_pointer is not None:
                out.body = self._body(op, request, out.raw_body)
        return out

    async def _read_body(self, request: Request) -> bytes:
        return await read_body(request, self.max_body_bytes)

    def _body(self, op: Operation, request: Request, raw: bytes) -> Any:
        assert op.body_pointer is not None  # checked by the caller
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";")[0].strip().lower()
        if not raw and not content_type:
            if op.body_required:
                raise ApiError(
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json, got no body"
                )
            return None
        if media != "application/json" and not media.endswith("+json"):
            raise ApiError(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type must be application/json, got {content_type or 'none'!r}",
            )
        body = json_object(raw)
        self._check(op.body_pointer, "", body)
        self._check_strings(op.body_pointer, body)
        return body

    def _check_strings(self, pointer: str, body: dict[str, Any]) -> None:
        """No lone surrogate in any string: valid in a JSON escape, not in UTF-8, so it would fail every
        later encoding (a password compared, a row stored) as a 500. URLs follow the spec's `HttpUrl`
        rule (`a2v_spec.urls`), which the schema validation above already applied."""
        for name, value in body.items():
            if isinstance(value, str) and _has_lone_surrogate(value):
                raise ApiError(
                    ErrorCode.INVALID_PARAMETER, f"invalid parameter '{name}': contains a lone surrogate"
                )

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
        raise ApiError(
            ErrorCode.PAYLOAD_TOO_LARGE, f"request body is {declared[:20]} bytes; the limit is {limit}"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(
                ErrorCode.PAYLOAD_TOO_LARGE, f"request body is larger than the limit of {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_object(raw: bytes) -> dict[str, Any]:
    """`raw` parsed as a JSON object, else 1004 (deep nesting included, never a RecursionError)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(ErrorCode.MALFORMED_BODY, f"request body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError(
            ErrorCode.MALFORMED_BODY, "request body is not a usable JSON object: it nests too deeply"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(
            ErrorCode.MALFORMED_BODY, f"request body must be a JSON object, got {type(body).__name__}"
        )
    return body


def _named(error: ValidationError) -> SchemaError:
    """A schema error located at the field it is about: a missing property is named, not its parent."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return SchemaError(".".join([*path, missing[0]]), "is required but missing")
    return SchemaError(".".join(path), error.message)
