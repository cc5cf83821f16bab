"""Speech-like test audio, made in code: for tests, the benchmark and demos (nothing is downloaded).

The signal is a cartoon of speech that exercises every branch of the lip-sync analysis: voiced vowels
(harmonics of a gliding pitch shaped by two formants: open "a", spread "i"/"e", rounded "o"/"u"),
fricatives (high-passed noise), plosive closures (short gaps) and pauses (true silence).
"""

from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass
from typing import TYPE_CHECKING

import av
import numpy as np

if TYPE_CHECKING:
    from .types import PathLike

__all__ = ["FORMATS", "Segment", "encode_audio", "speech_like"]

_VOWELS: dict[str, tuple[float, float]] = {
    "a": (800.0, 1200.0),
    "e": (500.0, 1900.0),
    "i": (300.0, 2300.0),
    "o": (450.0, 800.0),
    "u": (300.0, 700.0),
}

#: Container/codec choices by file suffix: (container format, codec, sample format, allowed rates).
FORMATS: dict[str, tuple[str, str, str, tuple[int, ...] | None]] = {
    "wav": ("wav", "pcm_s16le", "s16", None),
    "mp3": ("mp3", "libmp3lame", "s16p", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)),
    "ogg": ("ogg", "libopus", "flt", (8000, 12000, 16000, 24000, 48000)),
    "opus": ("ogg", "libopus", "flt", (8000, 12000, 16000, 24000, 48000)),
    "m4a": ("ipod", "aac", "fltp", None),
    "flac": ("flac", "flac", "s16", None),
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
    script lists each event so tests can check the mouth against what was said.
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


def encode_audio(
    samples: np.ndarray, rate: int, path: PathLike, channels: int = 1, fmt: str | None = None
) -> None:
    """Encode mono float ``samples`` at ``rate`` to ``path``; the suffix (or ``fmt``) picks the format.

    ``channels=2`` writes the same signal to both channels (the right one slightly quieter).
    """
    suffix = fmt or os.fspath(path).rsplit(".", 1)[-1].lower()
    container_format, codec, sample_fmt, rates = FORMATS[suffix]
    if rates is not None and rate not in rates:
        raise ValueError(f"{codec} cannot encode at {rate} Hz; choose one of {rates}")
    layout = "stereo" if channels == 2 else "mono"
    data = np.asarray(samples, dtype=np.float32)
    planar = np.stack([data, data * 0.8]) if channels == 2 else data[None, :]
    with av.open(os.fspath(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        if not isinstance(stream, av.AudioStream):  # for the type checker: add_stream is generic
            raise TypeError(f"{codec} is not an audio codec")
        stream.format = sample_fmt
        resampler = av.AudioResampler(format=sample_fmt, layout=layout, rate=rate)
        step = 4096
        for i in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, i : i + step]), format="fltp", layout=layout
            )
            frame.sample_rate = rate
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))


def speech_wav(duration: float, rate: int = 16_000, seed: int = 0, lead_silence: float = 0.3) -> bytes:
    """``speech_like`` audio as the bytes of a mono 16-bit PCM WAV file: the fixture servers hand out."""
    samples, _ = speech_like(duration, rate, seed, lead_silence)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
