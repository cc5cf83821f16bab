"""`A2VServer`: a real mock server on 127.0.0.1, shared by a test session, isolated per test.

Starting the mock (its renderer processes, its character previews) takes a moment, so one server serves
a whole session; each test gets a fresh token (its own tenant) and a reset server (no videos, an empty
journal, the default scenario). An `AudioHost` on loopback serves the audio a test registers, so the mock
downloads it over real HTTP like the service would.

Example:
    >>> with LiveMock() as live:                                         # doctest: +SKIP
    ...     server = live.for_test()
    ...     url = server.add_audio()
    ...     httpx.get(f"{server.base_url}/v1/a2v/character.list", headers=server.headers)
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from partner.admin import Admin
from partner.audio import AudioHost, make_wav
from partner.tenant import Tenant

if TYPE_CHECKING:
    from mock_server.config import Settings

__all__ = ["A2VServer", "LiveMock"]


class LiveMock:
    """One running mock server and one audio host, for many tests."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides
        self._stack = contextlib.ExitStack()
        self.running: Any = None
        self.audio: AudioHost
        self.http: httpx.Client

    def start(self) -> LiveMock:
        from mock_server.testing import run_server

        try:
            self.running = self._stack.enter_context(run_server(self._settings, **self._overrides))
            self.audio = AudioHost()
            self._stack.callback(self.audio.close)
            self.http = self._stack.enter_context(httpx.Client(base_url=self.running.base_url, timeout=30))
        except BaseException:
            self._stack.close()
            raise
        return self

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> LiveMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def for_test(self, token: str | None = None) -> A2VServer:
        """A fresh handle: a new token, the server reset, the audio host emptied."""
        server = A2VServer(self, token or secrets.token_hex(16))
        server.admin.reset()
        self.audio.clear()
        return server


class A2VServer(Tenant):
    """What the `a2v_server` fixture yields: the server's `base_url`, a `token`, its `headers`,
    an `admin` handle for scenarios, and `add_audio()` for audio the mock can download."""

    def __init__(self, live: LiveMock, token: str) -> None:
        self._live = live
        self.base_url: str = live.running.base_url.rstrip("/")
        self.token = token
        self.app: Any = live.running.app
        self.settings: Any = live.running.settings
        self.admin = Admin(live.http, token)

    def add_audio(
        self, name: str | None = None, data: bytes | None = None, content_type: str = "audio/wav"
    ) -> str:
        """Serve `data` (default: a one-second WAV) at a loopback URL the mock can download; returns it."""
        name = name or f"{uuid.uuid4().hex}.wav"
        return self._live.audio.add(name, make_wav(1.0) if data is None else data, content_type)
