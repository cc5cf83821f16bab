"""Per-frame composition, directly in yuv420p planes.

A frame is the base image (``layers.py``) for the current head offset with at most three small patches
pasted in, and only the rectangles that changed since the previous frame are touched. No RGB->YUV
conversion happens per frame, which is what keeps the compositor far below the encoder's cost (see
``benchmarks/render.py``).

Head motion is whole-layer integer shifts by even pixel steps (``motion.py``), so chroma stays aligned
and frames between moves are bit-identical, which the encoder codes almost for free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .layers import Layers

if TYPE_CHECKING:
    from .characters import Character
    from .layers import LayerCache, Patch
    from .types import Rect
    from .yuv import Planes

__all__ = ["Compositor"]


class Compositor:
    """Builds yuv420p frames for one character at one size. One per render; not for sharing between threads.

    Frames are composed into three plane arrays: by default its own, or, after ``bind``, the planes of
    the encoder's frame, so a composed frame reaches the encoder without any copy. The drawn layers
    come from ``layer_cache`` (the render worker's) when given, else are drawn for this compositor.

    Example::

        comp = Compositor(character, 512, LayerCache())
        y, u, v = comp.frame((0, 0), eye=1.0, mouth=("C", 3))  # valid until the next call
    """

    def __init__(self, character: Character, size: int, layer_cache: LayerCache | None = None) -> None:
        self.character = character
        self.size = size
        self.layers: Layers = (
            layer_cache.get(character, size) if layer_cache is not None else Layers(character, size)
        )
        self.layout = self.layers.layout
        half = size // 2
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

    def base(self, offset: tuple[int, int]) -> Planes:
        """The full frame with open eyes and a closed mouth at head ``offset`` (read-only, shared)."""
        return self.layers.base(offset)

    def mask(self, offset: tuple[int, int]) -> Planes:
        """The alpha mask frame at ``offset``: grey (limited-range luma), neutral chroma (read-only)."""
        return self.layers.mask(offset)

    # --- per frame ----------------------------------------------------------------------------------

    def _paste(self, patch: Patch, offset: tuple[int, int]) -> None:
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
        base = self.layers.base(offset)
        if offset != self._buf_offset:
            for dst, src in zip(self._planes, base, strict=True):
                dst[...] = src
            self._dirty.clear()
            self._buf_offset = offset
        else:
            self._restore(base)
        if eye != 1.0 or gaze != 0.0:
            for patch in self.layers.eye_patches(eye, gaze):
                self._paste(patch, offset)
        if mouth != ("X", 0):
            self._paste(self.layers.mouth_patch(mouth), offset)
        return self._planes

    def rgb_preview(self) -> np.ndarray:
        """The neutral pose as uint8 RGB (for preview PNGs): background, open eyes, closed mouth."""
        rgb, alpha = self.layers.shifted((0, 0))
        out = rgb + self.layers.background * (1 - alpha[..., None])
        return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
