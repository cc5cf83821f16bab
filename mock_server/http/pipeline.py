"""The request path (`Pipeline`): every request of the mock passes here, read top to bottom in this file:

    uvicorn -> MockApp (Starlette: `scope["app"]`, the lifespan) -> Pipeline.__call__
      preflight (CORS) or a head over `max_header_bytes` (431): answered before anything else
      /v1/...    Pipeline.api: route once (the spec's operation, or the 404/405 it will answer)
                 -> identify (`Authenticator.identify`) -> limit (the rate window: 429, or 503 when the
                 windows are away) -> faults (the scenario's latency, dropped connection, random 500)
                 -> handler (`ApiEndpoint.answer`: Prefer, validate, `handlers.HANDLERS`, envelope)
                 -> Pipeline.finish (test mode: the answer judged against the spec) -> record
      files, health, metrics, unknown paths: Pipeline.other: identify -> window (costs nothing)
                 -> Starlette router, recorded message by message
      admin, docs, console, samples: Pipeline.quiet: the router alone (no journal, window or log line)

Scaled out (a shared scenario), API and admin requests first bring the scenario up to date
(`sharedscenario.py`); embedded, that step does not exist. What an exchange leaves behind (rate
headers, journal entry, log line, metrics) is computed once from its record (`exchange.Exchange`) when
the answer is sent. Every exception becomes an answer in one place (`as_api_error`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final, Protocol

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from a2v_spec import ErrorCode
from mock_server.api.scenario import LocalScenario
from mock_server.errors import (
    ApiError,
    Errors,
    MethodNotAllowed,
    NoOperation,
    ResponseMismatch,
    ServiceUnavailable,
    envelope_bytes,
)
from mock_server.forwarded import TrustedProxies, apply_forwarded
from mock_server.http.cors import allowed_origins, cors_rules
from mock_server.http.exchange import API_PREFIX, Exchange, Header, header_of, json_headers
from mock_server.http.faults import DroppedConnection
from mock_server.ratelimit import Window

if TYPE_CHECKING:
    from starlette.middleware.cors import CORSMiddleware
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from a2v_spec import Limits, Operation, Spec
    from mock_server.admin.journal import Journal
    from mock_server.api.scenario import Scenario, ScenarioControl
    from mock_server.api.validation import Validator
    from mock_server.auth import Authenticator
    from mock_server.config import Settings
    from mock_server.http.endpoint import ApiEndpoint
    from mock_server.http.faults import FaultInjector
    from mock_server.http.metrics import Metrics
    from mock_server.http.routing import OperationTable
    from mock_server.ratelimit import Limiter


__all__ = ["Pipeline", "PipelineServices", "as_api_error"]

log = logging.getLogger("mock_server")

#: Paths that take the quiet way: no journal, no rate window, no log line.
QUIET: Final = ("/__admin", "/docs", "/openapi.yaml", "/favicon", "/console", "/samples")
#: API paths that cost nothing against the rate window.
_UNCOUNTED: Final = ("/v1/ping",)


class PipelineServices(Protocol):
    """What the request path reads of the server: `runtime.services.Services` has it all, and the path
    knows no more of it than this."""

    settings: Settings
    spec: Spec
    limits: Limits
    errors: Errors
    table: OperationTable
    validator: Validator
    auth: Authenticator
    limiter: Limiter
    journal: Journal
    scenario: Scenario
    control: ScenarioControl
    injector: FaultInjector
    metrics: Metrics
    violations: list[Exception]


class Pipeline:
    """The ASGI app under `MockApp`: every request of the mock passes here (see the module's picture)."""

    def __init__(self, services: PipelineServices, router: ASGIApp, endpoint: ApiEndpoint) -> None:
        s = services
        self.router = router
        self.endpoint = endpoint
        self.errors = s.errors
        self.auth = s.auth
        self.limiter = s.limiter
        self.scenario = s.scenario
        self.injector = s.injector
        self.journal = s.journal
        self.metrics = s.metrics
        self.validator = s.validator
        self.violations = s.violations
        self.table = s.table
        self.test_mode = s.settings.test_mode
        self.max_header_bytes = s.limits.max_header_bytes
        self.operation_paths = frozenset(op.path for op in s.spec.operations.values())
        # Embedded, the scenario is this process's own: nothing to bring up to date per request.
        self.sync = None if isinstance(s.control, LocalScenario) else s.control.sync
        origins = allowed_origins(s.settings.cors_origins, open_mode=s.settings.open_mode)
        self.cors: CORSMiddleware | None = cors_rules(origins, s.spec)
        self.trusted = TrustedProxies.parse(s.settings.forwarded_allow_ips)
        self.public_url = s.settings.public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan
            await self.router(scope, receive, send)
            return
        apply_forwarded(scope, self.trusted, self.public_url)  # the address a client used, behind a proxy
        if self.cors is not None and scope["method"] == "OPTIONS" and self._preflight(scope):
            # Answered before anything counts, delays or records it.
            response = self.cors.preflight_response(request_headers=Headers(scope=scope))
            await response(scope, receive, send)
            return
        if (refusal := self._head_too_large(scope)) is not None:
            await self.reply(scope, send, refusal)
            return
        path: str = scope["path"]
        if path.startswith(API_PREFIX):
            await self.api(Exchange(self, scope, receive, send))
        elif path.startswith(QUIET):
            await self.quiet(scope, receive, send)
        else:
            await self.other(Exchange(self, scope, receive, send))

    # -- the API --------------------------------------------------------------------------------------

    async def api(self, ex: Exchange) -> None:
        scope = ex.scope
        try:
            operation: Operation | ApiError = self.table.find(scope["method"], scope["path"])
        except ApiError as err:  # answered after the rate window and the faults, as any request
            operation = err
        try:
            try:
                if self.sync is not None:
                    await self.sync()
                ex.identity = await self.auth.identify(header_of(scope, b"authorization"))
                if not await self.limit(ex, 0 if scope["path"] in _UNCOUNTED else 1):
                    return
                if not await self.faults(ex):
                    return
                if isinstance(operation, ApiError):
                    raise operation
                ex.operation = operation
                status, headers, body = await self.endpoint.answer(operation, ex)
            except DroppedConnection:
                raise
            except Exception as exc:
                status, headers, body = self.render(as_api_error(scope, exc))
            await self.finish(ex, status, headers, body)
        finally:
            ex.record()
            ex.observe()

    async def finish(self, ex: Exchange, status: int, headers: list[Header], body: bytes) -> None:
        """Test mode judges the answer against the spec first (a mismatch answers 500 and is raised)."""
        if self.test_mode and ex.scope["path"].startswith(API_PREFIX):
            ex.validation = "exempt"
            if ex.operation is not None and not ex.forced:
                with_limits = [*headers, *(ex.window.raw_headers() if ex.window else [])]
                named = {k.decode("latin-1"): v.decode("latin-1") for k, v in with_limits}
                try:
                    self.validator.response(ex.operation, status, named, body)
                except ResponseMismatch as err:
                    ex.validation = "mismatch"
                    log.error("test mode: response does not match the spec: %s", err)
                    self.violations.append(err)
                    text = f"the mock's response does not match the spec: {err}"
                    mismatch = envelope_bytes(ErrorCode.INTERNAL_ERROR, text)
                    await ex.answer(500, _json_first(mismatch, []), mismatch)
                    raise
                ex.validation = "ok"
        await ex.answer(status, headers, body)

    async def limit(self, ex: Exchange, cost: int) -> bool:
        """Count the request against its tenant's window (else its client address's, so made-up tokens
        share one window); False when it was answered instead: 429 over the limit, or 503 when the
        windows cannot be reached (nothing counted, limit headers that say so)."""
        scope = ex.scope
        key = ex.tenant or f"anonymous:{(scope.get('client') or ('local', 0))[0]}"
        try:
            window = await self.limiter.ahit(key, cost)
        except ServiceUnavailable as err:
            error = Errors.internal(err)
            ex.window = Window(self.limiter.requests, 0, err.retry_after, allowed=False)
            body = envelope_bytes(error.code, error.message or self.errors.message(error.code))
            retry = [(b"retry-after", str(err.retry_after).encode())]
            await self.finish(ex, self.errors.status(error.code), _json_first(body, retry), body)
            return False
        ex.window = window
        if not window.allowed:
            code = ErrorCode.TOO_MANY_REQUESTS
            body = envelope_bytes(code, self.errors.message(code))
            retry = [(b"retry-after", str(window.reset).encode())]
            await self.finish(ex, self.errors.status(code), _json_first(body, retry), body)
            return False
        return True

    async def faults(self, ex: Exchange) -> bool:
        """The scenario's latency, dropped connection and random 500; False when one answered."""
        scenario = self.scenario
        delay = scenario.latency()
        if delay > 0:
            await asyncio.sleep(delay)
        if scenario.roll(scenario.drop_rate):
            await self.injector.drop_connection(ex.scope, ex.send_)
            return False
        if scenario.roll(scenario.error_rate):
            message = "internal error injected by the mock's scenario (error_rate)"
            raise ApiError(ErrorCode.INTERNAL_ERROR, message)
        return True

    # -- files, health, unknown paths: the router, recorded -------------------------------------------

    async def other(self, ex: Exchange) -> None:
        scope = ex.scope
        try:
            ex.identity = await self.auth.identify(header_of(scope, b"authorization"))
            if await self.limit(ex, 0):
                await self.router(scope, ex.receive, ex.send)
        except Exception as exc:
            if ex.status or isinstance(exc, DroppedConnection):
                raise
            await ex.answer(*self.render(as_api_error(scope, exc)))
        finally:
            ex.record()

    # -- admin, docs, console, samples: the router only -----------------------------------------------

    async def quiet(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await self.send_start(scope, message, send)
            else:
                await send(message)

        try:
            if self.sync is not None and scope["path"].startswith("/__admin"):
                await self.sync()
            await self.router(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            await self.reply(scope, send, as_api_error(scope, exc))

    # -- helpers --------------------------------------------------------------------------------------

    async def send_start(self, scope: Scope, message: Message, send: Send) -> None:
        """An answer's head, with CORS's headers (Starlette's rules, called once here: with CORS on, a
        request from a page gets the `Access-Control-*` headers, and every answer `Vary: Origin`)."""
        if self.cors is None:
            await send(message)
            return
        headers = list(message["headers"])
        if header_of(scope, b"origin") is None and all(name != b"vary" for name, _ in headers):
            headers.append((b"vary", b"Origin"))  # what the rules add then, without building their objects
            await send({**message, "headers": headers})
            return
        await self.cors.send({**message, "headers": headers}, send, Headers(scope=scope))

    def render(self, error: ApiError) -> tuple[int, list[Header], bytes]:
        """The envelope of `error`, with its status and head (`Errors.response`'s, as bytes)."""
        body = envelope_bytes(error.code, error.message or self.errors.message(error.code))
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()
        ]
        return error.status or self.errors.status(error.code), json_headers(body, extra), body

    async def reply(self, scope: Scope, send: Send, error: ApiError) -> None:
        """An error answered outside any exchange record (a head too large, the quiet paths)."""
        status, headers, body = self.render(error)
        await self.send_start(
            scope, {"type": "http.response.start", "status": status, "headers": headers}, send
        )
        await send({"type": "http.response.body", "body": body})

    def _preflight(self, scope: Scope) -> bool:
        names = {name for name, _ in scope["headers"]}
        return b"origin" in names and b"access-control-request-method" in names

    def _head_too_large(self, scope: Scope) -> ApiError | None:
        """431 (1016) for a target and header fields over `max_header_bytes`, before anything reads them:
        a huge token or cookie never reaches auth, the journal or the rate limiter."""
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
        size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if size <= self.max_header_bytes:
            return None
        message = f"request header fields are {size} bytes; the limit is {self.max_header_bytes}"
        return ApiError(ErrorCode.HEADERS_TOO_LARGE, message)


def as_api_error(scope: Scope, exc: Exception) -> ApiError:
    """The one place an exception becomes an answer: `ApiError` as it is, Starlette's 404/405 as the
    named errors, an unreachable dependency as 503/1014 (no traceback), anything else as 1500 (logged)."""
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


def _json_first(body: bytes, extra: list[Header]) -> list[Header]:
    """The head of an answer the rate window gives (content type first, as it always had)."""
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
