"""Speech-like test audio made in code, in every container the tests use: nothing is downloaded.

The signal is a cartoon of speech that exercises every branch of a lip-sync analysis: voiced vowels
(harmonics of a gliding pitch shaped by two formants: open "a", spread "i"/"e", rounded "o"/"u"),
fricatives (high-passed noise), plosive closures (short gaps) and pauses (true silence). Everything is a
pure function of its arguments and an explicit seed: the same call gives the same samples, and the same
bytes (the muxers run with `+bitexact`, so no encoder version string or timestamp leaks in).

Example:
    >>> samples, script = speech_like(1.0, 16_000, seed=3)
    >>> len(samples), script[0].kind
    (16000, 'silence')
    >>> speech("mp3", 0.5, rate=22_050)[:3] in (b"ID3", b"\\xff\\xfb")      # doctest: +SKIP
    True
"""

from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import av
import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "FORMATS",
    "AudioFormat",
    "Segment",
    "encode",
    "encode_audio",
    "speech",
    "speech_like",
    "speech_wav",
]

_VOWELS: dict[str, tuple[float, float]] = {
    "a": (800.0, 1200.0),
    "e": (500.0, 1900.0),
    "i": (300.0, 2300.0),
    "o": (450.0, 800.0),
    "u": (300.0, 700.0),
}


@dataclass(frozen=True)
class AudioFormat:
    """How PyAV writes one kind of audio file; `rates` is None when the codec takes any sample rate."""

    container: str
    codec: str
    sample_format: str
    extension: str
    content_type: str
    rates: tuple[int, ...] | None = None


_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)

#: Every format the tests write, by name (the file suffix).
FORMATS: Final[dict[str, AudioFormat]] = {
    "wav": AudioFormat("wav", "pcm_s16le", "s16", "wav", "audio/wav"),
    "mp3": AudioFormat(
        "mp3",
        "libmp3lame",
        "s16p",
        "mp3",
        "audio/mpeg",
        (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
    ),
    "flac": AudioFormat("flac", "flac", "s16", "flac", "audio/flac"),
    "ogg": AudioFormat("ogg", "libopus", "flt", "ogg", "audio/ogg", _OPUS_RATES),
    "opus": AudioFormat("ogg", "libopus", "flt", "opus", "audio/ogg", _OPUS_RATES),
    "m4a": AudioFormat("ipod", "aac", "fltp", "m4a", "audio/mp4"),
}


@dataclass(frozen=True, slots=True)
class Segment:
    """One event in the synthetic script: ``kind`` is silence, vowel, fricative or closure."""

    start: float
    end: float
    kind: str
    vowel: str = ""


def speech_like(
    duration: float, rate: int = 16_000, seed: int = 0, lead_silence: float = 0.3
) -> tuple[np.ndarray, list[Segment]]:
    """Return ``(samples, script)``: mono float32 in [-1, 1] of exactly ``round(duration*rate)`` samples.

    Words (syllables of optional fricative + vowel, separated by closures) alternate with pauses. The
    script lists each event so tests can check a mouth against what was said.
    """
    rng = np.random.default_rng(seed)
    total = max(1, round(duration * rate))
    out = np.zeros(total, dtype=np.float64)
    script: list[Segment] = []
    t = min(lead_silence, duration)
    if t > 0:
        script.append(Segment(0.0, t, "silence"))
    while t < duration:
        for _ in range(int(rng.integers(1, 5))):  # syllables in a word
            if rng.random() < 0.4:
                t = _add(out, rate, t, float(rng.uniform(0.06, 0.14)), "fricative", "", rng, script)
            vowel = str(rng.choice(list(_VOWELS)))
            t = _add(out, rate, t, float(rng.uniform(0.12, 0.3)), "vowel", vowel, rng, script)
            if rng.random() < 0.5:
                t = _add(out, rate, t, float(rng.uniform(0.04, 0.08)), "closure", "", rng, script)
        t = _add(out, rate, t, float(rng.uniform(0.25, 0.6)), "silence", "", rng, script)
    peak = np.max(np.abs(out)) or 1.0
    return (out / peak * 0.7).astype(np.float32), [s for s in script if s.start < duration]


def _add(
    out: np.ndarray,
    rate: int,
    start: float,
    length: float,
    kind: str,
    vowel: str,
    rng: np.random.Generator,
    script: list[Segment],
) -> float:
    end = start + length
    script.append(Segment(start, min(end, len(out) / rate), kind, vowel))
    i0, i1 = round(start * rate), min(len(out), round(end * rate))
    n = i1 - i0
    if n <= 0 or kind in ("silence", "closure"):
        return end
    t = np.arange(n) / rate
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.012)
    if kind == "vowel":
        f0 = float(rng.uniform(110, 210)) * (1 + 0.08 * np.sin(2 * np.pi * 1.5 * t + rng.uniform(0, 6)))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        f1, f2 = _VOWELS[vowel]
        sig = np.zeros(n)
        for k in range(1, int(min(4000, rate / 2 - 200) / 110)):
            fk = k * float(f0.mean())
            if fk >= rate / 2 - 200:
                break
            gain = 1 / (1 + ((fk - f1) / 90) ** 2) + 0.5 / (1 + ((fk - f2) / 120) ** 2) + 0.02
            sig += gain * np.sin(k * phase)
        sig *= np.sin(np.pi * np.linspace(0, 1, n)) ** 0.5  # syllable swell
    else:
        noise = rng.standard_normal(n)
        spec = np.fft.rfft(noise)
        freqs = np.fft.rfftfreq(n, 1 / rate)
        spec[freqs < min(3500, rate / 4)] = 0
        sig = np.fft.irfft(spec, n) * 0.6
    out[i0:i1] += sig * ramp
    return end


