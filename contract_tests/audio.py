"""Audio fixtures made in code, so the kit needs no binary files.

The signal is the test toolkit's synthetic speech (`a2v_testkit.speech`: vowels, fricatives, closures
and pauses), so a lip-sync renderer has something to animate. Everything is a pure function of its
arguments: the same `AudioSpec` always gives the same bytes.

`FIXTURE_FILES` names the files the kit serves from its local audio server, and expects at
`--audio-base-url` when the implementation cannot reach the kit's machine (write them with
`a2v-contract --write-fixtures DIR`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import av

from a2v_testkit import FORMATS as ALL_FORMATS
from a2v_testkit import AudioFormat, speech

__all__ = [
    "FIXTURE_FILES",
    "FORMATS",
    "AudioSpec",
    "decoded_duration",
    "fixture_bytes",
    "make_audio",
    "write_fixtures",
]


@dataclass(frozen=True)
class KitFormat:
    """A container the kit sends, with the sample rates it tries in it."""

    format: AudioFormat
    rates: tuple[int, ...]

    @property
    def extension(self) -> str:
        return self.format.extension

    @property
    def content_type(self) -> str:
        return self.format.content_type


#: The containers the spec says are accepted ("WAV and MP3 always; also FLAC, Ogg/Opus").
FORMATS: Final[dict[str, KitFormat]] = {
    "wav": KitFormat(ALL_FORMATS["wav"], (8000, 16000, 22050, 44100, 48000)),
    "mp3": KitFormat(ALL_FORMATS["mp3"], (16000, 22050, 44100, 48000)),
    "flac": KitFormat(ALL_FORMATS["flac"], (8000, 16000, 22050, 44100, 48000)),
    "ogg": KitFormat(ALL_FORMATS["ogg"], (16000, 24000, 48000)),
}


@dataclass(frozen=True)
class AudioSpec:
    """What to make: container, sample rate, channels, length in seconds and a seed for the signal."""

    fmt: str = "wav"
    sample_rate: int = 16000
    channels: int = 1
    seconds: float = 1.0
    seed: int = 0

    @property
    def filename(self) -> str:
        ext = FORMATS[self.fmt].extension
        return f"speech_{self.sample_rate}hz_{self.channels}ch_{self.seconds:g}s_{self.seed}.{ext}"

    @property
    def content_type(self) -> str:
        return FORMATS[self.fmt].content_type


def make_audio(spec: AudioSpec) -> bytes:
    """Encode the signal for `spec` into its container and return the file's bytes."""
    return speech(spec.fmt, spec.seconds, rate=spec.sample_rate, channels=spec.channels, seed=spec.seed)


def decoded_duration(data: bytes) -> float:
    """Seconds of audio a decoder gets from `data` (what an implementation should render)."""
    samples = 0
    rate = 0
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate
    if not rate:
        raise ValueError("no audio samples decoded")
    return samples / rate


#: Fixed fixtures the kit always uses, by role. Generated lazily by `fixture_bytes`.
FIXTURE_FILES: Final[dict[str, AudioSpec | None]] = {
    "speech.wav": AudioSpec("wav", 16000, 1, 1.0, 1),
    "speech.mp3": AudioSpec("mp3", 22050, 1, 1.0, 2),
    "speech.flac": AudioSpec("flac", 16000, 2, 1.0, 3),
    "speech.ogg": AudioSpec("ogg", 48000, 1, 1.0, 4),
    "too_long.wav": None,  # max_audio_seconds + 1, made from the spec's limit
    "not_audio.wav": None,  # a text file named like audio
}


def fixture_bytes(name: str, *, max_audio_seconds: float = 60) -> bytes:
    """The bytes of one of `FIXTURE_FILES` (or any `AudioSpec.filename`-like request)."""
    if name == "too_long.wav":
        return make_audio(AudioSpec("wav", 8000, 1, float(max_audio_seconds) + 1.0, 5))
    if name == "not_audio.wav":
        return b"This is not audio, only text pretending to be a WAV file.\n" * 64
    spec = FIXTURE_FILES.get(name)
    if spec is None:
        raise KeyError(f"unknown fixture {name!r}; known: {', '.join(FIXTURE_FILES)}")
    return make_audio(spec)


def write_fixtures(directory: str | Path, *, max_audio_seconds: float = 60) -> list[Path]:
    """Write every fixture into `directory` (for `--audio-base-url` deployments)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FIXTURE_FILES:
        path = target / name
        path.write_bytes(fixture_bytes(name, max_audio_seconds=max_audio_seconds))
        written.append(path)
    return written
