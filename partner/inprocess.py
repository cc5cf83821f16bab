"""`A2VRespx`: the mock server answering any base URL in-process, through respx, with no socket.

Partner code that uses httpx runs unchanged: respx intercepts its requests to `base_url` and this
module hands them to the mock's ASGI app, which runs on its own event loop thread (`AppThread`) with
its lifespan started, so the task worker renders videos as it does in the real server. Sync and async
clients both work, from any thread.

The mock downloads `audio_url` with httpx too, inside the same process, so respx sees those downloads:
URLs registered with `add_audio()` answer their bytes; any other URL the *mock* asks for answers 404
(the task ends in `error` 10001), except loopback URLs, which pass through to a real local server. The
partner's own requests to other hosts are left to respx's usual rule (not mocked: an error), so this
router composes with the partner's own `respx_mock` routes.

Example:
    >>> from partner.inprocess import A2VRespx
    >>> with A2VRespx() as mock:                                           # doctest: +SKIP
    ...     audio = mock.add_audio()
    ...     r = httpx.post(f"{mock.base_url}/v1/a2v/video.generate", headers=mock.headers,
    ...                    json={"model_id": "eva_a0008", "audio_url": audio})
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import secrets
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import respx

from a2v_testkit import AppThread, AppTransport, in_app
from partner.admin import Admin
from partner.audio import make_wav
from partner.tenant import Tenant

if TYPE_CHECKING:
    from mock_server.config import Settings

__all__ = ["A2VRespx", "InProcessMock", "default_base_url"]

#: Where audio registered without a URL lives (a reserved `.test` name: it never resolves for real).
AUDIO_BASE_URL = "https://audio.a2v.test"

_is_async: contextvars.ContextVar[bool] = contextvars.ContextVar("a2v_respx_async", default=False)


@functools.cache
def default_base_url() -> str:
    """The first server URL that `openapi.yaml` names (the public service's placeholder host)."""
    from a2v_spec import load_spec

    servers = load_spec().document.get("servers") or []
    if not servers:
        raise ValueError("openapi.yaml names no servers; give a2v_respx a base URL")
    return str(servers[0]["url"]).rstrip("/")


class _Router(respx.MockRouter):
    """A respx router that tells its side effects whether the request came from async code."""

    async def aresolve(self, request: httpx.Request) -> Any:
        token = _is_async.set(True)
        try:
            return await super().aresolve(request)
        finally:
            _is_async.reset(token)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InProcessMock:
    """The mock's app running on its own loop thread; shared by the `a2v_respx` of many tests."""

    def __init__(
        self, settings: Settings | None = None, *, data_dir: str | Path | None = None, **overrides: Any
    ) -> None:
        self._settings = settings
        self._data_dir = data_dir
        self._overrides = overrides
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.runner: AppThread | None = None
        self.app: Any = None
        self.settings: Any = None

    def start(self) -> InProcessMock:
        from mock_server.config import Settings
        from mock_server.http.faults import DroppedConnection
        from mock_server.runtime.app import create_app

        data_dir = self._data_dir
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="a2v-respx-")
            data_dir = self._tmp.name
        base = self._settings or Settings()
        self.settings = base.replace(**{"data_dir": Path(data_dir), **self._overrides})
        self.app = create_app(self.settings)
        try:
            self.runner = AppThread(
                self.app, drop_errors=(DroppedConnection,), raise_app_exceptions=False
            ).start()
        except BaseException:
            self._cleanup()
            raise
        return self

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> InProcessMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class A2VRespx(Tenant):
    """The mock, mounted in respx for `base_url`. Use as a context manager, or `start()` / `stop()`.

    Attributes: `base_url`, `token` (a fresh tenant), `headers` (its Authorization header), `admin`
    (an `Admin`), `calls` (respx's record of the partner's API calls), `router` (the respx router, to
    add routes of your own), `app` (the Starlette app) and `settings`. Give `mock` to share one running
    app between many of them (the fixture does, per session); otherwise it starts its own from `settings`
    and `overrides`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        mock: InProcessMock | None = None,
        token: str | None = None,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        self.base_url = (base_url or default_base_url()).rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"base_url must be http(s)://host[:port] with no path, got {self.base_url!r}")
        self.token = token or secrets.token_hex(16)
        self._owned = mock is None
        self.mock = mock if mock is not None else InProcessMock(settings, **overrides)
        self._admin_http: httpx.Client | None = None
        self.router = _Router(assert_all_called=False, assert_all_mocked=True)
        self._audio: dict[str, httpx.Response] = {}
        # Order matters: registered audio first (it may share the API's host), then the API, then
        # whatever else the mock itself asks for.
        self.router.route(name="a2v-audio", method__in=["GET", "HEAD"]).side_effect = self._serve_audio
        api_pattern: dict[str, Any] = {"scheme": parts.scheme, "host": parts.hostname}
        if parts.port is not None:
            api_pattern["port"] = parts.port
        self._api = self.router.route(name="a2v-api", **api_pattern)
        self._api.side_effect = self._serve
        self.router.route(name="a2v-outbound").side_effect = self._outbound
        self.admin: Admin

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def app(self) -> Any:
        return self.mock.app

    @property
    def settings(self) -> Any:
        return self.mock.settings

    def start(self) -> A2VRespx:
        if self._owned:
            self.mock.start()
        if self.mock.runner is None:
            raise RuntimeError("the in-process A2V mock is not running; start it first")
        self._admin_http = httpx.Client(base_url=self.base_url, transport=AppTransport(self.mock.runner))
        self.admin = Admin(self._admin_http, self.token)
        self.router.start()
        return self

    def stop(self) -> None:
        self.router.stop(quiet=True)
        if self._admin_http is not None:
            self._admin_http.close()
            self._admin_http = None
        if self._owned:
            self.mock.stop()

    def __enter__(self) -> A2VRespx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a test uses ------------------------------------------------------------------------------

    @property
    def calls(self) -> respx.models.CallList:
        """The partner's calls to the API (not the mock's audio downloads, not admin calls)."""
        return self._api.calls

    def add_audio(
        self, url: str | None = None, data: bytes | None = None, content_type: str = "audio/wav"
    ) -> str:
        """Make `url` (default: a fresh `https://audio.a2v.test/<hex>.wav`) answer `data` (default: a
        one-second WAV) to the mock's download, and return the URL."""
        url = str(httpx.URL(url or f"{AUDIO_BASE_URL}/{uuid.uuid4().hex}.wav"))
        body = make_wav(1.0) if data is None else data
        self._audio[url] = httpx.Response(200, content=body, headers={"Content-Type": content_type})
        return url

    # -- respx side effects ----------------------------------------------------------------------------

    def _serve_audio(self, request: httpx.Request) -> Any:
        found = self._audio.get(str(request.url))
        if found is None:
            return None
        return httpx.Response(
            found.status_code, headers=found.headers, content=found.content, request=request
        )

    def _serve(self, request: httpx.Request) -> Any:
        runner = self.mock.runner
        if runner is None:
            raise RuntimeError("the in-process A2V mock is not running")
        if _is_async.get():
            return runner.asend(request)
        return runner.send(request)

    def _outbound(self, request: httpx.Request) -> Any:
        if not in_app.get():
            return None  # the partner's own request to some other host: not ours to answer
        if _is_loopback(request.url.host):
            return request  # pass through to a real local server
        return httpx.Response(404, text=f"no audio registered for {request.url} (use add_audio)")