def encode(samples: np.ndarray, rate: int, fmt: str = "wav", channels: int = 1) -> bytes:
    """Encode mono float ``samples`` at ``rate`` as a file of format ``fmt`` (a `FORMATS` key).

    ``channels=2`` writes the same signal to both channels (the right one slightly quieter, so the two
    differ). Raises `ValueError` for a format, rate or channel count the encoder cannot take.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}; known: {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
    if spec.rates is not None and rate not in spec.rates:
        raise ValueError(f"{spec.codec} cannot encode at {rate} Hz; choose one of {spec.rates}")
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, got {channels}")
    layout = "stereo" if channels == 2 else "mono"
    data = np.asarray(samples, dtype=np.float32)
    planar = np.stack([data, data * 0.8]) if channels == 2 else data[None, :]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=spec.container, options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(spec.codec, rate=rate, layout=layout)
        if not isinstance(stream, av.AudioStream):  # for the type checker: add_stream is generic
            raise TypeError(f"{spec.codec} is not an audio codec")
        stream.format = spec.sample_format
        resampler = av.AudioResampler(format=spec.sample_format, layout=layout, rate=rate)
        step = 4096
        for i in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, i : i + step]), format="fltp", layout=layout
            )
            frame.sample_rate = rate
            frame.pts = i  # timestamps from 0 let the muxer record the codec's priming (Opus pre-skip)
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def encode_audio(
    samples: np.ndarray,
    rate: int,
    path: str | os.PathLike[str] | Path,
    channels: int = 1,
    fmt: str | None = None,
) -> None:
    """`encode` into the file ``path``; its suffix (or ``fmt``) picks the format."""
    name = fmt or os.fspath(path).rsplit(".", 1)[-1].lower()
    with open(path, "wb") as out:
        out.write(encode(samples, rate, name, channels))


def speech(
    fmt: str = "wav", seconds: float = 1.0, *, rate: int = 16_000, channels: int = 1, seed: int = 0
) -> bytes:
    """`speech_like` audio of ``seconds``, encoded as a ``fmt`` file: the one-call fixture."""
    samples, _ = speech_like(seconds, rate, seed)
    return encode(samples, rate, fmt, channels)


def speech_wav(duration: float, rate: int = 16_000, seed: int = 0, lead_silence: float = 0.3) -> bytes:
    """``speech_like`` audio as a mono 16-bit PCM WAV written by the `wave` module: the simplest file a
    downloader can meet (a plain 44-byte header), byte-stable across PyAV versions."""
    samples, _ = speech_like(duration, rate, seed, lead_silence)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
