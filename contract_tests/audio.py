"""Audio fixtures made in code (numpy + PyAV), so the kit needs no binary files.

The signal is speech-like (a voiced tone whose loudness rises and falls about four times a second), so a
lip-sync renderer has something to animate. Everything is a pure function of its arguments: the same
`AudioSpec` always gives the same bytes.

`FIXTURE_FILES` names the files the kit serves from its local audio server, and expects at
`--audio-base-url` when the implementation cannot reach the kit's machine (write them with
`a2v-contract --write-fixtures DIR`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final, cast

import av
import numpy as np

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
class _Format:
    container: str
    codec: str
    sample_format: str
    extension: str
    content_type: str
    rates: tuple[int, ...]


#: The containers the spec says are accepted ("WAV and MP3 always; also FLAC, Ogg/Opus").
FORMATS: Final[dict[str, _Format]] = {
    "wav": _Format("wav", "pcm_s16le", "s16", "wav", "audio/wav", (8000, 16000, 22050, 44100, 48000)),
    "mp3": _Format("mp3", "libmp3lame", "s16p", "mp3", "audio/mpeg", (16000, 22050, 44100, 48000)),
    "flac": _Format("flac", "flac", "s16", "flac", "audio/flac", (8000, 16000, 22050, 44100, 48000)),
    "ogg": _Format("ogg", "libopus", "s16", "ogg", "audio/ogg", (16000, 24000, 48000)),
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


def _signal(spec: AudioSpec) -> np.ndarray:
    """A (channels, samples) float32 speech-like signal in [-1, 1]."""
    rng = np.random.default_rng(spec.seed)
    n = round(spec.seconds * spec.sample_rate)
    t = np.arange(n, dtype=np.float64) / spec.sample_rate
    pitch = 110 + 40 * rng.random()
    syllables = 3.5 + rng.random()
    envelope = np.clip(np.sin(2 * np.pi * syllables * t + rng.random() * 6), 0, None) ** 0.7
    voice = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
    mono = 0.3 * envelope * voice + 0.01 * rng.standard_normal(n)
    mono = np.clip(mono, -1.0, 1.0).astype(np.float32)
    return np.repeat(mono[None, :], spec.channels, axis=0)


def make_audio(spec: AudioSpec) -> bytes:
    """Encode the signal for `spec` into its container and return the file's bytes."""
    fmt = FORMATS[spec.fmt]
    if spec.channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, got {spec.channels}")
    samples = _signal(spec)
    pcm = (samples * 32767).astype(np.int16)
    layout = "mono" if spec.channels == 1 else "stereo"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt.container, options={"fflags": "+bitexact"}) as container:
        stream = cast("av.AudioStream", container.add_stream(fmt.codec, rate=spec.sample_rate))
        stream.layout = layout
        resampler = av.AudioResampler(format=fmt.sample_format, layout=layout, rate=spec.sample_rate)
        chunk = stream.codec_context.frame_size or 1024
        pts = 0
        for start in range(0, pcm.shape[1], chunk):
            block = np.ascontiguousarray(pcm[:, start : start + chunk].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout=layout)
            frame.sample_rate = spec.sample_rate
            frame.pts = pts
            pts += block.shape[1] // spec.channels
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    container.mux(packet)
        for resampled in resampler.resample(None):
            for packet in stream.encode(resampled):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


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
