"""`create_app(settings)`: the mock server as a Starlette application.

The spec is loaded once here (start-up fails if it has no operations). Everything with I/O (the SQLite
store, the render processes, the HTTP clients, the task runner) is built by the lifespan and reached
through `app.state.mock`, so run the lifespan when using the app in-process, for example::

    from mock_server.testing import app_client           # runs the lifespan on a background loop
    with app_client(create_app(Settings(data_dir=tmp))) as client:
        client.get("/v1/ping")

or, with `httpx.AsyncClient(transport=httpx.ASGITransport(app))`, inside
`async with mock_server.testing.lifespan(app):`. (Starlette's TestClient also works where `httpx2` is
installed, which Starlette 1.10 asks for.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Mount, Route

from a2v_spec import Spec, load_spec
from mock_server import admin, docs
from mock_server.api import dispatch, video_view
from mock_server.auth import Authenticator
from mock_server.callbacks import CallbackSender
from mock_server.config import Settings
from mock_server.control import Scenario
from mock_server.errors import ApiError, Errors, envelope_bytes
from mock_server.fetch import AudioFetcher
from mock_server.files import FileServer, Signer
from mock_server.journal import Journal
from mock_server.middleware import Gateway
from mock_server.pipeline import Validator
from mock_server.ratelimit import RateLimiter
from mock_server.renderpool import RenderPool
from mock_server.replay import Replay
from mock_server.store import Store
from mock_server.tasks import TaskRunner

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from urllib.parse import SplitResult

    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from mock_server.store import Task

__all__ = ["Mock", "MockApp", "create_app"]

log = logging.getLogger("mock_server")

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


class Mock:
    """All state of one server. Pure parts are built at once, I/O parts by `start()`."""

    def __init__(self, settings: Settings, spec: Spec) -> None:
        self.settings = settings
        self.spec = spec
        self.limits = dataclasses.replace(spec.limits, **settings.limits)
        self.errors = Errors(spec.errors)
        self.validator = Validator(spec, self.limits.max_request_bytes)
        self.scenario = Scenario.from_settings(settings)
        self.limiter = RateLimiter(self.scenario.rate_limit)
        self.journal = Journal(settings.journal_size)
        #: Test mode: every response that did not match the spec (also raised and logged).
        self.violations: list[Exception] = []
        #: (METHOD, path) -> operation, for routing by the spec.
        self.routes = {(op.method.upper(), op.path): op for op in spec.operations.values()}
        #: Small per-second caches of read-only answers (e.g. the character list).
        self.cache: dict[str, Any] = {}
        self._preview_lock = asyncio.Lock()
        #: The recording `--replay` reproduces, if any.
        self.replay = (
            None if settings.replay_dir is None else Replay.load(settings.replay_dir, settings.replay_speed)
        )

    async def start(self) -> None:
        s = self.settings
        self.data_dir = s.data_dir.resolve()
        self.store = Store(self.data_dir)
        self.files_root = self.data_dir / "files"
        self.auth = Authenticator(s, self.store, self.limits.access_token_ttl_seconds)
        self.signer = Signer(s.signing_secret or self.store.secret(), self.limits.url_ttl_seconds)
        self.files = FileServer(self.files_root, self.signer)
        self.apply_scenario()
        from reference_renderer import load_characters

        self.characters: dict[str, Any] = dict(
            load_characters(None if s.characters_file is None else str(s.characters_file))
        )
        self.fetcher = AudioFetcher(self.limits, s.audio_hosts)
        self.callbacks = CallbackSender(s, self.store, self._callback_body, self._host_allowed)
        self.pool = RenderPool(s.render_workers, nice=s.render_nice)
        self.runner = TaskRunner(
            settings=s,
            limits=self.limits,
            store=self.store,
            errors=self.errors,
            fetcher=self.fetcher,
            pool=self.pool,
            files_root=self.files_root,
            on_end=self._on_end,
        )
        self.pool.on_progress = self.runner.on_progress
        self.runner.recover()
        self.callbacks.resume()
        self._background: set[asyncio.Task[None]] = set()
        if s.prewarm:
            job = asyncio.create_task(self.pool.prewarm(self._characters_file))
            self._background.add(job)
            job.add_done_callback(self._background.discard)

    @property
    def _characters_file(self) -> str | None:
        return None if self.settings.characters_file is None else str(self.settings.characters_file)

    async def stop(self) -> None:
        await self.runner.stop()
        await self.callbacks.aclose()
        await self.fetcher.aclose()
        await anyio.to_thread.run_sync(self.pool.shutdown)
        self.store.close()

    def _host_allowed(self, url: SplitResult) -> bool:
        hosts = self.settings.audio_hosts
        return hosts is None or (url.hostname or "").lower() in {h.lower() for h in hosts}

    def _callback_body(self, task: Task) -> bytes:
        base = str(task.plan.get("base_url") or f"http://{self.settings.host}:{self.settings.port}")
        return envelope_bytes(0, "success", video_view(self, task, base))

    async def _on_end(self, task: Task) -> None:
        self.callbacks.schedule(task)

    def apply_scenario(self) -> None:
        """Hand the scenario's settings to the parts that hold them (rate limiter, URL signer)."""
        self.limiter.configure(self.scenario.rate_limit)
        ttl = self.scenario.url_ttl_seconds
        self.signer.ttl = self.limits.url_ttl_seconds if ttl is None else ttl
        self.cache.clear()  # cached answers hold URLs signed with the old lifetime

    async def reset(self, tenant: str | None = None) -> None:
        """Forget one tenant's tasks, files, keys, deliveries, journal and counters (all when None)."""
        if tenant is None:
            await self.runner.stop()
        ids = self.store.delete_tenant(tenant)
        for video_id in ids:
            await self.runner.cancel(video_id)
            for suffix in (".mp4", ".mask.mp4"):
                with contextlib.suppress(FileNotFoundError):
                    (self.files_root / "videos" / f"{video_id}{suffix}").unlink()
        self.journal.reset(tenant)
        self.limiter.reset(tenant)
        self.auth.forget()
        if tenant is None:
            self.scenario = Scenario.from_settings(self.settings)
            self.apply_scenario()
            self.violations.clear()
            shutil.rmtree(self.files_root / "videos", ignore_errors=True)
            (self.files_root / "videos").mkdir(parents=True, exist_ok=True)

    async def preview(self, model_id: str) -> None:
        """Draw a character's preview PNG once, on first request."""
        path = self.files_root / "previews" / f"{model_id}.png"
        if path.exists() or model_id not in self.characters:
            return
        async with self._preview_lock:
            if path.exists():
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            from reference_renderer import render_preview

            partial = path.with_suffix(".tmp.png")
            size = self.limits.video_size
            await anyio.to_thread.run_sync(
                lambda: render_preview(self.characters[model_id], str(partial), size=size)
            )
            partial.replace(path)


