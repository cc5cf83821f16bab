"""The proxy as an ASGI app: forward every request to the upstream, stream the answer back, judge it.

One path for every request, so it is a plain ASGI callable rather than a router (a Starlette router
would only match its one catch-all route on every request); uvicorn runs it. Requests go upstream
through the lean keep-alive client of `contract_tests.proxy.upstream` (a request body streamed past
the cap, or a test's in-process transport, goes through httpx instead).

    client -> read the request (kept up to the cap, streamed on beyond it)
           -> upstream (keep-alive)         client gone meanwhile? the answer is still read and judged
           -> JSON API answer: file URLs rewritten to pass through the proxy, Content-Length fixed
              any other answer (files): streamed through, kept up to `body_limit` for the judge
           -> Judge.judge(exchange) after the last byte left; Recorder.record(exchange)

The upstream not answering gives 502 (504 on a timeout) in the API's envelope, code 1500.

Example:
    >>> app = create_app(ProxyConfig(upstream="http://127.0.0.1:8000"))   # doctest: +SKIP
    >>> uvicorn.run(app, port=8080)                                      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from a2v_spec import ErrorCode, load_spec
from contract_tests.proxy.exchange import Exchange
from contract_tests.proxy.judge import Judge
from contract_tests.proxy.record import Recorder
from contract_tests.proxy.upstream import Upstream, UpstreamError, UpstreamResponse, UpstreamTimeout
from contract_tests.proxy.urls import FileUrls

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine
    from pathlib import Path

    from contract_tests.proxy.violations import TrafficViolation

__all__ = ["Proxy", "ProxyApp", "ProxyConfig", "create_app"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Any  # async () -> Message (ASGI)
Send = Any  # async (Message) -> None (ASGI)

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length", "expect"}
)  # fmt: skip
_JSON_LIMIT = 8 << 20


@dataclass
class ProxyConfig:
    upstream: str
    #: Bytes of each body kept for the judge and the recording (media beyond it pass unjudged).
    body_limit: int = 64 << 20
    timeout: float = 120.0
    record_dir: Path | None = None
    record_files: bool = False
    spec_path: Path | None = None
    #: Fetch a task's audio to compare the video's duration with it.
    fetch_audio: bool = True
    max_connections: int = 256

    def __post_init__(self) -> None:
        if not self.upstream.startswith(("http://", "https://")):
            raise ValueError(f"--upstream must be an http(s) URL, got {self.upstream!r}")
        self.upstream = self.upstream.rstrip("/")


class Proxy:
    """The forwarding and its state; `judge` and `recorder` are what tests and the CLI read."""

    def __init__(
        self,
        config: ProxyConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_violation: Callable[[TrafficViolation], None] | None = None,
    ) -> None:
        self.config = config
        self.spec = load_spec(config.spec_path)
        self.urls = FileUrls(config.upstream)
        self.judge = Judge(
            self.spec,
            self.urls,
            fetch_audio=self._fetch_audio if config.fetch_audio else None,
            on_violation=on_violation,
        )
        self.recorder = (
            Recorder(config.record_dir, files=config.record_files) if config.record_dir is not None else None
        )
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._upstream: Upstream | None = None
        self._seq = itertools.count(1)

    # -- life cycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the upstream clients: the lean one, and httpx for what it does not do (a request body
        streamed past the cap, a test's in-process transport, the task audio the judge fetches)."""
        if self._transport is None:
            self._upstream = Upstream(timeout=self.config.timeout)
        limits = httpx.Limits(
            max_connections=self.config.max_connections, max_keepalive_connections=self.config.max_connections
        )
        self._http = httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(self.config.timeout, connect=10.0),
            limits=limits,
            follow_redirects=False,
        )

    async def stop(self) -> None:
        await self.judge.drain()
        if self._http is not None:
            await self._http.aclose()
        if self._upstream is not None:
            await self._upstream.aclose()
        if self.recorder is not None:
            self.recorder.close()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("the proxy is not started: run its lifespan (uvicorn does) or call start()")
        return self._http

    # -- one request ---------------------------------------------------------------------------------
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        target = self.urls.target(path, query)
        if target is None:
            await _send_json(send, 404, ErrorCode.NOT_FOUND, f"the proxy forwards no file origin for {path}")
            return
        is_api = Judge.is_api(path)
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in _HOP_BY_HOP and not (is_api and k == b"accept-encoding")
        ]
        exchange = Exchange(
            seq=next(self._seq),
            method=scope["method"],
            path=path,
            query=query,
            request_headers=headers,
            upstream_url=target,
            started=time.monotonic(),
            wall=time.time(),
            body_limit=self.config.body_limit,
            file_path=None if is_api else f"{path}?{query}" if query else path,
        )
        content, complete = await self._read_request(receive, exchange)
        try:
            response = await self._send_upstream(
                self._forward(scope, exchange, headers, content, complete),
                receive,
                exchange,
                watch=complete and exchange.method != "GET",
            )
        except (httpx.TimeoutException, UpstreamTimeout) as err:
            exchange.upstream_error = f"the upstream did not answer within {self.config.timeout:g} s ({err})"
            await self._fail(send, exchange, 504)
            return
        except (httpx.HTTPError, UpstreamError) as err:
            exchange.upstream_error = f"{type(err).__name__}: {err}"
            await self._fail(send, exchange, 502)
            return
        try:
            await self._answer(scope, send, exchange, response, is_api)
        except (httpx.HTTPError, UpstreamError) as err:  # the upstream broke off in the middle of a body
            exchange.upstream_error = f"{type(err).__name__}: {err}"
        finally:
            await response.aclose()
            exchange.ended = time.monotonic()
            self._done(exchange)

    async def _forward(
        self, scope: Scope, exchange: Exchange, headers: list[tuple[str, str]], content: Any, complete: bool
    ) -> Answer:
        """Send the request upstream: the lean client, or httpx for a streamed body or a test transport."""
        if complete and self._upstream is not None:
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            return await self._upstream.request(exchange.method, exchange.upstream_url, raw, content)
        pool = self.http
        request = pool.build_request(exchange.method, exchange.upstream_url, headers=headers, content=content)
        return HttpxAnswer(await pool.send(request, stream=True))

    async def _read_request(self, receive: Receive, exchange: Exchange) -> tuple[Any, bool]:
        """The body as bytes when it fits the cap, else a stream that keeps reading past it."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= exchange.body_limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                exchange.client_gave_up = True
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body"))
        exchange.request_body = b"".join(chunks)[: exchange.body_limit]
        exchange.request_size = size
        if not more:
            return b"".join(chunks), True
        head = b"".join(chunks)

        async def rest() -> AsyncIterator[bytes]:
            yield head
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    exchange.client_gave_up = True
                    return
                chunk = message.get("body", b"")
                exchange.request_size += len(chunk)
                yield chunk
                if not message.get("more_body"):
                    return

        return rest(), False

    async def _send_upstream(
        self, sending: Coroutine[Any, Any, Answer], receive: Receive, exchange: Exchange, *, watch: bool
    ) -> Answer:
        """Send upstream; with `watch`, note a client that hangs up meanwhile (its timeout, usually)."""
        if not watch:
            return await sending
        upstream = asyncio.ensure_future(sending)
        watcher = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({upstream, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if watcher.done() and watcher.result():
                exchange.client_gave_up = True
                self.judge.abandoned(exchange)
            return await upstream
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _answer(
        self, scope: Scope, send: Send, exchange: Exchange, response: Answer, is_api: bool
    ) -> None:
        exchange.status = response.status_code
        exchange.response_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers
        ]
        out_headers = [
            (k, v) for k, v in response.raw_headers if k.decode("latin-1").lower() not in _HOP_BY_HOP
        ]
        kind = response.header("content-type") or ""
        length = response.header("content-length")
        if is_api and kind.startswith("application/json") and (length is None or int(length) <= _JSON_LIMIT):
            body = await response.aread()
            exchange.response_body = body[: exchange.body_limit]
            exchange.response_size = len(body)
            body = self._rewrite(scope, exchange, body)
            out_headers.append((b"content-length", str(len(body)).encode()))
            if not exchange.client_gave_up:
                await _safe_send(
                    send,
                    {"type": "http.response.start", "status": response.status_code, "headers": out_headers},
                )
                await _safe_send(send, {"type": "http.response.body", "body": body})
            return
        if length is not None:
            out_headers.append((b"content-length", length.encode()))
        kept: list[bytes] = []
        kept_size = 0
        alive = not exchange.client_gave_up and await _safe_send(
            send, {"type": "http.response.start", "status": response.status_code, "headers": out_headers}
        )
        async for chunk in response.aiter_raw():
            exchange.response_size += len(chunk)
            if kept_size < exchange.body_limit:
                kept.append(chunk[: exchange.body_limit - kept_size])
                kept_size += len(kept[-1])
            if alive:
                alive = await _safe_send(
                    send, {"type": "http.response.body", "body": chunk, "more_body": True}
                )
        if alive:
            alive = await _safe_send(send, {"type": "http.response.body", "body": b""})
        exchange.client_gave_up = exchange.client_gave_up or not alive
        exchange.response_body = b"".join(kept)

    def _rewrite(self, scope: Scope, exchange: Exchange, body: bytes) -> bytes:
        try:
            document = json.loads(body)
        except ValueError:
            return body
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if host is None:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        origin = f"{scope.get('scheme', 'http')}://{host}"
        if self.urls.rewrite(document, origin, exchange.tenant):
            return json.dumps(document, separators=(",", ":")).encode()
        return body

    async def _fail(self, send: Send, exchange: Exchange, status: int) -> None:
        message = f"a2v proxy: {exchange.upstream_error}"
        exchange.status = status
        if not exchange.client_gave_up:
            await _send_json(send, status, ErrorCode.INTERNAL_ERROR, message)
        exchange.ended = time.monotonic()
        self._done(exchange)

    def _done(self, exchange: Exchange) -> None:
        self.judge.judge(exchange)
        if self.recorder is not None:
            self.recorder.record(exchange, self.judge.secrets)

    async def _fetch_audio(self, url: str) -> bytes | None:
        """The task's audio, as the service would download it (size-capped by the spec's limit)."""
        if not url.startswith(("http://", "https://")):
            return None
        limit = self.spec.limits.max_audio_bytes
        timeout = self.spec.limits.audio_fetch_timeout_seconds
        async with self.http.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                return None
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    return None
            return bytes(data)


class HttpxAnswer:
    """An httpx answer with the few reads the proxy makes of an `UpstreamResponse`."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.raw_headers: list[tuple[bytes, bytes]] = list(response.headers.raw)

    def header(self, name: str) -> str | None:
        return self.response.headers.get(name)

    async def aread(self) -> bytes:
        return await self.response.aread()

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self.response.aiter_raw()

    async def aclose(self) -> None:
        await self.response.aclose()


