"""What the kit's client notices on every exchange: schema at first sight, the video asked for, time."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import load_spec
from contract_tests.coverage import Coverage
from contract_tests.evidence import Evidence, recording
from contract_tests.report import KitReport
from contract_tests.requirement_ids import Req
from contract_tests.watch import Watch, answer_in_time

if TYPE_CHECKING:
    from pathlib import Path

    from contract_tests.violations import Violation

VIDEO_ID = "a" * 32
#: What every Video carries whatever its status.
BASE = {"model_id": "eva_a0008", "audio_url": "http://127.0.0.1:9/a.wav", "created_at": 1, "updated_at": 1}


def _get_video(data: dict[str, Any], asked: str = VIDEO_ID) -> httpx.Response:
    request = httpx.Request(
        "GET",
        f"http://svc/v1/a2v/video.get?video_id={asked}",
        headers={"Authorization": "Bearer secret"},
    )
    return httpx.Response(200, json={"code": 0, "message": "success", "data": data}, request=request)


def _watch() -> tuple[Watch, list[Violation]]:
    found: list[Violation] = []
    return Watch(load_spec(), found.append), found


@pytest.mark.parametrize(
    ("data", "asked", "expected"),
    [
        ({**BASE, "video_id": VIDEO_ID, "status": "pending", "progress": 0}, VIDEO_ID, []),
        (
            {**BASE, "video_id": VIDEO_ID, "status": "done", "progress": 50},
            VIDEO_ID,
            [(Req.FUZZ_RESPONSE_SCHEMA, "data.status")],
        ),
        (
            {**BASE, "video_id": "b" * 32, "status": "pending", "progress": 0},
            VIDEO_ID,
            [(Req.GET_SAME_VIDEO, "answered video 'bbbb")],
        ),
    ],
    ids=["conforms", "status-outside-the-enum", "another-video"],
)
def test_every_answer_is_judged_at_first_sight(
    data: dict[str, Any], asked: str, expected: list[tuple[str, str]]
) -> None:
    watch, found = _watch()
    evidence = Evidence()
    with recording(evidence):
        watch.on_response(_get_video(data, asked))
        watch.on_response(_get_video(data, asked))  # the same fault is reported once
    assert [v.requirement for v in found] == [rid for rid, _ in expected]
    for violation, (_, says) in zip(found, expected, strict=True):
        assert says in violation.message
        assert "$A2V_TOKEN" in violation.curl
        assert "secret" not in violation.curl
    assert evidence.count(Req.ANSWER_IN_TIME) == 2
    if not expected:
        assert evidence.count(Req.FUZZ_RESPONSE_SCHEMA) == 2
        assert evidence.count(Req.GET_SAME_VIDEO) == 2


def test_a_timeout_is_reported_with_the_time_waited() -> None:
    watch, _ = _watch()
    request = httpx.Request("POST", "http://svc/v1/a2v/video.generate")
    watch.on_request(request)
    violation = answer_in_time(httpx.ReadTimeout("timed out", request=request))
    assert violation.requirement == Req.ANSWER_IN_TIME
    assert "POST /v1/a2v/video.generate: no answer after 0.0 s (ReadTimeout)" in violation.detail


def test_coverage_lists_what_was_seen_and_never_seen(tmp_path: Path) -> None:
    spec = load_spec()
    coverage = Coverage.of(spec)
    watch = Watch(spec, lambda v: None, coverage)
    watch.on_response(_get_video({"video_id": VIDEO_ID, "status": "in_progressing", "progress": 5}))
    failed = {
        "video_id": VIDEO_ID,
        "status": "error",
        "progress": 5,
        "error": {"code": 10001, "message": "x"},
    }
    watch.on_response(_get_video(failed))
    data = coverage.as_dict()
    assert data["operations"]["seen"] == ["getVideo"]
    assert "generateVideo" in data["operations"]["never_seen"]
    assert data["task statuses"] == {
        "seen": ["error", "in_progressing"],
        "never_seen": ["finished", "pending"],
    }
    assert "10001" in data["catalog codes"]["seen"]
    assert "1009" in data["catalog codes"]["never_seen"]
    assert "Retry-After" in data["headers"]["never_seen"]
    assert any(
        line.startswith("  task statuses: 2 of 4 seen; never seen: finished, pending")
        for line in coverage.summary()
    )
    report = KitReport(coverage=coverage)
    path = tmp_path / "junit.xml"
    report.write_junit(path)
    props = {p.get("name"): p.get("value") for p in ET.parse(path).getroot().iter("property")}
    assert props["coverage.task_statuses.never_seen"] == "finished,pending"
    assert props["coverage.optional_fields.getVideo.seen"] == "data.error,data.progress"


def _list_videos(data: list[dict[str, Any]]) -> httpx.Response:
    request = httpx.Request("GET", "http://svc/v1/a2v/video.list", headers={"Authorization": "Bearer k"})
    return httpx.Response(200, json={"code": 0, "message": "success", "data": data}, request=request)


def test_coverage_lists_the_optional_fields_never_sent() -> None:
    """Derived from the spec (what each response schema does not require), per operation; a service
    sending only what the upstream documents leaves every one of them never seen."""
    spec = load_spec()
    coverage = Coverage.of(spec)
    watch = Watch(spec, lambda v: None, coverage)
    upstream = [
        {"video_id": VIDEO_ID, "status": "in_progressing"},
        {"video_id": "b" * 32, "status": "finished", "video_url": "https://cdn.test/v.mp4"},
    ]
    watch.on_response(_list_videos(upstream))
    watch.on_response(_get_video(upstream[1]))
    fields = coverage.as_dict()["optional_fields"]
    assert set(fields) == {"generateVideo", "getVideo", "listVideos"}
    assert fields["getVideo"]["seen"] == fields["listVideos"]["seen"] == []
    assert fields["generateVideo"] == {"seen": [], "never_seen": ["data.status"]}
    never = set(fields["getVideo"]["never_seen"])
    assert never >= {"data.model_id", "data.progress", "data.mask_video_url", "data.error", "data.duration"}
    assert not never & {"data.video_id", "data.status", "data.video_url", "data.error.code"}  # required
    assert {f.replace("[]", "", 1) for f in fields["listVideos"]["never_seen"]} == never

    watch.on_response(
        _list_videos([{**upstream[1], "mask_video_url": "https://cdn.test/m.mp4", "progress": 100}])
    )
    assert fields != (now := coverage.as_dict()["optional_fields"])
    assert now["listVideos"]["seen"] == ["data[].mask_video_url", "data[].progress"]
    assert now["getVideo"]["seen"] == []  # each operation its own
    assert any(
        line.startswith("  optional fields of listVideos: 2 of 10 seen") for line in coverage.summary()
    )


def test_a_missing_field_is_named_inside_the_branch_of_its_status() -> None:
    watch, found = _watch()
    data = {**BASE, "video_id": VIDEO_ID, "status": "finished", "progress": 100}
    watch.on_response(_get_video(data))
    assert [v.message for v in found] == ["getVideo HTTP 200: field data: 'video_url' is a required property"]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("model_id", 5, "field data.model_id: 5 is not of type 'string'"),
        ("progress", 7, "field data.progress: 7 is not one of [0]"),
        ("created_at", "yesterday", "field data.created_at: 'yesterday' is not of type 'integer'"),
    ],
)
def test_an_optional_field_is_judged_when_present(field: str, value: Any, says: str) -> None:
    """Absent, an optional field is no fault (the upstream's own answers leave it out); present, it
    has its type and its status's rule."""
    watch, found = _watch()
    watch.on_response(_get_video({"video_id": VIDEO_ID, "status": "pending"}))
    assert found == []
    watch.on_response(_get_video({"video_id": VIDEO_ID, "status": "pending", field: value}))
    assert [v.message for v in found] == [f"getVideo HTTP 200: {says}"]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"code": 0, "message": "success", "data": None}, []),
        ({"code": "0", "message": "success", "data": {}}, [("code", "'0' is a string, not an integer")]),
        ({"code": True, "message": "", "data": None}, [("code", "True is a boolean, not an integer")]),
        ({"code": 0, "data": None}, [("message", "is missing")]),
        ({"code": 0, "message": None, "data": 1}, [("message", "None is null, not a string")]),
        ({"code": 0, "message": "ok"}, [("data", "is missing (null when there is none)")]),
        ([], [("(body)", "is an array, not an object")]),
    ],
)
def test_envelope_problems_name_the_field(body: object, problems: list[tuple[str, str]]) -> None:
    from contract_tests.watch import envelope_problems

    assert envelope_problems(body) == problems
