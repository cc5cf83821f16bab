"""Per-frame composition, directly in yuv420p planes.

Everything that can be drawn once is drawn once per character and size: the background, the character
layer, one exact patch per eye state and per mouth shape/openness level. A frame is then the base image
for the current head offset with at most three small patches pasted in, and only the rectangles that
changed since the previous frame are touched. No RGB->YUV conversion happens per frame, which is what
keeps the compositor far below the encoder's cost (see ``benchmarks/render.py``).

Head motion is whole-layer integer shifts by even pixel steps (so chroma stays aligned and frames
between moves are bit-identical, which the encoder codes almost for free). Blinks and motion are drawn
from a seeded generator, so the same input always gives the same frames.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .draw import draw_background, draw_character, layout

if TYPE_CHECKING:
    from .characters import Character
    from .draw import Rect

__all__ = [
    "EYE_LEVELS",
    "Compositor",
    "Planes",
    "blink_levels",
    "gaze_directions",
    "head_offsets",
    "mouth_key",
    "planes_to_array",
    "rgb_to_yuv420",
]

#: Eye openness states with a prepared patch: open, half closed, closed.
EYE_LEVELS = (1.0, 0.5, 0.0)
#: Openness is quantised to this many steps per shape; finer steps are invisible at 25 fps.
MOUTH_STEPS = 6
_BASE_CACHE = 24  # base frames kept (one per head offset) ...
_BASE_CACHE_BYTES = 64 << 20  # ... but no more than this much memory (large sizes keep fewer)

# BT.709, limited ("tv") range: the encoder stream is tagged the same way so players agree.
_KR, _KB = 0.2126, 0.0722
_KG = 1 - _KR - _KB


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert float RGB (HxWx3, 0..1, H and W even) to uint8 Y (HxW), U and V (H/2 x W/2)."""
    rgb = np.asarray(rgb, np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = _KR * r + _KG * g + _KB * b
    y = np.clip(16 + 219 * luma + 0.5, 0, 255).astype(np.uint8)
    # Chroma is linear in RGB, so average each 2x2 block first and convert a quarter of the pixels.
    r2 = (r[0::2, 0::2] + r[1::2, 0::2] + r[0::2, 1::2] + r[1::2, 1::2]) * 0.25
    b2 = (b[0::2, 0::2] + b[1::2, 0::2] + b[0::2, 1::2] + b[1::2, 1::2]) * 0.25
    l2 = (luma[0::2, 0::2] + luma[1::2, 0::2] + luma[0::2, 1::2] + luma[1::2, 1::2]) * 0.25
    u = np.clip(128 + 224 * (b2 - l2) / (2 * (1 - _KB)) + 0.5, 0, 255).astype(np.uint8)
    v = np.clip(128 + 224 * (r2 - l2) / (2 * (1 - _KR)) + 0.5, 0, 255).astype(np.uint8)
    return y, u, v


def mouth_key(shape: str, openness: float) -> tuple[str, int]:
    """The patch a ``(shape, openness)`` pair is drawn with."""
    if shape in ("X", "A"):
        return (shape, 0)
    return (shape, round(float(np.clip(openness, 0, 1)) * MOUTH_STEPS))


def blink_levels(n: int, fps: int, seed: int) -> np.ndarray:
    """Eye openness per frame: natural blinks every 2-5.5 s (sometimes double), ~160 ms long."""
    eyes = np.ones(n, dtype=np.float32)
    rng = np.random.default_rng([seed, 0xB1])
    half = max(1, round(0.04 * fps))
    closed = max(1, round(0.08 * fps))
    t = rng.uniform(0.8, 2.5)
    while t * fps < n:
        starts = [round(t * fps)]
        if rng.random() < 0.12:  # a quick double blink
            starts.append(starts[0] + 2 * half + closed + max(1, round(0.12 * fps)))
        for s in starts:
            pattern = [0.5] * half + [0.0] * closed + [0.5] * half
            for k, level in enumerate(pattern):
                if 0 <= s + k < n:
                    eyes[s + k] = level
        t += rng.uniform(2.0, 5.5)
    return eyes


def gaze_directions(n: int, fps: int, seed: int) -> np.ndarray:
    """Where the eyes look per frame: mostly at the viewer (0), now and then briefly aside (+-1).

    Glances last 0.4-1.2 s and come every 2-6 s; an unmoving stare is what makes avatars look dead.
    """
    gaze = np.zeros(n, dtype=np.float32)
    rng = np.random.default_rng([seed, 0x6A2E])
    t = rng.uniform(1.5, 4.0)
    while t * fps < n:
        start = round(t * fps)
        length = max(1, round(rng.uniform(0.4, 1.2) * fps))
        gaze[start : start + length] = rng.choice([-1.0, 1.0])
        t += length / fps + rng.uniform(2.0, 6.0)
    return gaze


def head_offsets(n: int, fps: int, seed: int, size: int, activity: np.ndarray | None = None) -> np.ndarray:
    """Integer head offsets ``(n, 2)`` as (dx, dy), even, moving at most one 2-pixel step at a time.

    The head drifts towards a new target every 0.8-2 s (more often while speaking), stepping every
    ~80 ms, so most consecutive frames share an offset.
    """
    out = np.zeros((n, 2), dtype=np.int64)
    rng = np.random.default_rng([seed, 0x4EAD])
    amp_x = max(2, 2 * round(size / 256))
    amp_y = max(2, 2 * round(size / 512))
    step_every = max(1, round(0.08 * fps))
    pos = np.zeros(2, dtype=np.int64)
    target = pos.copy()
    next_change = 0
    for i in range(n):
        if i >= next_change:
            target = np.array(
                [2 * rng.integers(-amp_x // 2, amp_x // 2 + 1), 2 * rng.integers(-amp_y // 2, amp_y // 2 + 1)]
            )
            speaking = activity is not None and bool(activity[i])
            next_change = i + max(
                1, round(fps * (rng.uniform(0.5, 1.2) if speaking else rng.uniform(0.8, 2.0)))
            )
        if i % step_every == 0:
            pos = pos + 2 * np.sign(target - pos)
        out[i] = pos
    return out


@dataclass(frozen=True, slots=True)
class _Patch:
    """A rectangle of the frame in YUV, with masks of the pixels it may set (None: all of them)."""

    rect: Rect
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    ymask: np.ndarray | None
    cmask: np.ndarray | None


Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class _Layers:
    """Everything drawn once per character and size; the dicts fill lazily and are shared."""

    bg: np.ndarray
    rgb: np.ndarray  # premultiplied character, edge-padded by ``pad`` for head shifts
    alpha: np.ndarray
    pad: int
    bases: OrderedDict[tuple[int, int], Planes] = field(default_factory=OrderedDict)
    masks: OrderedDict[tuple[int, int], Planes] = field(default_factory=OrderedDict)
    eyes: dict[tuple[float, float], list[_Patch]] = field(default_factory=dict)
    mouths: dict[tuple[str, int], _Patch] = field(default_factory=dict)


_LAYER_CACHE: OrderedDict[tuple[Character, int], _Layers] = OrderedDict()
_LAYER_CACHE_BYTES = 96 << 20


def _layers(character: Character, size: int) -> _Layers:
    """Drawn layers for ``(character, size)``, kept for the next render of the same character.

    A worker process (the mock server's pool) renders the same few characters again and again; the
    drawing is ~0.2 s at 512 px, a large share of a short clip. The cache is a small LRU bounded by
    memory (~17 MB per character at 512 px; large sizes are simply not kept).
    """
    key = (character, size)
    cached = _LAYER_CACHE.get(key)
    if cached is not None:
        _LAYER_CACHE.move_to_end(key)
        return cached
    pad = 2 * max(2, round(size / 128))
    rgb, alpha = draw_character(character, size)
    # Edge padding lets the shifted body continue past the frame's bottom edge.
    layers = _Layers(
        bg=draw_background(character, size),
        rgb=np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge"),
        alpha=np.pad(alpha, ((pad, pad), (pad, pad)), mode="edge"),
        pad=pad,
    )
    cost = _layer_bytes(size)
    if cost <= _LAYER_CACHE_BYTES // 2:
        _LAYER_CACHE[key] = layers
        while len(_LAYER_CACHE) * cost > _LAYER_CACHE_BYTES:
            _LAYER_CACHE.popitem(last=False)
    return layers


def _layer_bytes(size: int) -> int:
    """Rough memory of one ``_Layers`` with its base and mask frames filled."""
    float_layers = size * size * 4 * 7  # background + character RGB + alpha, float32
    frames = min(_BASE_CACHE, 24) * size * size * 5 // 2  # bases (yuv420p) + masks (luma)
    return float_layers + frames


def planes_to_array(planes: Planes) -> np.ndarray:
    """Stack Y, U, V planes into the ``(h*3/2, w)`` array PyAV's ``yuv420p`` ``from_ndarray`` takes."""
    y, u, v = planes
    h, w = y.shape
    return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w)


class Compositor:
    """Builds yuv420p frames for one character at one size. One per render; not for sharing between threads.

    Frames are composed into three plane arrays: by default its own, or, after ``bind``, the planes of
    the encoder's frame, so a composed frame reaches the encoder without any copy.

    Example::

        comp = Compositor(character, 512)
        y, u, v = comp.frame((0, 0), eye=1.0, mouth=("C", 3))  # valid until the next call
    """

    def __init__(self, character: Character, size: int) -> None:
        self.character = character
        self.size = size
        self.layout = layout(character, size)
        layers = _layers(character, size)
        self._bg, self._char_rgb, self._char_alpha, self._pad = (
            layers.bg,
            layers.rgb,
            layers.alpha,
            layers.pad,
        )
        self._bases, self._masks = layers.bases, layers.masks
        self._eyes, self._mouths = layers.eyes, layers.mouths
        half = size // 2
        self._grey = np.full((half, half), 128, np.uint8)
        self.bind(
            (
                np.zeros((size, size), np.uint8),
                np.zeros((half, half), np.uint8),
                np.zeros((half, half), np.uint8),
            )
        )

    def bind(self, planes: Planes) -> None:
        """Compose into ``planes`` (Y ``size x size``, U and V ``size/2`` square; views are fine)."""
        y, u, v = planes
        half = self.size // 2
        if y.shape != (self.size, self.size) or u.shape != (half, half) or v.shape != (half, half):
            raise ValueError(f"planes {y.shape}, {u.shape}, {v.shape} do not fit a {self.size}px frame")
        self._planes = planes
        self._buf_offset: tuple[int, int] | None = None
        self._dirty: list[Rect] = []

    # --- cached layers ------------------------------------------------------------------------------

    def _shifted(self, offset: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = offset
        p, s = self._pad, self.size
        if abs(dx) > p or abs(dy) > p:
            raise ValueError(f"head offset {offset} exceeds the padding of {p} pixels")
        sl = (slice(p - dy, p - dy + s), slice(p - dx, p - dx + s))
        return self._char_rgb[sl], self._char_alpha[sl]

    @staticmethod
    def _cached(cache: OrderedDict[tuple[int, int], Planes], key: tuple[int, int]) -> Planes | None:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
        return value

    def _store(
        self, cache: OrderedDict[tuple[int, int], Planes], key: tuple[int, int], value: Planes
    ) -> None:
        cache[key] = value
        capacity = max(4, min(_BASE_CACHE, _BASE_CACHE_BYTES // (self.size * self.size * 3 // 2)))
        while len(cache) > capacity:
            cache.popitem(last=False)

    def base(self, offset: tuple[int, int]) -> Planes:
        """The full frame with open eyes and a closed mouth at head ``offset`` (cached)."""
        cached = self._cached(self._bases, offset)
        if cached is not None:
            return cached
        rgb, alpha = self._shifted(offset)
        planes = rgb_to_yuv420(rgb + self._bg * (1 - alpha[..., None]))
        self._store(self._bases, offset, planes)
        return planes

    def mask(self, offset: tuple[int, int]) -> Planes:
        """The alpha mask frame at ``offset``: grey (limited-range luma), neutral chroma (cached)."""
        cached = self._cached(self._masks, offset)
        if cached is not None:
            return cached
        _, alpha = self._shifted(offset)
        y = np.clip(16 + 219 * alpha + 0.5, 0, 255).astype(np.uint8)
        planes = (y, self._grey, self._grey)
        self._store(self._masks, offset, planes)
        return planes

    def _patch(self, rect: Rect, eye: float, mouth: tuple[str, float], gaze: float = 0.0) -> _Patch:
        rgb, alpha = draw_character(
            self.character, self.size, eye_open=eye, mouth=mouth, region=rect, gaze=gaze
        )
        y, u, v = rgb_to_yuv420(rgb)
        opaque: np.ndarray = alpha > 0.999
        h, w = opaque.shape
        copaque = np.all(opaque.reshape(h // 2, 2, w // 2, 2), axis=(1, 3)).astype(bool)
        return _Patch(rect, y, u, v, None if opaque.all() else opaque, None if copaque.all() else copaque)

    def eye_patches(self, level: float, gaze: float = 0.0) -> list[_Patch]:
        key = (level, gaze)
        if key not in self._eyes:
            self._eyes[key] = [self._patch(r, level, ("X", 0.0), gaze) for r in self.layout.eye_rects]
        return self._eyes[key]

    def mouth_patch(self, key: tuple[str, int]) -> _Patch:
        if key not in self._mouths:
            shape, step = key
            self._mouths[key] = self._patch(self.layout.mouth_rect, 1.0, (shape, step / MOUTH_STEPS))
        return self._mouths[key]

    # --- per frame ----------------------------------------------------------------------------------

    def _paste(self, patch: _Patch, offset: tuple[int, int]) -> None:
        x0, y0, x1, y1 = patch.rect
        dx, dy = offset
        ys, xs = slice(y0 + dy, y1 + dy), slice(x0 + dx, x1 + dx)
        cys, cxs = slice((y0 + dy) // 2, (y1 + dy) // 2), slice((x0 + dx) // 2, (x1 + dx) // 2)
        yp, up, vp = self._planes
        if patch.ymask is None:
            yp[ys, xs] = patch.y
        else:
            np.copyto(yp[ys, xs], patch.y, where=patch.ymask)
        if patch.cmask is None:
            up[cys, cxs] = patch.u
            vp[cys, cxs] = patch.v
        else:
            np.copyto(up[cys, cxs], patch.u, where=patch.cmask)
            np.copyto(vp[cys, cxs], patch.v, where=patch.cmask)
        self._dirty.append((x0 + dx, y0 + dy, x1 + dx, y1 + dy))

    def _restore(self, base: Planes) -> None:
        by, bu, bv = base
        yp, up, vp = self._planes
        for x0, y0, x1, y1 in self._dirty:
            yp[y0:y1, x0:x1] = by[y0:y1, x0:x1]
            up[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = bu[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
            vp[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = bv[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        self._dirty.clear()

    def frame(self, offset: tuple[int, int], eye: float, mouth: tuple[str, int], gaze: float = 0.0) -> Planes:
        """Compose a frame into the bound planes and return them (valid until the next call).

        Only what changed is written: the whole frame when the head moved, else the patch rectangles
        of the previous frame are restored from the base and this frame's patches pasted.
        """
        base = self.base(offset)
        if offset != self._buf_offset:
            for dst, src in zip(self._planes, base, strict=True):
                dst[...] = src
            self._dirty.clear()
            self._buf_offset = offset
        else:
            self._restore(base)
        if eye != 1.0 or gaze != 0.0:
            for patch in self.eye_patches(eye, gaze):
                self._paste(patch, offset)
        if mouth != ("X", 0):
            self._paste(self.mouth_patch(mouth), offset)
        return self._planes

    def rgb_preview(self) -> np.ndarray:
        """The neutral pose as uint8 RGB (for preview PNGs): background, open eyes, closed mouth."""
        rgb, alpha = self._shifted((0, 0))
        out = rgb + self._bg * (1 - alpha[..., None])
        return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
