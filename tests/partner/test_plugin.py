"""The partner plugin's fixtures, exercised the way a partner uses them: in a pytest run of their own."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from tests.partner._runs import run

if TYPE_CHECKING:
    import pytest


def test_inert_until_a_fixture_is_requested(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys
        import threading

        def test_nothing_started(pytestconfig):
            plugins = pytestconfig.pluginmanager
            assert plugins.has_plugin("a2v_partner") or plugins.has_plugin("partner.plugin")
            heavy = ("mock_server", "partner.live", "partner.inprocess")
            assert not [m for m in sys.modules if m.startswith(heavy)]
            assert [t.name for t in threading.enumerate()] == ["MainThread"]
        """
    )

    result = run(pytester)

    result.assert_outcomes(passed=1)


def test_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--fixtures")

    result.stdout.fnmatch_lines(
        ["a2v_server*", "*real mock server*", "a2v_respx*", "*in-process behind respx*"]
    )


def test_a2v_server_isolates_tests_and_drives_scenarios(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import re

        import httpx

        from a2v_spec import ErrorCode, Status
        from contract_tests.client import A2VClient

        seen = {}

        def test_first(a2v_server):
            seen["token"] = a2v_server.token
            assert re.match(r"^http://127\\.0\\.0\\.1:\\d+$", a2v_server.base_url)
            with A2VClient(a2v_server.base_url, a2v_server.token) as client:
                assert "eva_a0008" in [c.model_id for c in client.list_characters()]
                video_id = client.generate_video("eva_a0008", a2v_server.add_audio())
                video = client.wait_for_video(video_id, timeout=60)
            assert video.status == "finished"
            a2v_server.admin.slow_tasks(30)
            a2v_server.admin.force_rate_limit()

        def test_second_is_isolated(a2v_server):
            assert a2v_server.token != seen["token"]
            answer = httpx.get(f"{a2v_server.base_url}/v1/a2v/video.list", headers=a2v_server.headers)
            assert answer.status_code == 200, "the previous test's rate limit leaked"
            assert answer.json()["data"] == []
            assert a2v_server.admin.scenario()["timings"]["in_progress_seconds"] == 0
            assert [e["path"] for e in a2v_server.admin.journal()] == ["/v1/a2v/video.list"]

        def test_failed_task(a2v_server):
            a2v_server.admin.fail_next_task(code=ErrorCode.AUDIO_TOO_LONG)
            with A2VClient(a2v_server.base_url, a2v_server.token) as client:
                video_id = client.generate_video("eva_a0008", a2v_server.add_audio())
                video = client.wait_for_video(video_id, timeout=30)
            assert (video.status, video.error.code) == (Status.ERROR, ErrorCode.AUDIO_TOO_LONG)
        """
    )

    result = run(pytester)

    result.assert_outcomes(passed=3)


def test_a2v_respx_serves_sync_and_async_httpx_without_a_socket(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import socket
        import time

        import httpx
        import pytest

        @pytest.fixture
        def no_sockets(monkeypatch):
            def refuse(*args, **kwargs):
                raise AssertionError("a2v_respx opened a socket")
            monkeypatch.setattr(socket.socket, "connect", refuse)

        def test_sync(a2v_respx, no_sockets):
            assert a2v_respx.base_url == "https://api.a2v.example"
            audio = a2v_respx.add_audio("https://cdn.partner.example/hello.wav")
            with httpx.Client(base_url=a2v_respx.base_url, headers=a2v_respx.headers) as client:
                body = {"model_id": "eva_a0008", "audio_url": audio}
                made = client.post("/v1/a2v/video.generate", json=body)
                video_id = made.json()["data"]["video_id"]
                deadline = time.monotonic() + 60
                while True:
                    video = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
                    if video["status"] in ("finished", "error") or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                assert video["status"] == "finished", video
                mp4 = client.get(video["video_url"])
            assert mp4.headers["content-type"] == "video/mp4" and mp4.content[4:8] == b"ftyp"
            assert a2v_respx.calls.call_count >= 3
            assert a2v_respx.calls[0].request.url.path == "/v1/a2v/video.generate"
            assert [e["status"] for e in a2v_respx.admin.journal(path="/v1/a2v/video.generate")] == [200]

        def test_async(a2v_respx, no_sockets):
            async def main():
                base_url, headers = a2v_respx.base_url, a2v_respx.headers
                async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
                    answers = await asyncio.gather(*[client.get("/v1/a2v/character.list") for _ in range(5)])
                return [a.json()["code"] for a in answers]
            assert asyncio.run(main()) == [0] * 5

        def test_unregistered_audio_is_a_404_for_the_mock(a2v_respx):
            with a2v_respx.client() as client:
                made = client.post(
                    "/v1/a2v/video.generate",
                    json={"model_id": "eva_a0008", "audio_url": "https://cdn.partner.example/missing.wav"},
                )
                video_id = made.json()["data"]["video_id"]
                deadline = time.monotonic() + 60
                while True:
                    video = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
                    if video["status"] in ("finished", "error") or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            assert video["error"]["code"] == 10001

        def test_other_hosts_are_not_mocked(a2v_respx):
            with pytest.raises(AssertionError, match="not mocked"):
                httpx.get("https://elsewhere.example/")
        """
    )

    result = run(pytester)

    result.assert_outcomes(passed=4)


def test_a2v_respx_base_url_and_settings_are_overridable(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def a2v_settings():
            return {"render_workers": 1, "rate_limit": {"requests": 2, "per_seconds": 60}}

        @pytest.fixture
        def a2v_base_url():
            return "http://a2v.internal:8080"
        """
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import httpx

            def test_partner_configuration(a2v_respx):
                url = "http://a2v.internal:8080/v1/a2v/character.list"
                codes = [httpx.get(url, headers=a2v_respx.headers).status_code for _ in range(3)]
                assert codes == [200, 200, 429]
                assert a2v_respx.calls.last.response.json()["code"] == 1009
            """
        )
    )

    result = run(pytester)

    result.assert_outcomes(passed=1)
