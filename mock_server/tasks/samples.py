"""Built-in speech samples served at `/samples/<name>`: audio any developer can submit, offline.

`video.generate` downloads its `audio_url`, so a first try needs audio at a URL the mock can reach. The
samples are the project's synthetic speech (`a2v_testkit.speech.speech_wav`, shipped in the package),
made on first use and kept in memory: the same name always gives the same bytes, nothing is downloaded,
nothing binary is shipped.

Example:
    >>> from mock_server.tasks.samples import SAMPLES, Samples
    >>> Samples().bytes_of("hello.wav")[:4]
    b'RIFF'
    >>> sorted(SAMPLES)
    ['counting.wav', 'hello.wav', 'short.wav']
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

__all__ = ["SAMPLES", "Sample", "Samples", "UnknownSample"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One built-in sample: its length, the seed of its synthetic speech and a one-line description."""

    name: str
    seconds: float
    seed: int
    description: str
    rate: int = 16_000


#: The built-in samples by file name (all mono 16-bit PCM WAV).
SAMPLES: Final[dict[str, Sample]] = {
    s.name: s
    for s in (
        Sample("hello.wav", 2.5, 1, "a short greeting: 2.5 s of speech-like sound"),
        Sample("short.wav", 1.0, 2, "one second, the quickest render"),
        Sample("counting.wav", 8.0, 3, "eight seconds of words and pauses"),
    )
}


class UnknownSample(KeyError):
    """No built-in sample has that name; the message lists the names that exist."""

    def __str__(self) -> str:
        return str(self.args[0])


class Samples:
    """Makes each sample once (thread-safe) and keeps its bytes; a few hundred KiB in all."""

    def __init__(self) -> None:
        self._made: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def bytes_of(self, name: str) -> bytes:
        sample = SAMPLES.get(name)
        if sample is None:
            known = ", ".join(sorted(SAMPLES))
            raise UnknownSample(f"no built-in sample {name!r}; the samples are {known}")
        with self._lock:
            data = self._made.get(name)
            if data is None:
                from a2v_testkit.speech import speech_wav

                data = speech_wav(sample.seconds, rate=sample.rate, seed=sample.seed)
                self._made[name] = data
        return data

    @staticmethod
    def urls(base_url: str) -> dict[str, str]:
        """Every sample's absolute URL under `base_url` (for the banner, `/docs` and the console)."""
        return {name: f"{base_url.rstrip('/')}/samples/{name}" for name in SAMPLES}
