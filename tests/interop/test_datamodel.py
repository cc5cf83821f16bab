"""datamodel-code-generator's pydantic v2 models: the flow against a live mock with httpx, every answer
parsed into its generated model (the Video union by its `status` discriminator, errors into the model
of their status with the typed code), and `HttpUrl` keeping its pattern and length (with `format: uri`
it became pydantic's `AnyUrl` and lost both)."""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

import httpx
import pydantic
import pytest

from tests.interop.generators import DATAMODEL_MODULE

if TYPE_CHECKING:
    from tests.interop.conftest import Live
    from tests.interop.generators import Generation

BASE = "http://127.0.0.1:9/a.wav"


def _models() -> Any:
    return importlib.import_module(DATAMODEL_MODULE)


def test_generates_without_warnings(datamodel: Generation) -> None:
    assert datamodel.warnings == [], datamodel.output


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (BASE, True),
        ("HTTPS://127.0.0.1:9/a.wav?x=1#y", True),
        (BASE + "\n", False),
        (BASE.replace("a.wav", "a b.wav"), False),
        ("ftp://127.0.0.1/a.wav", False),
        ("https:///a.wav", False),
        ("http://127.0.0.1/" + "a" * 2032, False),
    ],
)
def test_http_url_keeps_its_pattern_and_length(datamodel: Generation, value: str, valid: bool) -> None:
    models = _models()
    if valid:
        assert models.GenerateRequest(model_id="eva_a0008", audio_url=value).audio_url.root == value
    else:
        with pytest.raises(pydantic.ValidationError):
            models.GenerateRequest(model_id="eva_a0008", audio_url=value)


def _poll(client: httpx.Client, video_id: str) -> list[Any]:
    models = _models()
    seen: list[Any] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = client.get("/v1/a2v/video.get", params={"video_id": video_id})
        video = models.VideoResponse.model_validate_json(answer.content).data.root
        if not seen or type(seen[-1]) is not type(video):
            seen.append(video)
        if isinstance(video, (models.VideoFinished, models.VideoFailed)):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"task {video_id} did not end within 60 s; saw {seen}")


def test_the_flow_parses_every_answer(datamodel: Generation, live: Live) -> None:
    models = _models()
    headers = {"Authorization": "Bearer datamodel-flow"}
    with httpx.Client(base_url=live.base_url, headers=headers, timeout=30) as client:
        pong = models.PongResponse.model_validate_json(client.get("/v1/ping").content)
        assert pong.data.pong.value is True  # `pong: {enum: [true]}` is an enum of one boolean
        characters = models.CharacterListResponse.model_validate_json(
            client.get("/v1/a2v/character.list").content
        )
        assert "eva_a0008" in [character.model_id.root for character in characters.data]

        request = models.GenerateRequest(model_id="eva_a0008", audio_url=live.audio_url)
        body = request.model_dump(mode="json", exclude_none=True)
        accepted = client.post("/v1/a2v/video.generate", json=body, headers={"Prefer": "duration=2"})
        video_id = models.GenerateResponse.model_validate_json(accepted.content).data.video_id.root
        seen = _poll(client, video_id)
        assert [type(v).__name__ for v in seen] == ["VideoPending", "VideoInProgress", "VideoFinished"]

        doomed = client.post(
            "/v1/a2v/video.generate", json=body, headers={"Prefer": "outcome=error, error_code=10003"}
        )
        failed = _poll(client, models.GenerateResponse.model_validate_json(doomed.content).data.video_id.root)
        assert failed[-1].error.code is models.TaskErrorCode.AUDIO_NOT_DECODABLE

        refusals = [
            (client.post("/v1/a2v/video.generate", json={**body, "model_id": "eva_x9999"}), models.Error404),
            # The model refuses an ftp URL (see above); a buggy caller's raw body reaches the service.
            (
                client.post("/v1/a2v/video.generate", json={**body, "audio_url": "ftp://127.0.0.1/a.wav"}),
                models.Error400,
            ),
            (client.get("/v1/a2v/video.get", params={"video_id": "0" * 32}), models.Error404),
            (httpx.get(f"{live.base_url}/v1/a2v/character.list"), models.Error401),
        ]
        codes = []
        for answer, model in refusals:
            error = model.model_validate_json(answer.content)
            assert error.data is None
            codes.append((answer.status_code, error.code))
    assert codes == [
        (404, models.ErrorCode404.MODEL_NOT_FOUND),
        (400, models.ErrorCode400.INVALID_PARAMETER),
        (404, models.ErrorCode404.VIDEO_NOT_FOUND),
        (401, models.ErrorCode401.UNAUTHORIZED),
    ]
