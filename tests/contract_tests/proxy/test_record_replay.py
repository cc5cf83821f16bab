"""Record the reference client through the proxy against a mock with a slow, failing scenario; replay the
recording with `a2v-mock --replay`: the same client flow sees the same statuses, outcome, error code and
durations (within 10 %), and the recorded video files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from a2v_testkit import speech_wav
from contract_tests.client import A2VClient
from contract_tests.servers import kit_server
from mock_server.config import Settings
from mock_server.runtime.cli import main as mock_main
from mock_server.testing import run_server

if TYPE_CHECKING:
    from pathlib import Path

    from contract_tests.models import Video
    from tests.contract_tests.proxy.conftest import StartProxy

#: Status changes at about 1.75 s and 6.4 s: mid-way between the client's polls (0, 1, 2.5, 4.75, 8.1 s),
#: so scheduling jitter on a loaded machine (up to ~0.7 s) moves no change to another poll, and the
#: end is seen at 8.1 s in both runs.
SLOW = {"pending_seconds": 1.75, "in_progress_seconds": 4.6}


@dataclass
class Flow:
    """What the client saw of one task: statuses in order, how it ended, after how long."""

    statuses: list[str] = field(default_factory=list)
    outcome: str = ""
    error_code: int | None = None
    elapsed: float = 0.0
    video: bytes = b""


def client_flow(base_url: str, audio_url: str) -> Flow:
    """The reference client as an app would use it: generate, poll from 1 s backing off, download."""
    flow = Flow()

    def seen(video: Video) -> None:
        if not flow.statuses or flow.statuses[-1] != video.status:
            flow.statuses.append(video.status)

    with A2VClient(base_url, "replayed-app") as client:
        video_id = client.generate_video("eva_a0008", audio_url)
        started = time.monotonic()
        final = client.wait_for_video(
            video_id, timeout=60, poll_interval=1.0, max_interval=10, on_progress=seen
        )
        flow.elapsed = time.monotonic() - started
        flow.outcome = final.status
        flow.error_code = final.error.code if final.error else None
        if final.video_url and final.mask_video_url:
            flow.video = client.download(final.video_url) + client.download(final.mask_video_url)
    return flow


@pytest.mark.slow
def test_recorded_flows_replay_alike(start_proxy: StartProxy, tmp_path: Path) -> None:
    recording = tmp_path / "recording"
    with kit_server() as audio:
        failing = audio.add_file("fails.wav", speech_wav(0.6, seed=1), "audio/wav")
        finishing = audio.add_file("speaks.wav", speech_wav(0.8, seed=2), "audio/wav")
        scenario: dict[str, Any] = {
            "timings": SLOW,
            "next_tasks": [{"outcome": "error", "error_code": 10003}],
        }
        with (
            run_server(render_workers=1, audio_hosts=["127.0.0.1"], **scenario) as mock,
            start_proxy(mock.base_url, record_dir=recording, record_files=True) as proxy,
        ):
            recorded = [client_flow(proxy.base_url, failing), client_flow(proxy.base_url, finishing)]
        assert proxy.proxy.judge.violations == [], proxy.texts()
        assert [f.outcome for f in recorded] == ["error", "finished"]
        assert recorded[0].statuses == ["pending", "in_progressing", "error"]
        assert len(list((recording / "files").glob("*.mp4"))) == 2  # the video and its mask

        settings = Settings(render_workers=1, audio_hosts=["127.0.0.1"], replay_dir=recording)
        with run_server(settings) as replaying:
            replayed = [client_flow(replaying.base_url, failing), client_flow(replaying.base_url, finishing)]
            unmatched = client_flow(
                replaying.base_url, audio.add_file("other.wav", speech_wav(0.5), "audio/wav")
            )
    for before, after in zip(recorded, replayed, strict=True):
        assert after.statuses == before.statuses
        assert (after.outcome, after.error_code) == (before.outcome, before.error_code)
        assert after.elapsed == pytest.approx(before.elapsed, rel=0.10)
    assert replayed[0].error_code == 10003
    assert replayed[1].video == recorded[1].video  # the recorded file, not a render of its own
    # Unmatched requests behave as the mock normally does: no slow scenario there (the client polls at
    # 1 s, x1.5: the normal task is seen finished polls earlier than the recorded slow one).
    assert unmatched.outcome == "finished"
    assert unmatched.elapsed < recorded[1].elapsed


def test_replay_needs_a_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --port 0: the refusal must not depend on the default port being free on the machine
    assert mock_main(["--replay", str(tmp_path), "--data-dir", str(tmp_path / "data"), "--port", "0"]) == 2
    assert "no exchanges.jsonl" in capsys.readouterr().err
