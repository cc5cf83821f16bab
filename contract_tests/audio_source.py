"""Where the audio an implementation downloads comes from: the kit's own server, or `--audio-base-url`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contract_tests.audio import FIXTURE_FILES, AudioSpec, decoded_duration, fixture_bytes, make_audio
from contract_tests.servers import free_port

if TYPE_CHECKING:
    from a2v_spec import Spec
    from contract_tests.servers import KitServer

__all__ = ["AudioSource"]


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
        return self.server.url(f"/audio/{name}")

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

    def unreachable(self) -> str:
        """A URL on the kit's own (public) host at a port nothing listens on: connections are refused."""
        host = self.server.public_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{free_port()}/speech.wav"
