"""Signed-distance shapes and an anti-aliased canvas: the drawing primitives of ``draw.py``.

A shape is a function ``(x, y) -> d`` over pixel-centre coordinate arrays, ``d`` in pixels, negative
inside. ``Canvas.fill`` turns it into one-pixel anti-aliased coverage (``clip(0.5 - d, 0, 1)``) and
composites a colour over premultiplied RGBA, evaluating only the shape's bounding box.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .types import Rect, Rgb

__all__ = [
    "Canvas",
    "Sdf",
    "below",
    "circle",
    "curve",
    "ellipse",
    "flat",
    "inter",
    "minus",
    "mix",
    "outside_x",
    "rounded_box",
    "shade",
    "stroke",
    "triangle",
    "union",
]

Sdf = Callable[[np.ndarray, np.ndarray], np.ndarray]


def ellipse(cx: float, cy: float, rx: float, ry: float) -> Sdf:
    def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px, py = (x - cx) / rx, (y - cy) / ry
        k0 = np.sqrt(px * px + py * py)
        k1 = np.sqrt((px / rx) ** 2 + (py / ry) ** 2)
        return k0 * (k0 - 1) / np.maximum(k1, 1e-6)

    return f


def circle(cx: float, cy: float, r: float) -> Sdf:
    return lambda x, y: np.hypot(x - cx, y - cy) - r


def rounded_box(cx: float, cy: float, hw: float, hh: float, r: float = 0.0) -> Sdf:
    def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        qx = np.abs(x - cx) - hw + r
        qy = np.abs(y - cy) - hh + r
        outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
        return outside + np.minimum(np.maximum(qx, qy), 0) - r

    return f


def curve(
    fy: Callable[[np.ndarray], np.ndarray],
    x0: float,
    x1: float,
    thick: Callable[[np.ndarray], np.ndarray] | float,
) -> Sdf:
    """A stroke along ``y = fy(x)`` for ``x0 <= x <= x1`` with (possibly varying) thickness."""

    def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        yc = fy(x)
        slope = np.gradient(yc, axis=1) if yc.ndim == 2 and yc.shape[1] > 1 else 0.0
        t = thick(x) if callable(thick) else thick
        d = np.abs(y - yc) / np.sqrt(1 + slope * slope) - t / 2
        cap = np.maximum(x0 - x, x - x1)
        return np.maximum(d, cap)

    return f


def below(fy: Callable[[np.ndarray], np.ndarray]) -> Sdf:
    """Inside where ``y < fy(x)`` (a region above a curve)."""

    def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        yc = fy(x)
        slope = np.gradient(yc, axis=1) if yc.ndim == 2 and yc.shape[1] > 1 else 0.0
        return (y - yc) / np.sqrt(1 + slope * slope)

    return f


def triangle(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float]) -> Sdf:
    """Exact signed distance to a triangle (after Inigo Quilez)."""
    pts = [np.asarray(p, np.float32) for p in (p0, p1, p2)]
    edges = [pts[1] - pts[0], pts[2] - pts[1], pts[0] - pts[2]]
    sgn = np.sign(edges[0][0] * edges[2][1] - edges[0][1] * edges[2][0])

    def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        dist = np.full(x.shape, np.inf, np.float32)
        inside = np.full(x.shape, np.inf, np.float32)
        for p, e in zip(pts, edges, strict=True):
            vx, vy = x - p[0], y - p[1]
            t = np.clip((vx * e[0] + vy * e[1]) / float(e @ e), 0, 1)
            qx, qy = vx - e[0] * t, vy - e[1] * t
            d2 = qx * qx + qy * qy
            side = sgn * (vx * e[1] - vy * e[0])
            dist = np.minimum(dist, d2)
            inside = np.minimum(inside, side)
        return -np.sqrt(dist) * np.sign(inside)

    return f


def stroke(f: Sdf, width: float) -> Sdf:
    """The outline of shape ``f``, ``width`` pixels wide, centred on its edge."""
    return lambda x, y: np.abs(f(x, y)) - width / 2


def outside_x(cx: float, dist: float, side: int) -> Sdf:
    """Inside where ``x`` is beyond ``cx + side * dist`` (on the ``side`` of the face)."""
    return lambda x, y: side * (cx - x) + dist


def flat(level: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.full_like(x, level)


def union(*fs: Sdf) -> Sdf:
    return lambda x, y: np.minimum.reduce([f(x, y) for f in fs])


def inter(*fs: Sdf) -> Sdf:
    return lambda x, y: np.maximum.reduce([f(x, y) for f in fs])


def minus(f: Sdf, g: Sdf) -> Sdf:
    return lambda x, y: np.maximum(f(x, y), -g(x, y))


def shade(c: Rgb, k: float) -> Rgb:
    return (min(1.0, c[0] * k), min(1.0, c[1] * k), min(1.0, c[2] * k))


def mix(c: Rgb, d: Rgb, t: float) -> Rgb:
    return (c[0] + (d[0] - c[0]) * t, c[1] + (d[1] - c[1]) * t, c[2] + (d[2] - c[2]) * t)


class Canvas:
    """Premultiplied RGBA for one rectangle of the scene; shapes composite 'over' it in order."""

    def __init__(self, size: int, region: Rect | None) -> None:
        self.size = size
        self.x0, self.y0, self.x1, self.y1 = region or (0, 0, size, size)
        h, w = self.y1 - self.y0, self.x1 - self.x0
        self.rgb = np.zeros((h, w, 3), np.float32)
        self.alpha = np.zeros((h, w), np.float32)

    def fill(
        self,
        sdf: Sdf,
        bbox: tuple[float, float, float, float],
        colour: Rgb | Callable[[np.ndarray, np.ndarray], np.ndarray],
        opacity: float = 1.0,
        soft: float = 1.0,
    ) -> None:
        """Composite ``colour`` where ``sdf < 0``; ``soft`` widens the edge (pixels) for glows."""
        bx0 = max(self.x0, int(np.floor(bbox[0])) - 2)
        by0 = max(self.y0, int(np.floor(bbox[1])) - 2)
        bx1 = min(self.x1, int(np.ceil(bbox[2])) + 2)
        by1 = min(self.y1, int(np.ceil(bbox[3])) + 2)
        if bx0 >= bx1 or by0 >= by1 or opacity <= 0:
            return
        ys = np.arange(by0, by1, dtype=np.float32)[:, None] + 0.5
        xs = np.arange(bx0, bx1, dtype=np.float32)[None, :] + 0.5
        x, y = np.broadcast_to(xs, (by1 - by0, bx1 - bx0)), np.broadcast_to(ys, (by1 - by0, bx1 - bx0))
        cov = np.clip(0.5 - sdf(x, y) / soft, 0.0, 1.0) * opacity
        if not cov.any():
            return
        col = colour(x, y) if callable(colour) else np.asarray(colour, np.float32)
        sl = (slice(by0 - self.y0, by1 - self.y0), slice(bx0 - self.x0, bx1 - self.x0))
        c = cov[..., None]
        self.rgb[sl] = self.rgb[sl] * (1 - c) + col * c
        self.alpha[sl] = self.alpha[sl] + cov * (1 - self.alpha[sl])