Answer = UpstreamResponse | HttpxAnswer


class ProxyApp:
    """The ASGI app: lifespan starts and stops the `Proxy`; every HTTP request goes to `Proxy.handle`."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.proxy.handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.proxy.start()
                except Exception as err:
                    await send({"type": "lifespan.startup.failed", "message": str(err)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.proxy.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(
    config: ProxyConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_violation: Callable[[TrafficViolation], None] | None = None,
) -> ProxyApp:
    """The proxy app for `config`; `transport` reaches the upstream in-process (tests)."""
    return ProxyApp(Proxy(config, transport=transport, on_violation=on_violation))


async def _disconnected(receive: Receive) -> bool:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return True


async def _safe_send(send: Send, message: Message) -> bool:
    """Send, reporting False when the client has gone (the rest of the answer is still read)."""
    try:
        await send(message)
    except OSError:
        return False
    except Exception as err:  # uvicorn's ClientDisconnected, whatever its module
        if "disconnect" in type(err).__name__.lower():
            return False
        raise
    return True


async def _send_json(send: Send, status: int, code: ErrorCode, message: str) -> None:
    body = json.dumps({"code": int(code), "message": message, "data": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await _safe_send(send, {"type": "http.response.start", "status": status, "headers": headers})
    await _safe_send(send, {"type": "http.response.body", "body": body})
