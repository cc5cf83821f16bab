"""Building blocks of the deliberately faulty servers: ASGI middleware around the real mock that alters
one thing in requests or responses. Each fault module builds `app(settings)` from these."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_server.runtime.app import create_app

if TYPE_CHECKING:
    from mock_server.config import Settings

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Exchange:
    """One buffered HTTP exchange a fault may rewrite."""

    scope: Scope
    request_body: bytes
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def query(self) -> str:
        return self.scope.get("query_string", b"").decode()

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.decode().lower() == name.lower():
                return value.decode()
        return None

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.decode().lower() != name.lower()]
        if value is not None:
            self.headers.append((name.lower().encode(), value.encode()))

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()


Rewrite = Callable[[Exchange], Awaitable[None] | None]


class Rewriter:
    """Buffers every HTTP answer of `app` and lets `rewrite(exchange)` change it before it leaves.

    `before(scope, body)` may answer a request itself by returning (status, headers, body), or change
    the scope (headers, query) in place.
    """

    def __init__(
        self,
        app: ASGIApp,
        rewrite: Rewrite | None = None,
        before: Callable[[Scope, bytes], tuple[int, list[tuple[bytes, bytes]], bytes] | None] | None = None,
    ) -> None:
        self.app = app
        self.rewrite = rewrite
        self.before = before

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request_body = b"".join(chunks)
        scope = dict(scope)
        if self.before is not None:
            answer = self.before(scope, request_body)
            if answer is not None:
                status, headers, body = answer
                await _send(send, status, headers, body)
                return
        sent = False
        answered = asyncio.Event()

        async def replay() -> Message:
            nonlocal sent
            if sent:
                # As a server does: the client is gone only once the answer is complete (a streaming
                # response such as Starlette's FileResponse stops early when told otherwise).
                await answered.wait()
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": request_body, "more_body": False}

        start: Message = {}
        body_parts: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body_parts.append(message.get("body", b""))
                if not message.get("more_body"):
                    answered.set()

        await self.app(scope, replay, capture)
        exchange = Exchange(
            scope, request_body, start["status"], list(start.get("headers", [])), b"".join(body_parts)
        )
        if self.rewrite is not None:
            result = self.rewrite(exchange)
            if result is not None:
                await result
        await _send(send, exchange.status, exchange.headers, exchange.body)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def mock_app(settings: Settings) -> Any:
    return create_app(settings)


def json_api(exchange: Exchange) -> dict[str, Any] | None:
    """The body of a JSON API answer (`/v1/...`), else None."""
    if not exchange.path.startswith("/v1/"):
        return None
    body = exchange.json()
    return body if isinstance(body, dict) else None


def is_video_file(exchange: Exchange) -> bool:
    path = exchange.path
    return path.startswith("/files/videos/") and path.endswith(".mp4") and not path.endswith(".mask.mp4")
