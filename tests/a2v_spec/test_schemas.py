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


@pytest.mark.parametrize(
    ("video", "valid"),
    [
        ({"video_id": ID, "status": "pending", "progress": 0}, True),
        ({"video_id": ID, "status": "pending", "progress": 5}, False),
        ({"video_id": ID, "status": "pending", "video_url": "https://x.test/v.mp4"}, False),
        ({"video_id": ID, "status": "in_progressing", "progress": 40}, True),
        ({"video_id": ID, "status": "in_progressing", "mask_video_url": "https://x.test/m.mp4"}, False),
        ({"video_id": ID, "status": "finished", "video_url": "https://x.test/v.mp4", "progress": 100}, True),
        ({"video_id": ID, "status": "finished"}, False),
        ({"video_id": ID, "status": "finished", "video_url": "https://x.test/v.mp4", "progress": 99}, False),
        ({"video_id": ID, "status": "error", "error": {"code": 10001, "message": "404"}}, True),
        ({"video_id": ID, "status": "error"}, False),
        ({"video_id": ID, "status": "error", "error": {"code": 1009, "message": "not a task code"}}, False),
        ({"video_id": ID, "status": "done"}, False),
        ({"video_id": "not-hex", "status": "pending"}, False),
    ],
)
def test_video_schema_encodes_the_status_rules(spec: Spec, video: dict[str, Any], valid: bool) -> None:
    assert (spec.schemas.errors(VIDEO, video) == []) is valid


def test_check_names_where_the_value_is_wrong(spec: Spec) -> None:
    page = {"items": [], "page": 0, "page_size": 20, "total": 0}
    with pytest.raises(SchemaError) as caught:
        spec.schemas.check("/components/schemas/VideoPage", page)
    assert caught.value.path == "page"


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
