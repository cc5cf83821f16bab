"""Validation against the spec's schemas: the rules of the task lifecycle hold in the schema itself."""

from __future__ import annotations

from typing import Any

import pytest

from a2v_spec import SchemaError, Spec, load_spec

VIDEO = "/components/schemas/Video"
ID = "7895cd9a63564367b0c7b06e6837b5c6"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


COMMON = {"model_id": "eva_a0008", "audio_url": "https://x.test/a.wav", "created_at": 1, "updated_at": 2}
FILES = {
    "video_url": "https://x.test/v.mp4",
    "mask_video_url": "https://x.test/m.mp4",
    "url_expires_at": 3600,
    "duration": 1.5,
}


def _video(status: str, **fields: Any) -> dict[str, Any]:
    """A video with every field its status requires, then `fields` (None removes one)."""
    base: dict[str, Any] = {"video_id": ID, "status": status, **COMMON}
    by_status: dict[str, dict[str, Any]] = {
        "pending": {"progress": 0},
        "in_progressing": {"progress": 40},
        "finished": {"progress": 100, **FILES},
    }
    base |= by_status.get(status, {"progress": 5, "error": {"code": 10001, "message": "404"}})
    base |= fields
    return {key: value for key, value in base.items() if value is not None}


@pytest.mark.parametrize(
    ("video", "valid"),
    [
        (_video("pending"), True),
        (_video("pending", progress=5), False),
        (_video("pending", video_url="https://x.test/v.mp4"), False),
        (_video("pending", duration=1.0), False),
        (_video("in_progressing"), True),
        (_video("in_progressing", progress=0), False),
        (_video("in_progressing", mask_video_url="https://x.test/m.mp4"), False),
        (_video("finished"), True),
        (_video("finished", video_url=None), False),
        (_video("finished", progress=99), False),
        (_video("finished", error={"code": 10001, "message": "404"}), False),
        (_video("error"), True),
        (_video("error", error={"code": 1009, "message": "not a task code"}), False),
        (_video("error", error={"code": 10001}), False),
        (_video("error", video_url="https://x.test/v.mp4"), False),
        (_video("done"), False),
        ({"video_id": ID}, False),
        (_video("pending", video_id=None), False),
        (_video("pending", video_id="not-hex"), False),
        # Optional fields may be left out (what the upstream documents is all a video must have) ...
        ({"video_id": ID, "status": "pending"}, True),
        ({"video_id": ID, "status": "in_progressing"}, True),
        ({"video_id": ID, "status": "finished", "video_url": "https://x.test/v.mp4"}, True),
        ({"video_id": ID, "status": "error"}, True),
        (_video("finished", mask_video_url=None, url_expires_at=None, duration=None), True),
        (_video("pending", model_id=None, audio_url=None, created_at=None, updated_at=None), True),
        # ... but when present they keep their types and rules.
        (_video("pending", model_id=5), False),
        (_video("pending", model_id="has space"), False),
        (_video("pending", created_at="yesterday"), False),
        (_video("in_progressing", updated_at=1.5), False),
        (_video("in_progressing", progress="40"), False),
        (_video("finished", mask_video_url=3), False),
        (_video("finished", url_expires_at="soon"), False),
        (_video("finished", duration=-1), False),
        (_video("finished", duration="1.5"), False),
        (_video("error", progress=100), False),
        (_video("error", error="404"), False),
    ],
)
def test_video_schema_encodes_the_status_rules(spec: Spec, video: dict[str, Any], valid: bool) -> None:
    assert (spec.schemas.errors(VIDEO, video) == []) is valid


def test_check_names_where_the_value_is_wrong(spec: Spec) -> None:
    page = {"code": 0, "message": "success", "data": [_video("pending"), _video("finished", duration="1")]}
    with pytest.raises(SchemaError) as caught:
        spec.schemas.check("/components/schemas/VideoPageResponse", page)
    assert caught.value.path.startswith("data[1]")


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://example.com/audio", True),
        ("http://127.0.0.1:9000/a.wav", True),
        ("ftp://example.com/a.wav", False),
        ("file:///etc/passwd", False),
        ("https://", False),
        ("example.com/a.wav", False),
    ],
)
def test_audio_url_must_be_http_or_https(spec: Spec, url: str, valid: bool) -> None:
    body = {"model_id": "eva_a0008", "audio_url": url}
    assert (spec.schemas.errors("/components/schemas/GenerateRequest", body) == []) is valid
