"""The partner pytest plugin: test your A2V integration offline, against every state and failure.

Registered as the `pytest11` entry point `a2v_partner`; it is inert until a test asks for a fixture
(nothing is imported, started or patched before that).

Fixtures:
    a2v_server   a real mock server on a free 127.0.0.1 port (one per session, reset and given a fresh
                 token for every test): `.base_url`, `.token`, `.headers`, `.admin`, `.add_audio()`.
    a2v_respx    the same mock in-process behind respx, for any base URL (default: the first server
                 of openapi.yaml, `https://api.a2v.example`); your httpx code runs unchanged with no
                 socket: `.base_url`, `.token`, `.headers`, `.admin`, `.add_audio(url, data)`, `.calls`.

Overridable fixtures: `a2v_settings` (session; keyword overrides of `mock_server.config.Settings` for
both mocks) and `a2v_base_url` (the URL `a2v_respx` answers for).

Example:
    >>> def test_my_client_survives_a_failed_task(a2v_respx):              # doctest: +SKIP
    ...     a2v_respx.admin.fail_next_task(code=ErrorCode.AUDIO_NOT_DECODABLE)
    ...     client = MyClient(a2v_respx.base_url, a2v_respx.token)
    ...     with pytest.raises(MyVideoFailed):
    ...         client.make_video("eva_a0008", a2v_respx.add_audio())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from partner.inprocess import A2VRespx, InProcessMock
    from partner.live import A2VServer, LiveMock


@pytest.fixture(scope="session")
def a2v_settings() -> dict[str, Any]:
    """Keyword overrides of the mock's `Settings` for both fixtures; override in your conftest.py.

    The default renders with one process and keeps the default timings, so tasks finish in about a
    second for a one-second audio.
    """
    return {"render_workers": 1}


@pytest.fixture
def a2v_base_url() -> str:
    """The base URL `a2v_respx` answers for; override it to match your client's configuration."""
    from partner.inprocess import default_base_url

    return default_base_url()


@pytest.fixture(scope="session")
def _a2v_live(a2v_settings: dict[str, Any]) -> Iterator[LiveMock]:
    from partner.live import LiveMock

    with LiveMock(**a2v_settings) as live:
        yield live


@pytest.fixture
def a2v_server(_a2v_live: LiveMock) -> A2VServer:
    """A real mock server on 127.0.0.1 (shared by the session), reset, with a fresh token."""
    return _a2v_live.for_test()


@pytest.fixture(scope="session")
def _a2v_inprocess(a2v_settings: dict[str, Any]) -> Iterator[InProcessMock]:
    from partner.inprocess import InProcessMock

    with InProcessMock(**a2v_settings) as mock:
        yield mock


@pytest.fixture
def a2v_respx(_a2v_inprocess: InProcessMock, a2v_base_url: str) -> Iterator[A2VRespx]:
    """The mock in-process behind respx at `a2v_base_url`, reset, with a fresh token."""
    from partner.inprocess import A2VRespx

    with A2VRespx(a2v_base_url, mock=_a2v_inprocess) as mock:
        mock.admin.reset()
        yield mock
