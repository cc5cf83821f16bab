"""Value types shared by the renderer's modules and its callers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "SHAPES",
    "AudioSource",
    "MouthFrame",
    "PathLike",
    "Rect",
    "RenderOptions",
    "RenderResult",
    "Rgb",
    "Shape",
]

PathLike: TypeAlias = str | os.PathLike[str]
#: Audio as raw bytes (e.g. a download) or a path to a file.
AudioSource: TypeAlias = bytes | str | os.PathLike[str]

#: A colour as RGB floats in 0..1.
Rgb: TypeAlias = tuple[float, float, float]
#: A pixel rectangle ``(x0, y0, x1, y1)``, end exclusive; even-aligned where it meets yuv420p planes.
Rect: TypeAlias = tuple[int, int, int, int]

#: Mouth shapes, named as in Rhubarb Lip Sync (https://github.com/DanielSWolf/rhubarb-lip-sync):
#: X idle/closed, A lips pressed (M, B, P), B slightly open with teeth (most consonants, EE),
#: C open (EH, AE), D wide open (AA), E slightly rounded (AO, ER), F puckered (UW, OW, W).
Shape: TypeAlias = Literal["A", "B", "C", "D", "E", "F", "X"]
SHAPES: tuple[str, ...] = ("X", "A", "B", "C", "D", "E", "F")

_MIN_SIZE = 64
_MAX_SIZE = 4096
_MAX_FPS = 120


@dataclass(frozen=True, slots=True)
class MouthFrame:
    """The mouth in one video frame: ``time`` (s, frame start), Rhubarb ``shape``, ``openness`` 0..1."""

    time: float
    shape: str
    openness: float

    def to_dict(self) -> dict[str, float | str]:
        return {"time": round(self.time, 4), "shape": self.shape, "openness": round(self.openness, 3)}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render: square frame ``size`` (even pixels), ``fps``, and accepted audio durations (s).

    Example::

        RenderOptions(size=256, fps=30, max_duration=60.0)
    """

    size: int = 512
    fps: int = 25
    min_duration: float = 0.2
    max_duration: float | None = 600.0

    def __post_init__(self) -> None:
        # bool is an int subclass; reject it so RenderOptions(size=True) is not a 1-pixel video.
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise ValueError(f"size must be an integer, got {self.size!r}")
        if self.size % 2:
            raise ValueError(f"size must be even (H.264 yuv420p), got {self.size}")
        if not _MIN_SIZE <= self.size <= _MAX_SIZE:
            raise ValueError(f"size must be between {_MIN_SIZE} and {_MAX_SIZE}, got {self.size}")
        if not isinstance(self.fps, int) or isinstance(self.fps, bool) or not 1 <= self.fps <= _MAX_FPS:
            raise ValueError(f"fps must be an integer between 1 and {_MAX_FPS}, got {self.fps!r}")
        if not self.min_duration >= 0:
            raise ValueError(f"min_duration must be >= 0, got {self.min_duration!r}")
        if self.max_duration is not None and not self.max_duration >= self.min_duration:
            raise ValueError(
                f"max_duration must be None or >= min_duration ({self.min_duration}), "
                f"got {self.max_duration!r}"
            )


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What ``render`` produced: video ``duration`` (s), ``frame_count`` and the mouth ``track``."""

    duration: float
    frame_count: int
    track: list[MouthFrame] = field(default_factory=list)

    def track_json(self) -> list[dict[str, float | str]]:
        """The track as JSON-ready dicts (``time``, ``shape``, ``openness`` per frame)."""
        return [frame.to_dict() for frame in self.track]
