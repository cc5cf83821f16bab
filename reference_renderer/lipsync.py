"""Lip-sync analysis: audio samples -> compact per-frame features -> a mouth track.

Pure functions of arrays, no I/O. The vocabulary is Rhubarb Lip Sync's mouth shapes (see ``types.SHAPES``).
Rhubarb recognises phones; we only have a few milliseconds of CPU per frame, so we read the shape from
features that separate the classes well enough for a cartoon:

* loudness (dB, relative to the file's own speech level) -> silence (X), openness, and closures (A);
* share of energy above 3 kHz and a high spectral centroid -> fricatives and sibilants -> teeth (B);
* a low spectral centroid with most voiced energy below 1 kHz -> rounded vowels (E, F);
* otherwise openness picks B (slightly open), C (open) or D (wide open).

The track is smoothed (no single-frame flicker) and anticipates the sound by about half a frame,
because a mouth that opens after the sound starts reads as late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .types import MouthFrame

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ANALYSIS_RATE", "FeatureExtractor", "Features", "analyze", "track_from_features"]

#: Sample rate of the analysis path; speech cues for a cartoon mouth all sit below 8 kHz.
ANALYSIS_RATE = 16_000
_WINDOW = 1024  # 64 ms: wide enough for low voices' harmonics, short enough for 40 ms frames
_EPS = 1e-10
_BATCH = 16_384  # samples analysed per batch (~1 s)


@dataclass(frozen=True, slots=True)
class Features:
    """Per-frame features (one row per video frame): a few floats each, so 10 minutes fit in ~1 MB."""

    loudness_db: np.ndarray  # RMS level in dBFS
    high_ratio: np.ndarray  # energy share above 3 kHz
    low_ratio: np.ndarray  # energy share below 1 kHz (of 100 Hz-8 kHz)
    centroid: np.ndarray  # spectral centroid, Hz
    flatness: np.ndarray  # spectral flatness 0..1 (noise-like -> 1)

    def __len__(self) -> int:
        return len(self.loudness_db)


class FeatureExtractor:
    """Streaming feature extraction: ``feed`` mono chunks at ``ANALYSIS_RATE``, then ``finish``.

    Frame ``i`` covers the audio played while it is on screen, ``[i/fps, (i+1)/fps)``, analysed with a
    Hann window of ``_WINDOW`` samples centred on that interval. Only the samples still needed by a
    future window are kept, so memory does not grow with the input length.
    """

    def __init__(self, fps: int) -> None:
        self._fps = fps
        self._buf = np.zeros(_WINDOW // 2, dtype=np.float32)  # left zero padding for frame 0
        self._buf_start = -(_WINDOW // 2)  # absolute sample index of _buf[0]
        self._next = 0  # next frame index to emit
        self._total = 0  # samples fed
        self._rows: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self._window = np.hanning(_WINDOW).astype(np.float32)
        freqs = np.fft.rfftfreq(_WINDOW, 1 / ANALYSIS_RATE)
        self._band = (freqs >= 100) & (freqs <= 7800)
        self._high = (freqs >= 3000) & (freqs <= 7800)
        self._low = (freqs >= 100) & (freqs < 1000)
        self._freqs = freqs

    @property
    def samples(self) -> int:
        """Number of samples fed so far (at ``ANALYSIS_RATE``)."""
        return self._total

    def _centre(self, index: int) -> int:
        return round((index + 0.5) * ANALYSIS_RATE / self._fps)

    def feed(self, chunk: np.ndarray) -> None:
        # Decoders hand over ~1000-sample chunks; analysing in batches of a second or so keeps the
        # per-call numpy overhead down (it dominated the analysis pass) at a fixed memory cost.
        self._pending.append(np.asarray(chunk, dtype=np.float32).ravel())
        self._pending_size += chunk.size
        self._total += chunk.size
        if self._pending_size >= _BATCH:
            self._flush()
            self._emit(limit=None)

    def _flush(self) -> None:
        if self._pending:
            self._buf = np.concatenate([self._buf, *self._pending])
            self._pending.clear()
            self._pending_size = 0

    def _emit(self, limit: int | None) -> None:
        end = self._buf_start + len(self._buf)
        starts: list[int] = []
        while self._centre(self._next) + _WINDOW // 2 <= end and (limit is None or self._next < limit):
            starts.append(self._centre(self._next) - _WINDOW // 2 - self._buf_start)
            self._next += 1
        if starts:
            idx = np.asarray(starts)[:, None] + np.arange(_WINDOW)[None, :]
            self._rows.append(self._analyse(self._buf[idx]))
        keep_from = self._centre(self._next) - _WINDOW // 2 - self._buf_start
        if keep_from > 0:
            self._buf = self._buf[keep_from:]
            self._buf_start += keep_from

    def frame_count(self) -> int:
        """Frames for the samples fed so far: the duration rounded to whole frames (at least one)."""
        return max(1, round(self._total * self._fps / ANALYSIS_RATE))

    def finish(self, frame_count: int | None = None) -> Features:
        """Pad the tail with silence and return features for ``frame_count`` frames (default: all)."""
        count = frame_count if frame_count is not None else self.frame_count()
        self._flush()
        needed = self._centre(count - 1) + _WINDOW // 2 - (self._buf_start + len(self._buf))
        if needed > 0:
            self._buf = np.concatenate([self._buf, np.zeros(needed, dtype=np.float32)])
        self._emit(limit=count)
        rows = np.concatenate(self._rows, axis=0)[:count] if self._rows else np.zeros((0, 5))
        return Features(*(rows[:, k].astype(np.float64) for k in range(5)))

    def _analyse(self, windows: np.ndarray) -> np.ndarray:
        rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1))
        loud = 20 * np.log10(rms + _EPS)
        spec = np.square(np.abs(np.fft.rfft(windows * self._window, axis=1)))
        band = spec[:, self._band]
        total = band.sum(axis=1) + _EPS
        high = spec[:, self._high].sum(axis=1) / total
        low = spec[:, self._low].sum(axis=1) / total
        centroid = (band * self._freqs[self._band]).sum(axis=1) / total
        flat = np.exp(np.mean(np.log(band + _EPS), axis=1)) / (np.mean(band, axis=1) + _EPS)
        return np.stack([loud, high, low, centroid, np.clip(flat, 0, 1)], axis=1)


def analyze(chunks: Iterable[np.ndarray], fps: int) -> Features:
    """Features for mono ``chunks`` at ``ANALYSIS_RATE`` (convenience wrapper for tests and tools)."""
    extractor = FeatureExtractor(fps)
    for chunk in chunks:
        extractor.feed(chunk)
    return extractor.finish()


def _smooth(values: np.ndarray, kernel: tuple[float, ...]) -> np.ndarray:
    k = np.asarray(kernel) / np.sum(kernel)
    pad = len(k) // 2
    padded = np.pad(values, pad, mode="edge")
    return np.convolve(padded, k, mode="valid")


def track_from_features(features: Features, fps: int) -> list[MouthFrame]:
    """Turn per-frame features into one ``MouthFrame`` per video frame.

    Levels are relative to the file: the speech level is a high percentile of the loudness, so a quiet
    recording opens the mouth as wide as a loud one, and silence is anything 35 dB below speech (or
    below -60 dBFS).
    """
    n = len(features)
    if n == 0:
        return []
    loud = features.loudness_db
    speech_level = float(np.percentile(loud, 95))
    gate = max(speech_level - 35.0, -60.0)
    span = max(speech_level - gate, 6.0)
    raw = np.clip((loud - gate) / span, 0.0, 1.0) ** 2
    # Anticipation: the mouth starts moving towards the next frame's opening half a frame early.
    ahead = np.append(raw[1:], raw[-1])
    opening = np.maximum(raw, 0.6 * ahead)
    openness = np.clip(_smooth(opening, (1, 3, 1)), 0.0, 1.0)
    active = loud > gate
    # Frames in a gap shorter than ~120 ms inside speech are closures (M/B/P), not silence.
    near_speech = _smooth(active.astype(float), (1,) * max(3, round(0.12 * fps) | 1)) > 0

    shapes: list[str] = []
    for i in range(n):
        o = openness[i]
        if o < 0.12:
            shapes.append("A" if near_speech[i] and active[max(0, i - 3) : i + 4].any() else "X")
            continue
        fricative = features.high_ratio[i] > 0.5 and features.centroid[i] > 2500
        rounded = features.low_ratio[i] > 0.82 and features.centroid[i] < 900
        if fricative:
            shapes.append("B")
        elif rounded:
            shapes.append("F" if o < 0.55 else "E")
        elif o < 0.3:
            shapes.append("B")
        elif o < 0.65:
            shapes.append("C")
        else:
            shapes.append("D")
    # Remove one-frame flickers (a shape differing from two equal neighbours), keeping closures.
    for i in range(1, n - 1):
        if shapes[i - 1] == shapes[i + 1] != shapes[i] and shapes[i] not in ("A", "X"):
            shapes[i] = shapes[i - 1]
    for i, shape in enumerate(shapes):
        if shape in ("X", "A"):
            openness[i] = 0.0
    return [MouthFrame(time=i / fps, shape=shapes[i], openness=float(openness[i])) for i in range(n)]
