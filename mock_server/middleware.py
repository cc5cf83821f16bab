"""The layers around the router, each one concept; `app.MockApp.build_middleware_stack` stacks them.

Outermost first:

    HeaderLimit    431 (1016) for header fields over `max_header_bytes`, before anything reads them
    Journal        records every answered request (status, catalog code, tenant, duration)
    ScenarioSync   brings the runtime scenario up to date on API and admin requests (with a shared
                   scenario: one round trip, and a reset made on another replica replayed here)
    Identify       parses the bearer token and resolves its tenant, once per request
    ResponseCheck  test mode: the API's answer validated against the spec (a mismatch answers 500)
    RateLimit      counts the request per tenant (else per client address); 429 over the limit;
                   `X-Ratelimit-*` on every answer
    Faults         scenario faults on API requests: latency, dropped connection, random 500
    ErrorLayer     every exception below becomes the catalog's envelope, here and nowhere else

Admin, docs and spec requests are "quiet": they pass every layer but the error layer (and, for admin
requests, ScenarioSync) untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException

from a2v_spec import ErrorCode
from mock_server import context
from mock_server.errors import (
    ApiError,
    Errors,
    MethodNotAllowed,
    NoOperation,
    ResponseMismatch,
    ServiceUnavailable,
    envelope_bytes,
)
from mock_server.journal import BODY_CAP, Entry, Exchange
from mock_server.logs import request_line
from mock_server.ratelimit import Window
from mock_server.redact import tenant_label

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mock_server.auth import Authenticator
    from mock_server.control import Scenario, ScenarioControl
    from mock_server.faults import FaultInjector
    from mock_server.journal import Journal
    from mock_server.pipeline import Validator
    from mock_server.ratelimit import Limiter

__all__ = [
    "ErrorLayer",
    "Faults",
    "HeaderLimit",
    "Identify",
    "JournalLayer",
    "RateLimit",
    "ResponseCheck",
    "ScenarioSync",
]

log = logging.getLogger("mock_server")

API_PREFIX = "/v1/"
_UNCOUNTED = ("/v1/ping",)
_QUIET = ("/__admin", "/docs", "/openapi.yaml", "/favicon", "/console", "/samples")


def _quiet(scope: Scope) -> bool:
    return scope["type"] != "http" or scope["path"].startswith(_QUIET)


def _is_api(scope: Scope) -> bool:
    return scope["path"].startswith(API_PREFIX)


async def _send_json(send: Send, status: int, body: bytes, headers: list[Any]) -> None:
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*base, *headers]})
    await send({"type": "http.response.body", "body": body})


class ErrorLayer:
    """Renders `ApiError`, Starlette's own 404/405/413 and any unexpected exception as the envelope."""

    def __init__(self, app: ASGIApp, errors: Errors) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            if started or scope["type"] != "http":
                raise
            await self.errors.response(self.as_api_error(scope, exc))(scope, receive, send)

    @staticmethod
    def as_api_error(scope: Scope, exc: Exception) -> ApiError:
        if isinstance(exc, ApiError):
            return exc
        if isinstance(exc, HTTPException):
            if exc.status_code == 405:
                allow = (exc.headers or {}).get("Allow", "GET").split(", ")
                return MethodNotAllowed(scope["method"], scope["path"], allow)
            return NoOperation(scope["path"])
        if isinstance(exc, ServiceUnavailable):  # a dependency is away for a moment: 503, no traceback
            log.warning("%s %s answered 503: %s", scope["method"], scope["path"], exc)
        else:
            log.error("internal error on %s %s", scope["method"], scope["path"], exc_info=exc)
        return Errors.internal(exc)