class MockApp(Starlette):
    """Starlette that also keeps the server's raw `send` in the scope, so a scenario can drop a
    connection without answering."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["a2v.raw_send"] = send
        await super().__call__(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    mock: Mock = request.app.state.mock
    assert isinstance(exc, ApiError)
    return mock.errors.response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    mock: Mock = request.app.state.mock
    assert isinstance(exc, HTTPException)
    path = request.url.path
    allowed = sorted(op.method.upper() for op in mock.spec.operations.values() if op.path == path)
    if allowed:
        message = f"method {request.method} is not allowed on {path}; use {', '.join(allowed)}"
        return mock.errors.response(ApiError(1006, message, headers={"Allow": ", ".join(allowed)}))
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "GET")
        message = f"method {request.method} is not allowed on {path}"
        return mock.errors.response(ApiError(1006, message, headers={"Allow": allow}))
    return mock.errors.response(ApiError(1007, f"no operation at {path}; see /openapi.yaml"))


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s: %r", request.method, request.url.path, exc)
    return Response(
        envelope_bytes(1500, f"internal error: {type(exc).__name__}"), 500, media_type="application/json"
    )


async def _files(request: Request) -> Response:
    mock: Mock = request.app.state.mock
    name = request.path_params["name"]
    if name.startswith("previews/") and name.endswith(".png"):
        await mock.preview(name[len("previews/") : -len(".png")])
    return await mock.files.serve(request, name)


def create_app(settings: Settings | None = None, spec: Spec | None = None) -> MockApp:
    """Build the mock server for `settings` (default `Settings()`)."""
    settings = settings or Settings()
    spec = spec or load_spec()
    mock = Mock(settings, spec)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await mock.start()
        try:
            yield
        finally:
            await mock.stop()

    routes: list[Route | Mount] = [
        *docs.routes(),
        Mount("/__admin", routes=admin.routes),
        Route("/files/{name:path}", _files, methods=["GET", "HEAD"]),
        Route("/v1/{rest:path}", dispatch, methods=_ALL_METHODS),
    ]
    app = MockApp(
        routes=routes,
        middleware=[Middleware(Gateway)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _internal},
        lifespan=lifespan,
    )
    app.state.mock = mock
    app.state.settings = settings
    app.state.spec_bytes = spec.path.read_bytes() if spec.path else b""
    return app
