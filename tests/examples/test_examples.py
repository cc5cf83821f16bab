"""Every example tab of the reference (5 languages x 3 operations) runs against a live mock.

Each example reads `A2V_BASE_URL` and `A2V_TOKEN` (and its operation's inputs) from the environment,
prints the response body and exits non-zero on a non-zero `code`; these tests check all three.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from contract_tests.client import A2VClient
from tests.examples.conftest import EXAMPLES

if TYPE_CHECKING:
    from pathlib import Path

    from partner.live import A2VServer, LiveMock
    from tests.examples.conftest import Result, Runner

LANGUAGES = ("curl", "python", "golang", "javascript", "java")
FILES = {
    "character.list": {
        "curl": "curl/character-list.sh",
        "python": "python/character_list.py",
        "golang": "golang/character_list.go",
        "javascript": "javascript/character_list.js",
        "java": "java/CharacterList.java",
    },
    "video.generate": {
        "curl": "curl/video-generate.sh",
        "python": "python/video_generate.py",
        "golang": "golang/video_generate.go",
        "javascript": "javascript/video_generate.js",
        "java": "java/VideoGenerate.java",
    },
    "video.get": {
        "curl": "curl/video-get.sh",
        "python": "python/video_get.py",
        "golang": "golang/video_get.go",
        "javascript": "javascript/video_get.js",
        "java": "java/VideoGet.java",
    },
}
VIDEO_ID = re.compile(r"^[0-9a-f]{32}$")
STATUSES = {"pending", "in_progressing", "finished", "error"}


def example(operation: str, language: str) -> Path:
    return EXAMPLES / FILES[operation][language]


def envelope(result: Result) -> dict[str, Any]:
    """The JSON body the example printed (its whole stdout)."""
    try:
        body = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the example printed no JSON body:\nstdout: {result.stdout!r}\nstderr: {result.stderr}")
    assert isinstance(body, dict), body
    return body


@pytest.fixture(scope="module")
def server(example_mock: LiveMock) -> A2VServer:
    """One tenant for the module (no reset between examples: they share the server)."""
    return example_mock.for_test()


@pytest.fixture(scope="module")
def env(server: A2VServer) -> dict[str, str]:
    return {"A2V_BASE_URL": server.base_url, "A2V_TOKEN": server.token}


@pytest.fixture(scope="module")
def finished_video(server: A2VServer) -> str:
    """A video of this tenant that has finished, made with the reference client."""
    with A2VClient(server.base_url, server.token) as client:
        video_id = client.generate_video("eva_a0008", server.add_audio())
        video = client.wait_for_video(video_id, timeout=60)
    assert video.status == "finished", video
    return video_id


def test_every_tab_has_its_file() -> None:
    on_disk = {path.relative_to(EXAMPLES).as_posix() for path in EXAMPLES.rglob("*") if path.is_file()}
    documented = {name for tabs in FILES.values() for name in tabs.values()}
    assert documented <= on_disk
    assert set(FILES["video.get"]) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_character_list(example_runner: Runner, env: dict[str, str], language: str) -> None:
    result = example_runner.run(language, example("character.list", language), env)

    body = envelope(result)
    assert result.returncode == 0, result.stderr
    assert body["code"] == 0
    assert "eva_a0008" in [character["model_id"] for character in body["data"]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_video_generate(
    example_runner: Runner, server: A2VServer, env: dict[str, str], language: str
) -> None:
    audio_url = server.add_audio(f"{language}.wav")

    result = example_runner.run(
        language,
        example("video.generate", language),
        {**env, "A2V_MODEL_ID": "eva_a0008", "A2V_AUDIO_URL": audio_url},
    )

    body = envelope(result)
    assert result.returncode == 0, result.stderr
    assert body["code"] == 0
    assert VIDEO_ID.match(body["data"]["video_id"])
    with A2VClient(server.base_url, server.token) as client:
        assert client.get_video(body["data"]["video_id"]).audio_url == audio_url


@pytest.mark.parametrize("language", LANGUAGES)
def test_video_get(example_runner: Runner, env: dict[str, str], finished_video: str, language: str) -> None:
    result = example_runner.run(
        language, example("video.get", language), {**env, "A2V_VIDEO_ID": finished_video}
    )

    body = envelope(result)
    assert result.returncode == 0, result.stderr
    assert body["code"] == 0
    assert body["data"]["video_id"] == finished_video
    assert body["data"]["status"] in STATUSES
    assert body["data"]["status"] == "finished"
    assert body["data"]["video_url"].startswith(env["A2V_BASE_URL"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_non_zero_code_exits_non_zero(example_runner: Runner, env: dict[str, str], language: str) -> None:
    unknown = "0" * 32

    result = example_runner.run(language, example("video.get", language), {**env, "A2V_VIDEO_ID": unknown})

    body = envelope(result)
    assert body["code"] == 20002
    assert result.returncode != 0
