"""Layers drawn once per character and size, and the cache a render worker keeps them in.

Everything that can be drawn once is drawn once: the background, the character (edge-padded so the
head can shift), the base frame per head offset, the mask frame per offset, one exact patch per eye
state and per mouth shape/openness level. ``Layers`` owns all of it; every array it hands out is
read-only, so compositors sharing one ``Layers`` can never change each other's frames.

A render worker (the mock server's pool process, a benchmark loop) renders the same few characters
again and again, and drawing costs ~0.2 s at 512 px, a large share of a short clip. So the worker owns
a ``LayerCache`` and passes it to each render; without one, a render draws its layers and drops them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .draw import draw_background, draw_character, layout
from .yuv import rgb_to_yuv420

if TYPE_CHECKING:
    from .characters import Character
    from .draw import Layout
    from .types import Rect
    from .yuv import Planes

__all__ = ["MOUTH_STEPS", "LayerCache", "Layers", "Patch", "mouth_key"]

#: Openness is quantised to this many steps per shape; finer steps are invisible at 25 fps.
MOUTH_STEPS = 6
_BASE_CACHE = 24  # base frames kept (one per head offset) ...
_BASE_CACHE_BYTES = 64 << 20  # ... but no more than this much memory (large sizes keep fewer)


def mouth_key(shape: str, openness: float) -> tuple[str, int]:
    """The patch a ``(shape, openness)`` pair is drawn with."""
    if shape in ("X", "A"):
        return (shape, 0)
    return (shape, round(float(np.clip(openness, 0, 1)) * MOUTH_STEPS))


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class Patch:
    """A rectangle of the frame in YUV, with masks of the pixels it may set (None: all of them)."""

    rect: Rect
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    ymask: np.ndarray | None
    cmask: np.ndarray | None


class Layers:
    """The drawn layers of one character at one size, and the frames and patches made from them.

    Base frames, masks and patches are made on first use and kept here (bases and masks in a small
    LRU bounded by memory). Not for sharing between threads.
    """

    def __init__(self, character: Character, size: int) -> None:
        self.character = character
        self.size = size
        self.layout: Layout = layout(character, size)
        self.pad = 2 * max(2, round(size / 128))
        rgb, alpha = draw_character(character, size)
        pad = self.pad
        # Edge padding lets the shifted body continue past the frame's bottom edge.
        self.background = _frozen(draw_background(character, size))
        self.rgb = _frozen(np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge"))
        self.alpha = _frozen(np.pad(alpha, ((pad, pad), (pad, pad)), mode="edge"))
        half = size // 2
        self._grey = _frozen(np.full((half, half), 128, np.uint8))
        self._bases: OrderedDict[tuple[int, int], Planes] = OrderedDict()
        self._masks: OrderedDict[tuple[int, int], Planes] = OrderedDict()
        self._eyes: dict[tuple[float, float], tuple[Patch, ...]] = {}
        self._mouths: dict[tuple[str, int], Patch] = {}
        self._capacity = max(4, min(_BASE_CACHE, _BASE_CACHE_BYTES // (size * size * 3 // 2)))

    @staticmethod
    def nbytes(size: int) -> int:
        """Rough memory of one ``Layers`` at ``size`` with its base and mask frames filled."""
        float_layers = size * size * 4 * 7  # background + character RGB + alpha, float32
        frames = min(_BASE_CACHE, 24) * size * size * 5 // 2  # bases (yuv420p) + masks (luma)
        return float_layers + frames

    def shifted(self, offset: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The character's premultiplied RGB and alpha moved by head ``offset`` (views, read-only)."""
        dx, dy = offset
        p, s = self.pad, self.size
        if abs(dx) > p or abs(dy) > p:
            raise ValueError(f"head offset {offset} exceeds the padding of {p} pixels")
        sl = (slice(p - dy, p - dy + s), slice(p - dx, p - dx + s))
        return self.rgb[sl], self.alpha[sl]

    def _remember(
        self, cache: OrderedDict[tuple[int, int], Planes], key: tuple[int, int], value: Planes
    ) -> None:
        cache[key] = value
        while len(cache) > self._capacity:
            cache.popitem(last=False)

    def base(self, offset: tuple[int, int]) -> Planes:
        """The full frame with open eyes and a closed mouth at head ``offset``."""
        cached = self._bases.get(offset)
        if cached is not None:
            self._bases.move_to_end(offset)
            return cached
        rgb, alpha = self.shifted(offset)
        y, u, v = rgb_to_yuv420(rgb + self.background * (1 - alpha[..., None]))
        planes = (_frozen(y), _frozen(u), _frozen(v))
        self._remember(self._bases, offset, planes)
        return planes

    def mask(self, offset: tuple[int, int]) -> Planes:
        """The alpha mask frame at ``offset``: grey (limited-range luma), neutral chroma."""
        cached = self._masks.get(offset)
        if cached is not None:
            self._masks.move_to_end(offset)
            return cached
        _, alpha = self.shifted(offset)
        y = _frozen(np.clip(16 + 219 * alpha + 0.5, 0, 255).astype(np.uint8))
        planes = (y, self._grey, self._grey)
        self._remember(self._masks, offset, planes)
        return planes

    def _patch(self, rect: Rect, eye: float, mouth: tuple[str, float], gaze: float = 0.0) -> Patch:
        rgb, alpha = draw_character(
            self.character, self.size, eye_open=eye, mouth=mouth, region=rect, gaze=gaze
        )
        y, u, v = rgb_to_yuv420(rgb)
        opaque: np.ndarray = alpha > 0.999
        h, w = opaque.shape
        copaque = np.all(opaque.reshape(h // 2, 2, w // 2, 2), axis=(1, 3)).astype(bool)
        return Patch(
            rect,
            _frozen(y),
            _frozen(u),
            _frozen(v),
            None if opaque.all() else _frozen(opaque),
            None if copaque.all() else _frozen(copaque),
        )

    def eye_patches(self, level: float, gaze: float = 0.0) -> tuple[Patch, ...]:
        """Both eyes at openness ``level`` looking towards ``gaze``, one patch per eye rectangle."""
        key = (level, gaze)
        if key not in self._eyes:
            self._eyes[key] = tuple(self._patch(r, level, ("X", 0.0), gaze) for r in self.layout.eye_rects)
        return self._eyes[key]

    def mouth_patch(self, key: tuple[str, int]) -> Patch:
        """The mouth for a ``mouth_key``."""
        if key not in self._mouths:
            shape, step = key
            self._mouths[key] = self._patch(self.layout.mouth_rect, 1.0, (shape, step / MOUTH_STEPS))
        return self._mouths[key]


class LayerCache:
    """``Layers`` by ``(character, size)``: a small LRU bounded by memory, owned by one render worker.

    ~17 MB per character at 512 px; sizes whose layers would take more than half of ``max_bytes`` are
    drawn but not kept. Not for sharing between threads.

    Example::

        cache = LayerCache()
        render("a.wav", "eva_a0008", "a.mp4", layer_cache=cache)
        render("b.wav", "eva_a0008", "b.mp4", layer_cache=cache)  # draws nothing
        cache.clear()
    """

    def __init__(self, max_bytes: int = 96 << 20) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Character, int], Layers] = OrderedDict()

    def get(self, character: Character, size: int) -> Layers:
        """The layers of ``character`` at ``size``, drawn now unless kept from an earlier call."""
        key = (character, size)
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached
        layers = Layers(character, size)
        cost = Layers.nbytes(size)
        if cost <= self.max_bytes // 2:
            self._entries[key] = layers
            while len(self._entries) * cost > self.max_bytes:
                self._entries.popitem(last=False)
        return layers

    def clear(self) -> None:
        """Drop every kept ``Layers`` (the next render of each character draws it again)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries
