"""RGB to yuv420p planes (BT.709, limited range), the only colour conversion the renderer does.

It runs once per drawn layer and patch, never per frame: frames are composed from planes already in YUV.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

__all__ = ["Planes", "planes_to_array", "rgb_to_yuv420"]

#: Y (``h x w``), U and V (``h/2 x w/2``) uint8 planes of one yuv420p frame.
Planes: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray]

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


def planes_to_array(planes: Planes) -> np.ndarray:
    """Stack Y, U, V planes into the ``(h*3/2, w)`` array PyAV's ``yuv420p`` ``from_ndarray`` takes."""
    y, u, v = planes
    h, w = y.shape
    return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w)
