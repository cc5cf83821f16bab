"""Reading a proxy recording into task timelines, and turning them into task plans."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import ErrorCode
from mock_server.files.local import LocalFileStore
from mock_server.scenario_values import Outcome, Plan, Replayed
from mock_server.tasks.replay import Replay, install_media, timelines

if TYPE_CHECKING:
    from pathlib import Path

BODY = {"model_id": "eva_a0008", "audio_url": "https://example.com/a.wav"}


def entry(
    seq: int, at: float, method: str, path: str, data: Any, body: Any = None, **extra: Any
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at,
        "duration": 0.0,
        "request": {"method": method, "path": path, "body": None if body is None else json.dumps(body)},
        "response": {"status": 200, "body": json.dumps({"code": 0, "message": "success", "data": data})},
        **extra,
    }


def task_entries(
    video_id: str, start: float, seen: list[tuple[float, dict[str, Any]]], body: Any = BODY
) -> list[Any]:
    out = [entry(1, start, "POST", "/v1/a2v/video.generate", {"video_id": video_id}, body)]
    for n, (t, data) in enumerate(seen, 2):
        out.append(entry(n, start + t, "GET", "/v1/a2v/video.get", {"video_id": video_id, **data}))
    return out


FAILED: list[tuple[float, dict[str, Any]]] = [
    (0.0, {"status": "pending"}),
    (1.0, {"status": "pending"}),
    (2.0, {"status": "in_progressing"}),
    (3.0, {"status": "in_progressing"}),
    (5.0, {"status": "error", "error": {"code": 10003, "message": "not audio"}}),
]


def test_status_changes_sit_halfway_between_the_polls_that_saw_them(tmp_path: Path) -> None:
    (found,) = timelines(task_entries("v1", 100.0, FAILED), tmp_path)
    assert (found.in_progress_at, found.ended_at) == (1.5, 4.0)
    assert (found.outcome, found.error_code, found.error_message) == ("error", 10003, "not audio")
    plan = Replay([found], speed=2.0).plan_for(dict(BODY), now=500.0, base_url="http://mock")
    assert plan is not None
    assert (plan.timings.pending_seconds, plan.timings.in_progress_seconds) == (0.75, 1.25)
    assert (plan.outcome, plan.error_code) == (Outcome.ERROR, ErrorCode.AUDIO_NOT_DECODABLE)
    assert (plan.accepted_at, plan.base_url) == (500.0, "http://mock")
    assert plan.replayed is not None
    assert plan.replayed.error_message == "not audio"
    assert Plan.from_dict(plan.to_dict(), created_at=0) == plan  # stored with the task, read back alike


def test_only_matching_bodies_replay_and_repeats_play_in_order(tmp_path: Path) -> None:
    finished: list[tuple[float, dict[str, Any]]] = [
        (0.0, {"status": "pending"}),
        (2.0, {"status": "finished", "duration": 1.0}),
    ]
    entries = task_entries("v1", 0.0, FAILED) + task_entries("v2", 50.0, finished)
    replay = Replay(timelines(entries, tmp_path))
    assert replay.plan_for({**BODY, "audio_url": "https://example.com/other.wav"}, 0.0) is None
    first, second, third = (replay.plan_for(dict(BODY), 0.0) for _ in range(3))
    assert first is not None
    assert second is not None
    assert third is not None
    assert first.outcome is Outcome.ERROR
    assert second.outcome is third.outcome is Outcome.FINISH  # the last recording is reused


def test_a_task_whose_end_was_not_recorded_is_left_out(tmp_path: Path) -> None:
    assert timelines(task_entries("v1", 0.0, FAILED[:3]), tmp_path) == []


def test_recorded_files_are_installed(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "v1.mp4").write_bytes(b"video")
    (files / "v1.mask.mp4").write_bytes(b"mask")
    seen = [(1.0, {"status": "finished", "duration": 1.2, "video_url": "http://x/files/videos/v1.mp4?E=1",
                   "mask_video_url": "http://x/files/videos/v1.mask.mp4?E=1"})]  # fmt: skip
    downloads = [
        {"seq": 9, "at": 9, "upstream_url": f"http://x/files/videos/{name}", "file": f"files/{name}"}
        for name in ("v1.mp4", "v1.mask.mp4")
    ]
    (found,) = timelines(task_entries("v1", 0.0, seen) + downloads, tmp_path)
    plan = Replay([found]).plan_for(dict(BODY), 0.0)
    assert plan is not None
    assert plan.replayed is not None
    store = LocalFileStore(tmp_path / "served")
    assert asyncio.run(install_media(plan.replayed, store, "t1")) == 1.2
    assert (tmp_path / "served" / "videos" / "t1.mp4").read_bytes() == b"video"
    assert (tmp_path / "served" / "videos" / "t1.mask.mp4").read_bytes() == b"mask"
    assert asyncio.run(install_media(Replayed(), store, "t2")) is None


def test_load_names_the_bad_line(tmp_path: Path) -> None:
    (tmp_path / "exchanges.jsonl").write_text('{"seq": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"exchanges.jsonl:2 is not a JSON line"):
        Replay.load(tmp_path)
    with pytest.raises(ValueError, match="must be above 0"):
        Replay([], speed=0)
