"""The gateway every request passes first: faults, rate limit, journal, headers, response checks.

A pure ASGI middleware (no per-request Request objects on the fast path). In order:
latency -> dropped connection -> random 500 -> rate limit (429 with `Retry-After`; `ping` costs
nothing) -> the app -> `X-Ratelimit-*` on the response -> journal entry -> in test mode, the response
validated against the spec (a mismatch becomes a 500 and is raised).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from mock_server.api import handle_api
from mock_server.auth import bearer_token
from mock_server.errors import ApiError, ResponseMismatch, envelope_bytes
from mock_server.journal import Entry

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mock_server.app import Mock

__all__ = ["DroppedConnection", "Gateway"]

log = logging.getLogger("mock_server")

_UNCOUNTED = ("/v1/ping",)
_QUIET = ("/__admin", "/docs", "/openapi.yaml", "/favicon")


class DroppedConnection(ConnectionError):
    """The scenario dropped this request's connection (raised where there is no socket to close)."""


def _mock(scope: Scope) -> Mock:
    return scope["app"].state.mock


class Gateway:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mock = _mock(scope)
        path: str = scope["path"]
        if path.startswith(_QUIET):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k: v for k, v in scope["headers"] if k in (b"authorization",)}
        token = (
            bearer_token(headers[b"authorization"].decode("latin-1")) if b"authorization" in headers else None
        )
        tenant = mock.auth.peek(token)
        client = scope.get("client") or ("local", 0)
        key = token or f"anonymous:{client[0]}"
        is_api = path.startswith("/v1/")
        scenario = mock.scenario

        status_code = [0]
        code: list[int | None] = [None]

        def record() -> None:
            mock.journal.add(
                Entry(
                    time=time.time(),
                    tenant=tenant,
                    method=scope["method"],
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status_code[0],
                    code=code[0],
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                )
            )

        if is_api:
            delay = scenario.latency()
            if delay > 0:
                await asyncio.sleep(delay)
            if scenario.roll(scenario.drop_rate):
                status_code[0] = 0
                record()
                await self._drop(scope)
                return
        window = mock.limiter.hit(key, 0 if path in _UNCOUNTED or not is_api else 1)
        limit_headers = [(k.lower().encode(), v.encode()) for k, v in window.headers().items()]

        forced: ApiError | None = None
        if is_api and scenario.roll(scenario.error_rate):
            forced = ApiError(1500, "internal error injected by the mock's scenario (error_rate)")
        elif not window.allowed:
            forced = ApiError(1009, "Too Many Request", headers={"Retry-After": str(window.reset)})
        if forced is not None:
            status = forced.status or mock.errors.status(forced.code)
            body = envelope_bytes(forced.code, forced.message or mock.errors.message(forced.code))
            extra = [(k.lower().encode(), v.encode()) for k, v in forced.headers.items()]
            status_code[0], code[0] = status, forced.code
            await _send_json(send, status, body, [*extra, *limit_headers])
            record()
            return

        validate = mock.settings.test_mode and is_api
        buffered: list[Message] = []

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_code[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *limit_headers]}
            elif message["type"] == "http.response.body" and code[0] is None and status_code[0] >= 200:
                code[0] = _code(message.get("body", b""))
            if validate:
                buffered.append(message)
            else:
                await send(message)

        # The API skips Starlette's router and exception layers (hot path); the rest goes through them.
        await (handle_api if is_api else self.app)(scope, receive, wrapped)
        if validate:
            await self._checked(scope, buffered, send, limit_headers)
        record()

    async def _checked(
        self, scope: Scope, messages: list[Message], send: Send, limit_headers: list[Any]
    ) -> None:
        mock = _mock(scope)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        op = scope.get("a2v.operation")
        if start is None or scope.get("a2v.forced") or op is None:
            for message in messages:
                await send(message)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
        try:
            mock.validator.response(op, start["status"], headers, body)
        except ResponseMismatch as err:
            log.error("test mode: response does not match the spec: %s", err)
            mock.violations.append(err)
            payload = envelope_bytes(1500, f"the mock's response does not match the spec: {err}")
            await _send_json(send, 500, payload, limit_headers)
            raise
        for message in messages:
            await send(message)

    async def _drop(self, scope: Scope) -> None:
        raw_send = scope.get("a2v.raw_send")
        transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
        if transport is None:
            raise DroppedConnection("connection dropped by the mock's scenario (drop_rate)")
        transport.close()
        for _ in range(3):  # let the server see the connection is gone before the app returns
            await asyncio.sleep(0)


async def _send_json(send: Send, status: int, body: bytes, headers: list[Any]) -> None:
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*base, *headers]})
    await send({"type": "http.response.body", "body": body})


def _code(body: bytes) -> int | None:
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
