"""partner.inprocess.A2VRespx used directly, without the pytest plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from a2v_spec import ErrorCode, Status
from contract_tests.client import A2VClient
from partner.audio import AudioHost, make_wav
from partner.inprocess import A2VRespx, default_base_url

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def standalone() -> Iterator[A2VRespx]:
    with A2VRespx("http://a2v.partner.test:9000", render_workers=1, prewarm=False) as mock:
        yield mock


def test_the_default_base_url_is_the_specs_first_server() -> None:
    assert default_base_url() == "https://api.a2v.example"


@pytest.mark.parametrize("base_url", ["ftp://a2v.example", "https://a2v.example/api", "not a url"])
def test_a_base_url_with_a_path_or_another_scheme_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url must be"):
        A2VRespx(base_url)


def test_loopback_audio_passes_through_to_a_real_server(standalone: A2VRespx) -> None:
    host = AudioHost()
    try:
        audio_url = host.add("real.wav", make_wav(0.5))
        with A2VClient(standalone.base_url, standalone.token) as client:
            video = client.wait_for_video(client.generate_video("eva_a0008", audio_url), poll_interval=0.1)
    finally:
        host.close()

    assert video.status is Status.FINISHED
    assert video.duration == pytest.approx(0.5, abs=0.04)  # within one frame at 25 fps


def test_non_audio_ends_the_task_as_not_decodable(standalone: A2VRespx) -> None:
    audio_url = standalone.add_audio("https://cdn.partner.test/notes.txt", b"just text", "text/plain")

    with A2VClient(standalone.base_url, standalone.token) as client:
        video = client.wait_for_video(client.generate_video("eva_a0008", audio_url), poll_interval=0.1)

    assert video.error is not None
    assert video.error.code == ErrorCode.AUDIO_NOT_DECODABLE


def test_new_token_is_a_new_tenant(standalone: A2VRespx) -> None:
    first = standalone.token
    with standalone.client() as client:
        made = client.post(
            "/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": standalone.add_audio()}
        )
    video_id = made.json()["data"]["video_id"]  # the first tenant has a task the second must not see
    assert video_id in [task["video_id"] for task in standalone.admin.tasks()]

    second = standalone.new_token()

    assert second != first
    assert standalone.admin.tasks() == []
    listing = httpx.get(f"{standalone.base_url}/v1/a2v/video.list", headers=standalone.headers)
    assert listing.json()["data"] == []