class Faults:
    """Latency, dropped connections and random 500s, as the scenario says, on API requests only."""

    def __init__(self, app: ASGIApp, scenario: Scenario, injector: FaultInjector, errors: Errors) -> None:
        self.app = app
        self.scenario = scenario
        self.injector = injector
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _quiet(scope) or not _is_api(scope):
            await self.app(scope, receive, send)
            return
        scenario = self.scenario
        delay = scenario.latency()
        if delay > 0:
            await asyncio.sleep(delay)
        if scenario.roll(scenario.drop_rate):
            await self.injector.drop_connection(scope)
            return
        if scenario.roll(scenario.error_rate):
            message = "internal error injected by the mock's scenario (error_rate)"
            await self.errors.response(ApiError(ErrorCode.INTERNAL_ERROR, message))(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ScenarioSync:
    """Before an API or admin request, the scenario as the control holds it: outside `Identify`, so a
    token a reset deleted on another replica is refused here too, and inside the journal, so the request
    that follows a reset is recorded."""

    def __init__(self, app: ASGIApp, control: ScenarioControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith((API_PREFIX, "/__admin")):
            await self.control.sync()
        await self.app(scope, receive, send)


class RateLimit:
    """A request counts against its token's window (`ping` and non-API requests cost nothing).

    When the windows cannot be reached (a shared limiter's database is away) nothing is done or
    counted: 503 / 1014 with `Retry-After`, and limit headers that say the same (`Left` 0 until
    `Reset` = the retry delay), since the spec gives every answer `X-Ratelimit-*`.
    """

    def __init__(self, app: ASGIApp, limiter: Limiter, errors: Errors) -> None:
        self.app = app
        self.limiter = limiter
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _quiet(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Authenticated callers count per tenant; anyone else per client address, so a flood of
        # made-up tokens shares one window and leaves one entry behind.
        key = context.identity(scope).tenant or f"anonymous:{(scope.get('client') or ('local', 0))[0]}"
        try:
            window = await self.limiter.ahit(
                key, 0 if path in _UNCOUNTED or not path.startswith(API_PREFIX) else 1
            )
        except ServiceUnavailable as err:
            error = Errors.internal(err)
            unknown = Window(self.limiter.requests, 0, err.retry_after, allowed=False)
            retry = [(b"retry-after", str(err.retry_after).encode())]
            body = envelope_bytes(error.code, error.message or self.errors.message(error.code))
            await _send_json(send, self.errors.status(error.code), body, [*retry, *unknown.raw_headers()])
            return
        limit_headers = window.raw_headers()
        if not window.allowed:
            code = ErrorCode.TOO_MANY_REQUESTS
            body = envelope_bytes(code, self.errors.message(code))
            retry = [(b"retry-after", str(window.reset).encode())]
            await _send_json(send, self.errors.status(code), body, [*retry, *limit_headers])
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *limit_headers]}
            await send(message)

        await self.app(scope, receive, with_headers)


class ResponseCheck:
    """Test mode: an API answer that the spec does not allow becomes a 500, is recorded and raised."""

    def __init__(self, app: ASGIApp, validator: Validator, violations: list[Exception]) -> None:
        self.app = app
        self.validator = validator
        self.violations = violations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _quiet(scope) or not _is_api(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def buffer(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, buffer)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        op = context.operation(scope)
        context.set_validation(scope, "exempt")
        if start is not None and op is not None and not context.was_forced(scope):
            raw = start.get("headers", [])
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}
            body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
            try:
                self.validator.response(op, start["status"], headers, body)
            except ResponseMismatch as err:
                context.set_validation(scope, "mismatch")
                log.error("test mode: response does not match the spec: %s", err)
                self.violations.append(err)
                text = f"the mock's response does not match the spec: {err}"
                limits = [(k, v) for k, v in raw if k.startswith(b"x-ratelimit-")]
                await _send_json(send, 500, envelope_bytes(ErrorCode.INTERNAL_ERROR, text), limits)
                raise
            context.set_validation(scope, "ok")
        for message in messages:
            await send(message)


class Identify:
    """Resolves the request's `Identity` once, for the layers and the operation after it."""

    def __init__(self, app: ASGIApp, auth: Authenticator) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _quiet(scope):
            header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            identity = await self.auth.identify(None if header is None else header.decode("latin-1"))
            context.set_identity(scope, identity)
        await self.app(scope, receive, send)


class JournalLayer:
    """Records each request with its status (0 when no answer was sent), the envelope's code, and both
    sides' headers and bodies (capped, the token replaced by the tenant's label); logs its line."""

    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _quiet(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, code = 0, None
        request_body: list[bytes] = []
        response_body: list[bytes] = []
        response_headers: dict[str, str] = {}
        kept = [0, 0]  # bytes of the request and response bodies kept so far
        recorded = False

        def record() -> None:
            # Recorded before the last body message leaves, so a client that reads the journal right
            # after its answer finds the exchange there; a request that never completes is recorded last.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            tenant = context.tenant(scope)
            duration_ms = (time.perf_counter() - started) * 1000
            self.journal.add(
                Entry(
                    time=time.time(),
                    tenant=tenant,
                    method=scope["method"],
                    path=scope["path"][:_KEPT],
                    query=scope.get("query_string", b"")[:_KEPT].decode("latin-1"),
                    status=status,
                    code=code,
                    duration_ms=round(duration_ms, 3),
                    request=Exchange.of(_headers(scope["headers"], tenant), b"".join(request_body)),
                    response=Exchange.of(response_headers, b"".join(response_body)),
                )
            )
            request_line(
                method=scope["method"],
                path=scope["path"],
                status=status,
                code=code,
                duration_ms=duration_ms,
                tenant=tenant,
                validation=context.validation(scope),
            )

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and kept[0] <= BODY_CAP:
                chunk = message.get("body", b"")
                request_body.append(chunk)
                kept[0] += len(chunk)
            return message

        async def recording(message: Message) -> None:
            nonlocal status, code
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers.update(_headers(message.get("headers", []), None))
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if code is None and status >= 200:
                    code = _code(chunk)
                if kept[1] <= BODY_CAP:
                    response_body.append(chunk)
                    kept[1] += len(chunk)
                if not message.get("more_body", False):
                    record()
            await send(message)

        try:
            await self.app(scope, receiving, recording)
        finally:
            record()


def _headers(raw: Any, tenant: str | None) -> dict[str, str]:
    """Headers for the journal, with the bearer token replaced by the tenant's label."""
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        if name == "authorization":
            text = f"Bearer <{tenant_label(tenant) or 'token'}>"
        headers[name] = text if name not in headers else f"{headers[name]}, {text}"
    return headers


#: Characters of a path or query a journal entry keeps (the header limit bounds them too).
_KEPT = 2048


def _code(body: bytes) -> int | None:
    """The envelope's `code`, read from the first bytes when it comes first (as ours always does)."""
    if not body.startswith(b"{"):
        return None
    head = body[:40]
    if not head.startswith(b'{"code":'):
        try:
            value = json.loads(body).get("code")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None
    digits = head[8:].split(b",", 1)[0]
    try:
        return int(digits)
    except ValueError:
        return None


class HeaderLimit:
    """431 (1016) for a request whose target and header fields exceed `limit` bytes, before anything
    reads them: a huge token or cookie never reaches auth, the journal or the rate limiter."""

    def __init__(self, app: ASGIApp, limit: int, errors: Errors) -> None:
        self.app = app
        self.limit = limit
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.limit:
                message = f"request header fields are {size} bytes; the limit is {self.limit}"
                error = ApiError(ErrorCode.HEADERS_TOO_LARGE, message)
                await self.errors.response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
