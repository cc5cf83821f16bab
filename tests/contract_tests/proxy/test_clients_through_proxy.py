"""Well-behaved clients through the proxy in front of the mock: nothing reported on either side.

The kit's quick profile (which also breaks client rules on purpose: negative requests, fast polling,
a download after expiry), the documentation's examples in Python and curl over real sockets, and the
reference client driven the way the spec asks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from a2v_testkit import speech_wav
from contract_tests.client import A2VClient
from contract_tests.config import KitOptions
from contract_tests.requirement_ids import Req
from contract_tests.runner import run_with_exit_code
from contract_tests.servers import kit_server
from mock_server.testing import run_server

if TYPE_CHECKING:
    from tests.contract_tests.proxy.conftest import StartProxy

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: Rules the kit breaks on purpose to test the server: negative data, 0.2 s polls, expired downloads.
KIT_BREAKS_ON_PURPOSE = {Req.CLIENT_REQUEST_SCHEMA, Req.CLIENT_POLL_INTERVAL, Req.CLIENT_EXPIRED_URL}


@pytest.mark.slow
def test_kit_quick_profile_through_the_proxy(start_proxy: StartProxy) -> None:
    with (
        run_server(render_workers=1, audio_hosts=["127.0.0.1"], limits={"url_ttl_seconds": 3}) as mock,
        start_proxy(mock.base_url) as proxy,
    ):
        options = KitOptions(base_url=proxy.base_url, api_key="kit-a", second_api_key="kit-b", seed=3)
        result = run_with_exit_code(options)
    assert result.exit_code == 0, result.report.text()
    assert result.report.outcomes()[Req.FILE_EXPIRES] == "passed"
    assert proxy.ids("server") == set(), proxy.texts("server")
    assert proxy.ids("client") <= KIT_BREAKS_ON_PURPOSE, proxy.texts("client")
    judge = proxy.proxy.judge
    # The media went through the proxy and were judged: every download was a rewritten URL.
    assert any(v.requirement == Req.CLIENT_EXPIRED_URL for v in judge.violations)
    assert judge.exchanges > 100


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_documentation_examples_through_the_proxy(start_proxy: StartProxy) -> None:
    """Third-party clients (Python httpx and curl) over real sockets: nothing to report on either side."""
    import json

    with (
        kit_server() as audio,
        run_server(render_workers=1, audio_hosts=["127.0.0.1"]) as mock,
        start_proxy(mock.base_url) as proxy,
    ):
        env = {
            "A2V_BASE_URL": proxy.base_url,
            "A2V_TOKEN": "example-token",
            "A2V_MODEL_ID": "eva_a0008",
            "A2V_AUDIO_URL": audio.add_file("hello.wav", speech_wav(0.8), "audio/wav"),
        }
        for runner, suffix in ((sys.executable, ".py"), ("sh", ".sh")):
            folder = EXAMPLES / ("python" if suffix == ".py" else "curl")
            name = (lambda n: n) if suffix == ".py" else (lambda n: n.replace("_", "-"))
            _run([runner, str(folder / (name("character_list") + suffix))], env)
            created = json.loads(_run([runner, str(folder / (name("video_generate") + suffix))], env))
            env["A2V_VIDEO_ID"] = created["data"]["video_id"]
            video = json.loads(_run([runner, str(folder / (name("video_get") + suffix))], env))
            assert video["data"]["video_id"] == env["A2V_VIDEO_ID"]
    assert proxy.proxy.judge.exchanges == 6
    assert proxy.proxy.judge.violations == [], proxy.texts()


@pytest.mark.slow
def test_reference_client_polling_as_the_spec_asks(start_proxy: StartProxy) -> None:
    """The reference client with its default polling (the spec's: from 1 s, backing off) finishes a task
    and downloads its video, and the proxy finds nothing to say about it."""
    with (
        kit_server() as audio,
        run_server(render_workers=1, audio_hosts=["127.0.0.1"]) as mock,
        start_proxy(mock.base_url) as proxy,
        A2VClient(proxy.base_url, "reference-client") as client,
    ):
        url = audio.add_file("hello.wav", speech_wav(1.0), "audio/wav")
        video_id = client.generate_video("eva_a0008", url, idempotency_key="ref-1")
        video = client.wait_for_video(video_id, timeout=60)
        assert video.video_url is not None
        assert video.video_url.startswith(proxy.base_url)
        client.download(video.video_url)
        client.download(video.video_url, range="bytes=0-99")
        assert video.mask_video_url is not None
        client.download(video.mask_video_url)
    assert proxy.proxy.judge.violations == [], proxy.texts()
