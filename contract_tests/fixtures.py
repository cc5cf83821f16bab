"""Shared building blocks of the checks: where audio comes from and one recorded task run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contract_tests.audio import FIXTURE_FILES, AudioSpec, decoded_duration, fixture_bytes, make_audio
from contract_tests.errors import A2VError, A2VTimeout
from contract_tests.models import STATUS_ORDER, Video
from contract_tests.servers import free_port
from contract_tests.verdict import ContractViolation

if TYPE_CHECKING:
    from a2v_spec import Spec
    from contract_tests.client import A2VClient
    from contract_tests.servers import KitServer

__all__ = ["AudioSource", "TaskRun", "run_task"]


@dataclass
class AudioSource:
    """Audio URLs the implementation can download: from the kit's server, or from `--audio-base-url`."""

    server: KitServer
    spec: Spec
    remote_base: str | None = None
    _durations: dict[str, float] = field(default_factory=dict)

    @property
    def can_generate(self) -> bool:
        """Only the local server can serve audio made on the fly (hypothesis-chosen formats, rates, ...)."""
        return self.remote_base is None

    def fixture(self, name: str) -> str:
        """URL of one of `FIXTURE_FILES` (served locally, or expected at `--audio-base-url`)."""
        if self.remote_base is not None:
            return f"{self.remote_base.rstrip('/')}/{name}"
        if name not in self.server.files:
            data = fixture_bytes(name, max_audio_seconds=self.spec.limits.max_audio_seconds)
            kind = "audio/wav" if name.endswith(".wav") else FIXTURE_FILES[name].content_type  # type: ignore[union-attr]
            self.server.add_file(name, data, kind)
        return f"{self.server.base_url}/audio/{name}"

    def fixture_seconds(self, name: str) -> float:
        """Decoded duration of a fixture (made locally even when served remotely: they are deterministic)."""
        if name not in self._durations:
            data = fixture_bytes(name, max_audio_seconds=self.spec.limits.max_audio_seconds)
            self._durations[name] = decoded_duration(data)
        return self._durations[name]

    def generated(self, audio: AudioSpec) -> tuple[str, float]:
        """URL and decoded duration of audio made for `audio` (local server only)."""
        data = make_audio(audio)
        url = self.server.add_file(audio.filename, data, audio.content_type)
        return url, decoded_duration(data)

    def missing(self) -> str:
        if self.remote_base is not None:
            return f"{self.remote_base.rstrip('/')}/a2v-contract-missing-{int(time.time())}.wav"
        return self.server.missing_url()

    @staticmethod
    def unreachable() -> str:
        return f"http://127.0.0.1:{free_port()}/speech.wav"


@dataclass
class TaskRun:
    """Everything observed of one task, from `video.generate` to its end."""

    video_id: str
    audio_seconds: float | None
    history: list[Video] = field(default_factory=list)
    final: Video | None = None
    elapsed: float = 0.0


def run_task(
    client: A2VClient,
    model_id: str,
    audio_url: str,
    *,
    timeout: float,
    audio_seconds: float | None = None,
    callback_url: str | None = None,
) -> TaskRun:
    """Generate and poll to the end, checking forward motion and progress on every observation.

    Raises ContractViolation for A2V-GENERATE-READABLE, -LIFECYCLE-FORWARD, -PROGRESS and -FINISHES.
    """
    started = time.monotonic()
    try:
        video_id = client.generate_video(model_id, audio_url, callback_url=callback_url)
    except A2VError as err:
        raise ContractViolation(
            "A2V-LIFECYCLE-FINISHES",
            f"video.generate refused a valid request: {err}",
            expected="HTTP 200 with a video_id",
            response=err.response,
        ) from err
    run = TaskRun(video_id=video_id, audio_seconds=audio_seconds)

    def observe(video: Video) -> None:
        if run.history:
            prev = run.history[-1]
            if prev.is_terminal and video.status != prev.status:
                raise ContractViolation(
                    "A2V-LIFECYCLE-FORWARD",
                    f"video {video_id} left terminal status {prev.status!r} for {video.status!r}",
                    expected=f"status stays {prev.status!r}",
                    response=client.last_response,
                )
            if STATUS_ORDER.get(video.status, 0) < STATUS_ORDER.get(prev.status, 0):
                raise ContractViolation(
                    "A2V-LIFECYCLE-FORWARD",
                    f"video {video_id} moved backwards from {prev.status!r} to {video.status!r}",
                    expected="pending -> in_progressing -> finished | error",
                    response=client.last_response,
                )
            if (
                isinstance(video.progress, int)
                and isinstance(prev.progress, int)
                and video.progress < prev.progress
            ):
                raise ContractViolation(
                    "A2V-LIFECYCLE-PROGRESS",
                    f"video {video_id} progress decreased from {prev.progress} to {video.progress}",
                    expected=f"progress >= {prev.progress}",
                    response=client.last_response,
                )
        run.history.append(video)

    try:
        first = client.get_video(video_id)
    except A2VError as err:
        raise ContractViolation(
            "A2V-GENERATE-READABLE",
            f"video.get for the id video.generate just returned failed: {err}",
            expected="HTTP 200 with the new task",
            response=err.response,
        ) from err
    observe(first)
    try:
        run.final = client.wait_for_video(
            video_id, timeout=timeout, poll_interval=0.2, max_interval=2.0, on_progress=observe
        )
    except A2VTimeout as err:
        raise ContractViolation(
            "A2V-LIFECYCLE-FINISHES",
            f"video {video_id} did not end within {timeout:g} s (last status {err.last_status!r})",
            expected=f"status finished or error within --timeout {timeout:g} s",
            response=client.last_response,
        ) from err
    run.elapsed = time.monotonic() - started
    return run
