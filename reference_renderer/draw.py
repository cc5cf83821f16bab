"""Drawing: a character as anti-aliased signed-distance shapes in numpy, at any size.

Every element is a signed distance field (negative inside, in pixels) evaluated only on its bounding
box; coverage ``clip(0.5 - d, 0, 1)`` gives one-pixel anti-aliased edges without supersampling.
Geometry is designed on a 512-pixel canvas and scaled, so every size looks the same.

``draw_character`` can render any rectangle of the scene on its own (``region``), with the same
layering as the full picture. That is how the compositor gets exact patches for the eyes (open, half,
closed) and every mouth shape: each patch is the scene itself, so it matches the full frame pixel for
pixel and can be pasted without seams.

Output is premultiplied RGBA in float32 (``rgb`` already multiplied by ``alpha``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from .sdf import (
    Canvas,
    below,
    circle,
    curve,
    ellipse,
    flat,
    inter,
    minus,
    mix,
    outside_x,
    rounded_box,
    shade,
    stroke,
    triangle,
    union,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .characters import Character
    from .types import Rect, Rgb

__all__ = [
    "MOUTH_POSES",
    "Layout",
    "MouthPose",
    "draw_background",
    "draw_character",
    "layout",
    "mouth_params",
]

_MOUTH_INNER = (0.22, 0.05, 0.07)
_TEETH = (0.97, 0.96, 0.93)
_TONGUE = (0.85, 0.40, 0.42)
_EYE_WHITE = (0.98, 0.98, 0.97)
_LINE = (0.16, 0.10, 0.09)


@dataclass(frozen=True, slots=True)
class Layout:
    """Pixel geometry of a character at one size: head, eyes, mouth and the patch rectangles."""

    size: int
    cx: float
    cy: float
    a: float  # face half-width
    b: float  # face half-height
    eye_dx: float
    eye_y: float
    eye_w: float
    eye_h: float
    mouth_y: float
    mouth_w: float  # half-width of the neutral mouth
    eye_rects: tuple[Rect, Rect]
    mouth_rect: Rect

    @property
    def u(self) -> float:
        """Pixels per design unit: geometry is designed on a 512-pixel canvas."""
        return self.size / 512

    @property
    def shoulder_y(self) -> float:
        return self.cy + 1.32 * self.b

    def eye_x(self, side: int) -> float:
        """Centre of the eye on ``side`` (-1 viewer's left, 1 right)."""
        return self.cx + side * self.eye_dx


def _even_rect(x0: float, y0: float, x1: float, y1: float, size: int) -> Rect:
    r = (
        int(np.floor(x0 / 2)) * 2,
        int(np.floor(y0 / 2)) * 2,
        int(np.ceil(x1 / 2)) * 2,
        int(np.ceil(y1 / 2)) * 2,
    )
    return (max(0, r[0]), max(0, r[1]), min(size, r[2]), min(size, r[3]))


def layout(ch: Character, size: int) -> Layout:
    """Where the parts of ``ch`` sit on a ``size`` canvas (pure; cheap)."""
    u = size / 512
    a, b = 86 * u * ch.face_width, 110 * u * ch.face_height
    cx, cy = size / 2, 214 * u
    eye_w, eye_h = 0.21 * a, (0.125 if ch.gender == "female" else 0.11) * b
    eye_dx, eye_y = 0.40 * a, cy + 0.04 * b
    mouth_y, mouth_w = cy + 0.60 * b, 0.30 * a
    ex = eye_w * 1.25 + 2 * u
    eye_rects = tuple(
        _even_rect(x - ex, eye_y - eye_h * 1.15 - 2 * u, x + ex, eye_y + eye_h * 1.15 + 2 * u, size)
        for x in (cx - eye_dx, cx + eye_dx)
    )
    mx = mouth_w * 1.25 + 3 * u
    mouth_rect = _even_rect(cx - mx, mouth_y - 0.2 * b, cx + mx, mouth_y + 0.3 * b, size)
    return Layout(size, cx, cy, a, b, eye_dx, eye_y, eye_w, eye_h, mouth_y, mouth_w, eye_rects, mouth_rect)  # type: ignore[arg-type]


def draw_background(ch: Character, size: int) -> np.ndarray:
    """The static backdrop: a vertical gradient with a soft light halo behind the head (RGB float)."""
    lay = layout(ch, size)
    t = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    top, bottom = np.asarray(ch.background_top, np.float32), np.asarray(ch.background_bottom, np.float32)
    rgb = np.broadcast_to(top * (1 - t) + bottom * t, (size, size, 3)).copy()
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    r = np.hypot(xx - lay.cx, (yy - lay.cy) * 0.9) / (size * 0.42)
    halo = np.clip(1 - r, 0, 1) ** 2 * 0.35
    rgb = rgb * (1 - halo[..., None]) + halo[..., None]
    # A few large soft discs, placed from the character's seed, so backgrounds are not flat.
    rng = np.random.default_rng(ch.seed)
    for _ in range(5):
        px, py, pr = rng.uniform(0, size), rng.uniform(0, size * 0.8), rng.uniform(0.05, 0.12) * size
        disc = np.clip((pr - np.hypot(xx - px, yy - py)) / (pr * 0.5), 0, 1) * 0.12
        rgb = rgb * (1 - disc[..., None]) + disc[..., None]
    return np.clip(rgb, 0, 1).astype(np.float32)


@dataclass(frozen=True, slots=True)
class MouthPose:
    """How one Rhubarb shape is drawn: widths and thicknesses relative to the neutral mouth.

    ``opening`` (x face half-height) grows from ``opening`` at openness 0 by ``opening_gain`` at 1;
    closed shapes (X, A) have both 0.
    """

    width: float
    opening: float
    opening_gain: float
    lip: float
    upper_teeth: bool
    lower_teeth: bool
    tongue: bool

    def opening_at(self, openness: float) -> float:
        return self.opening + self.opening_gain * float(np.clip(openness, 0, 1))


#: The numbers follow Rhubarb's drawings: B shows clenched teeth, C and D open progressively wider,
#: E is a rounded open mouth, F a small pucker. Built once; read-only.
MOUTH_POSES: Mapping[str, MouthPose] = MappingProxyType(
    {
        "X": MouthPose(1.0, 0.0, 0.0, 1.0, upper_teeth=False, lower_teeth=False, tongue=False),
        "A": MouthPose(0.92, 0.0, 0.0, 1.25, upper_teeth=False, lower_teeth=False, tongue=False),
        "B": MouthPose(0.95, 0.055, 0.03, 1.0, upper_teeth=True, lower_teeth=True, tongue=False),
        "C": MouthPose(1.0, 0.09, 0.09, 1.0, upper_teeth=True, lower_teeth=False, tongue=True),
        "D": MouthPose(1.08, 0.14, 0.11, 1.0, upper_teeth=True, lower_teeth=False, tongue=True),
        "E": MouthPose(0.74, 0.09, 0.08, 1.25, upper_teeth=False, lower_teeth=False, tongue=True),
        "F": MouthPose(0.52, 0.05, 0.04, 1.6, upper_teeth=False, lower_teeth=False, tongue=False),
    }
)


def mouth_params(shape: str, openness: float) -> tuple[float, float, float, bool, bool, bool]:
    """``(width_scale, opening (x face half-height), lip thickness scale, upper teeth, lower teeth, tongue)``
    for ``shape`` at ``openness`` (0..1), from ``MOUTH_POSES``."""
    try:
        pose = MOUTH_POSES[shape]
    except KeyError:
        raise ValueError(f"unknown mouth shape {shape!r}; expected one of {', '.join(MOUTH_POSES)}") from None
    return (pose.width, pose.opening_at(openness), pose.lip, pose.upper_teeth, pose.lower_teeth, pose.tongue)


def draw_character(
    ch: Character,
    size: int,
    eye_open: float = 1.0,
    mouth: tuple[str, float] = ("X", 0.0),
    region: Rect | None = None,
    gaze: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``ch`` (premultiplied ``rgb`` HxWx3 and ``alpha`` HxW float32) for ``region`` only.

    ``eye_open`` is 1 (open) .. 0 (closed); ``mouth`` is ``(shape, openness)``; ``gaze`` moves the
    irises sideways, -1 (viewer's left) .. 1 (right).
    """
    cv = Canvas(size, region)
    lay = layout(ch, size)
    _back_hair(cv, ch, lay)
    _neck(cv, ch, lay)
    _clothes(cv, ch, lay)
    _ears(cv, ch, lay)
    _face(cv, ch, lay)
    _nose(cv, ch, lay)
    _mouth(cv, ch, lay, mouth)
    for side in (-1, 1):
        _eye(cv, ch, lay, side, eye_open, gaze)
    _front_hair(cv, ch, lay)
    for side in (-1, 1):
        _brow(cv, ch, lay, side)
    if ch.glasses is not None:
        _glasses(cv, ch, lay, ch.glasses)
    return cv.rgb, cv.alpha


def _neck(cv: Canvas, ch: Character, lay: Layout) -> None:
    cx, cy, a, b, u = lay.cx, lay.cy, lay.a, lay.b, lay.u
    neck = rounded_box(cx, cy + 1.05 * b, 0.36 * a, 0.55 * b, 0.1 * a)
    cv.fill(neck, (cx - a, cy + 0.4 * b, cx + a, lay.shoulder_y + 0.5 * b), shade(ch.skin, 0.88))
    cv.fill(
        inter(ellipse(cx, cy + 0.80 * b, 0.6 * a, 0.3 * b), neck),
        (cx - a, cy + 0.5 * b, cx + a, cy + 1.2 * b),
        shade(ch.skin, 0.7),
        opacity=0.55,
        soft=6 * u,
    )


def _ears(cv: Canvas, ch: Character, lay: Layout) -> None:
    cx, cy, a, b, u = lay.cx, lay.cy, lay.a, lay.b, lay.u
    for side in (-1, 1):
        ex = cx + side * a * 0.96
        cv.fill(
            ellipse(ex, cy + 0.08 * b, 0.17 * a, 0.25 * b),
            (ex - a * 0.2, cy - 0.2 * b, ex + a * 0.2, cy + 0.4 * b),
            shade(ch.skin, 0.93),
        )
        cv.fill(
            ellipse(ex + side * 0.02 * a, cy + 0.08 * b, 0.08 * a, 0.15 * b),
            (ex - a * 0.1, cy - 0.1 * b, ex + a * 0.1, cy + 0.3 * b),
            shade(ch.skin, 0.78),
            opacity=0.6,
            soft=2 * u,
        )


def _face(cv: Canvas, ch: Character, lay: Layout) -> None:
    """The face with its shading, then what lies on the skin: blush and beard."""
    cx, cy, a, b, u = lay.cx, lay.cy, lay.a, lay.b, lay.u
    skin = ch.skin

    def face_sdf(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        t = np.clip((y - cy) / b, 0, 1)
        aw = a * (1 - 0.2 * t**1.6)
        return ellipse(cx, cy, 1.0, 1.0)(cx + (x - cx) / aw, cy + (y - cy) / b) * min(a, b)

    def face_colour(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r2 = ((x - cx) / a) ** 2 + ((y - cy - 0.1 * b) / (1.1 * b)) ** 2
        k = (1.03 - 0.12 * np.clip(r2, 0, 1))[..., None]
        return np.clip(np.asarray(skin, np.float32) * k, 0, 1)

    fbox = (cx - a, cy - b, cx + a, cy + b)
    cv.fill(face_sdf, fbox, face_colour)
    if ch.blush > 0:
        for side in (-1, 1):
            bx = cx + side * 0.55 * a
            cv.fill(
                ellipse(bx, cy + 0.36 * b, 0.2 * a, 0.1 * b),
                (bx - 0.4 * a, cy + 0.1 * b, bx + 0.4 * a, cy + 0.6 * b),
                (0.93, 0.42, 0.45),
                opacity=0.4 * ch.blush,
                soft=10 * u,
            )
    if ch.beard is not None:
        beard = inter(
            face_sdf,
            minus(
                rounded_box(cx, cy + 0.9 * b, 1.2 * a, 0.52 * b), ellipse(cx, cy + 0.25 * b, 0.8 * a, 0.3 * b)
            ),
        )
        cv.fill(beard, (cx - a, cy + 0.3 * b, cx + a, cy + b), ch.beard, opacity=0.9, soft=2 * u)
        cv.fill(
            ellipse(cx, lay.mouth_y - 0.1 * b, 0.42 * a, 0.07 * b),
            (cx - 0.5 * a, lay.mouth_y - 0.2 * b, cx + 0.5 * a, lay.mouth_y),
            ch.beard,
            soft=1.5 * u,
        )


def _nose(cv: Canvas, ch: Character, lay: Layout) -> None:
    """A small shadowed curve and a nostril hint."""
    cx, cy, a, b, u = lay.cx, lay.cy, lay.a, lay.b, lay.u
    ny = cy + 0.34 * b
    cv.fill(
        curve(lambda x: ny + 0.035 * b * ((x - cx) / (0.09 * a)) ** 2, cx - 0.1 * a, cx + 0.1 * a, 2.6 * u),
        (cx - 0.12 * a, ny - 0.02 * b, cx + 0.12 * a, ny + 0.06 * b),
        shade(ch.skin, 0.7),
    )
    cv.fill(
        ellipse(cx - 0.03 * a, ny - 0.18 * b, 0.05 * a, 0.14 * b),
        (cx - 0.1 * a, ny - 0.34 * b, cx + 0.05 * a, ny),
        shade(ch.skin, 0.9),
        opacity=0.5,
        soft=4 * u,
    )


def _back_hair(cv: Canvas, ch: Character, lay: Layout) -> None:
    cx, cy, a, b = lay.cx, lay.cy, lay.a, lay.b
    style, col = ch.hair_style, shade(ch.hair_color, 0.8)
    full = (0, 0, lay.size, lay.size)
    if style == "long":
        cv.fill(
            union(
                ellipse(cx, cy - 0.08 * b, 1.24 * a, 1.13 * b),
                rounded_box(cx, cy + 0.95 * b, 1.22 * a, 1.0 * b, 0.45 * a),
            ),
            full,
            col,
        )
    elif style == "bob":
        cv.fill(
            inter(ellipse(cx, cy - 0.05 * b, 1.28 * a, 1.12 * b), lambda x, y: y - (cy + 0.72 * b)),
            full,
            col,
        )
    elif style == "short":
        cv.fill(
            inter(ellipse(cx, cy - 0.12 * b, 1.1 * a, 1.02 * b), lambda x, y: y - (cy + 0.05 * b)),
            full,
            col,
        )
    elif style == "bun":
        cv.fill(circle(cx, cy - 1.12 * b, 0.42 * a), full, col)
        cv.fill(
            inter(ellipse(cx, cy - 0.08 * b, 1.08 * a, 1.06 * b), lambda x, y: y - (cy + 0.2 * b)),
            full,
            col,
        )
    elif style == "curly":
        rng = np.random.default_rng(ch.seed)
        blobs = [ellipse(cx, cy - 0.2 * b, 1.2 * a, 1.0 * b)]
        for ang in np.linspace(np.pi * 0.92, np.pi * 2.08, 15):
            rr = 0.3 * a * rng.uniform(0.85, 1.15)
            blobs.append(circle(cx + 1.18 * a * np.cos(ang), cy - 0.15 * b + 1.08 * b * np.sin(ang), rr))
        cv.fill(inter(union(*blobs), lambda x, y: y - (cy + 0.35 * b)), full, col)
    elif style == "buzz":
        pass  # drawn as a cap in front


def _front_hair(cv: Canvas, ch: Character, lay: Layout) -> None:
    cx, cy, a, b = lay.cx, lay.cy, lay.a, lay.b
    col = ch.hair_color

    def hair_colour(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        k = (1.12 - 0.28 * np.clip((y - (cy - b)) / (1.2 * b), 0, 1))[..., None]
        return np.clip(np.asarray(col, np.float32) * k, 0, 1)

    cap_scale = 1.03 if ch.hair_style == "buzz" else 1.07
    cap = ellipse(cx, cy - 0.05 * b, cap_scale * a, 1.05 * b)
    fringe = {
        "side": lambda x: cy + b * (-0.5 + 0.28 * np.clip((x - cx) / a, -1, 1) - 0.08 * ((x - cx) / a) ** 2),
        "straight": lambda x: cy + b * (-0.36 + 0.06 * ((x - cx) / a) ** 2),
        "part": lambda x: cy + b * (-0.8 + 0.42 * np.abs((x - cx) / a) ** 1.2),
        "none": lambda x: cy + b * (-0.66 + 0.3 * ((x - cx) / a) ** 2),
    }[ch.fringe]
    box = (cx - 1.3 * a, cy - 1.2 * b, cx + 1.3 * a, cy + 0.2 * b)
    cv.fill(
        inter(cap, below(fringe)),
        box,
        col if ch.hair_style == "buzz" else hair_colour,
        opacity=0.75 if ch.hair_style == "buzz" else 1.0,
    )
    if ch.hair_style in ("long", "bob"):
        bottom = cy + (1.5 if ch.hair_style == "long" else 0.72) * b
        for side in (-1, 1):
            lx = cx + side * 1.0 * a
            lock = rounded_box(
                lx, (cy - 0.25 * b + bottom) / 2, 0.24 * a, (bottom - cy + 0.25 * b) / 2, 0.22 * a
            )
            cv.fill(
                inter(lock, outside_x(cx, 0.8 * a, side)),
                (lx - 0.3 * a, cy - 0.4 * b, lx + 0.3 * a, bottom),
                hair_colour,
            )


def _clothes(cv: Canvas, ch: Character, lay: Layout) -> None:
    cx, sy, a, b, u, size = lay.cx, lay.shoulder_y, lay.a, lay.b, lay.u, lay.size
    body = rounded_box(cx, sy + 170 * u, 190 * u, 170 * u, 95 * u)
    col, acc = ch.clothes_color, ch.clothes_accent
    full = (0, sy - 40 * u, size, size)
    style = ch.clothes_style
    if style == "hoodie":
        cv.fill(
            ellipse(cx, sy + 4 * u, 0.95 * a, 0.32 * b),
            (cx - a, sy - 0.4 * b, cx + a, sy + 0.4 * b),
            shade(col, 0.75),
        )
    if style == "v_neck":
        hole = inter(
            below(lambda x: sy + 0.55 * b - 0.75 * b * np.abs(x - cx) / (0.5 * a)),
            lambda x, y: -(y - sy + 0.6 * b),
        )
    else:
        hole = ellipse(cx, sy - 0.02 * b, 0.5 * a, 0.22 * b)
    if style == "turtleneck":
        cv.fill(body, full, col)
        cv.fill(
            rounded_box(cx, sy - 0.12 * b, 0.42 * a, 0.22 * b, 0.12 * a),
            (cx - a, sy - 0.5 * b, cx + a, sy + 0.2 * b),
            shade(col, 1.1),
        )
        for k in (-1, 0, 1):
            ly = sy - 0.12 * b + k * 0.1 * b
            cv.fill(
                curve(flat(ly), cx - 0.36 * a, cx + 0.36 * a, 1.6 * u),
                (cx - 0.4 * a, ly - 4 * u, cx + 0.4 * a, ly + 4 * u),
                shade(col, 0.8),
                opacity=0.7,
            )
        return
    # The skin seen through the neckline, so whatever is behind (long hair) never shows through.
    # It starts a little above the shoulder line, so the neck flares into it instead of leaving a notch.
    cv.fill(inter(lambda x, y: (sy - 0.12 * b) - y, hole), full, shade(ch.skin, 0.88))
    cv.fill(minus(body, hole), full, col)
    trim = inter(body, lambda x, y: np.abs(hole(x, y)) - 3.0 * u)
    cv.fill(trim, full, acc if style != "collar" else shade(col, 0.85))
    if style == "collar":
        for side in (-1, 1):
            tri = triangle(
                (cx + side * 0.05 * a, sy + 0.4 * b),
                (cx + side * 0.3 * a, sy - 0.2 * b),
                (cx + side * 0.72 * a, sy + 0.22 * b),
            )
            cv.fill(tri, (cx - 0.8 * a, sy - 0.3 * b, cx + 0.8 * a, sy + 0.6 * b), acc)
            cv.fill(
                stroke(tri, 1.6 * u),
                (cx - 0.8 * a, sy - 0.3 * b, cx + 0.8 * a, sy + 0.6 * b),
                shade(acc, 0.7),
            )
        for k in range(3):
            cv.fill(
                circle(cx, sy + (0.6 + 0.35 * k) * b, 2.6 * u),
                (cx - 6 * u, sy, cx + 6 * u, size),
                shade(acc, 0.85),
            )
    if style == "hoodie":
        for side in (-1, 1):
            sx = cx + side * 0.3 * a
            cv.fill(
                rounded_box(sx, sy + 0.55 * b, 2.2 * u, 0.35 * b, 2 * u),
                (sx - 6 * u, sy, sx + 6 * u, sy + b),
                acc,
            )


def _eye(cv: Canvas, ch: Character, lay: Layout, side: int, eye_open: float, gaze: float) -> None:
    ex, ey, ew, eh, u = lay.eye_x(side), lay.eye_y, lay.eye_w, lay.eye_h, lay.u
    e = float(np.clip(eye_open, 0, 1))
    box = (ex - ew * 1.3, ey - eh * 1.3, ex + ew * 1.3, ey + eh * 1.3)
    white = ellipse(ex, ey, ew, eh)

    def lid(x: np.ndarray) -> np.ndarray:
        s = np.sqrt(np.clip(1 - ((x - ex) / ew) ** 2, 0, 1))
        return ey + eh * s * (-e + (1 - e) * 0.35)

    if e > 0.05:
        visible = inter(white, lambda x, y: lid(x) - y)
        cv.fill(visible, box, _EYE_WHITE)
        ir = eh * 0.92
        icx = ex + side * -0.04 * ew + float(np.clip(gaze, -1, 1)) * 0.3 * ew
        cv.fill(inter(circle(icx, ey + 0.05 * eh, ir), visible), box, ch.eye_color)
        cv.fill(inter(circle(icx, ey + 0.05 * eh, ir * 0.5), visible), box, (0.05, 0.04, 0.05))
        cv.fill(inter(circle(icx + 0.35 * ir, ey - 0.3 * ir, ir * 0.28), visible), box, (1.0, 1.0, 1.0))
        # Lower-lid hint.
        cv.fill(
            curve(
                lambda x: ey + eh * 0.95 * np.sqrt(np.clip(1 - ((x - ex) / ew) ** 2, 0, 1)),
                ex - 0.7 * ew,
                ex + 0.7 * ew,
                1.2 * u,
            ),
            box,
            shade(ch.skin, 0.75),
            opacity=0.5,
        )
    thick = (3.6 if ch.lashes else 2.6) * u
    cv.fill(
        curve(
            lid,
            ex - ew * 1.02,
            ex + ew * 1.02,
            lambda x: thick * (0.6 + 0.4 * np.sqrt(np.clip(1 - ((x - ex) / ew) ** 2, 0, 1))),
        ),
        box,
        _LINE,
    )
    if ch.lashes and e > 0.05:
        wx = ex + side * ew * 0.95
        wy = lid(np.asarray([[wx]]))[0, 0]
        cv.fill(
            curve(
                lambda x: wy - 0.5 * (x - wx) * side,
                min(wx, wx + side * 0.25 * ew),
                max(wx, wx + side * 0.25 * ew),
                2.2 * u,
            ),
            box,
            _LINE,
        )


def _brow(cv: Canvas, ch: Character, lay: Layout, side: int) -> None:
    ex, u = lay.eye_x(side), lay.u
    by = lay.eye_y - lay.eye_h - 0.13 * lay.b
    bw = 0.26 * lay.a
    t = 4.2 * u * ch.brow_thickness

    def fy(x: np.ndarray) -> np.ndarray:
        q = (x - ex) / bw
        return by - 0.06 * lay.b * (1 - q**2) + side * q * 0.01 * lay.b

    thick = lambda x: t * (1 - 0.45 * np.clip(side * (x - ex) / bw, -1, 1) ** 2 * (side * (x - ex) > 0))  # noqa: E731
    cv.fill(
        curve(fy, ex - bw, ex + bw, thick),
        (ex - bw - 4, by - 0.12 * lay.b, ex + bw + 4, by + 0.05 * lay.b),
        shade(ch.hair_color, 0.75),
    )


def _glasses(cv: Canvas, ch: Character, lay: Layout, frame: Rgb) -> None:
    t = 2.6 * lay.u
    hw, hh = lay.eye_w * 1.45, lay.eye_h * 1.9
    for side in (-1, 1):
        ex = lay.eye_x(side)
        ring = rounded_box(ex, lay.eye_y, hw, hh, hh * 0.6)
        box = (ex - hw - 4, lay.eye_y - hh - 4, ex + hw + 4, lay.eye_y + hh + 4)
        cv.fill(ring, box, (0.85, 0.92, 1.0), opacity=0.12)
        cv.fill(stroke(ring, t), box, frame)
        arm_x0, arm_x1 = sorted((ex + side * hw, lay.cx + side * lay.a * 0.98))
        cv.fill(
            curve(lambda x: lay.eye_y - hh * 0.5 + 0 * x, arm_x0, arm_x1, t),
            (arm_x0, lay.eye_y - hh, arm_x1, lay.eye_y),
            frame,
        )
    bx0, bx1 = lay.cx - lay.eye_dx + hw, lay.cx + lay.eye_dx - hw
    cv.fill(
        curve(
            lambda x: lay.eye_y - hh * 0.3 - 0.1 * hh * (1 - ((x - lay.cx) / max(1.0, (bx1 - bx0) / 2)) ** 2),
            bx0,
            bx1,
            t,
        ),
        (bx0, lay.eye_y - hh, bx1, lay.eye_y),
        frame,
    )


def _mouth(cv: Canvas, ch: Character, lay: Layout, mouth: tuple[str, float]) -> None:
    shape, openness = mouth
    ws, opening, lip_k, upper, lower, tongue = mouth_params(shape, openness)
    cx, my, b, u = lay.cx, lay.mouth_y, lay.b, lay.u
    w = lay.mouth_w * ws
    lips = ch.lips
    box = (cx - w * 1.4, my - 0.3 * b, cx + w * 1.4, my + 0.35 * b)
    lip_t = 0.045 * b * lip_k
    if opening <= 0:
        # Closed: lips as a soft lower-lip shape and a gently smiling line.
        cv.fill(
            ellipse(cx, my + 0.035 * b, w * 0.72, 0.045 * b * lip_k), box, lips, opacity=0.85, soft=1.5 * u
        )
        cv.fill(
            ellipse(cx, my - 0.02 * b, w * 0.8, 0.03 * b * lip_k),
            box,
            shade(lips, 0.9),
            opacity=0.7,
            soft=1.5 * u,
        )
        smile = 0.0 if shape == "A" else 0.03
        cv.fill(
            curve(
                lambda x: my - smile * b * (1 - ((x - cx) / w) ** 2) + smile * b,
                cx - 0.85 * w,
                cx + 0.85 * w,
                lambda x: (2.4 if shape == "A" else 2.0) * u * (1 - 0.5 * ((x - cx) / w) ** 2),
            ),
            box,
            shade(lips, 0.45),
        )
        return
    h = opening * b
    oy = my + h * 0.25  # the jaw drops: the opening grows mostly downwards
    outer = ellipse(cx, oy, w + lip_t * 0.6, h / 2 + lip_t)
    inner = ellipse(cx, oy, w, h / 2)
    cv.fill(outer, box, lips)
    cv.fill(
        ellipse(cx, oy - h / 2 - lip_t * 0.4, w * 0.75, lip_t * 0.5),
        box,
        shade(lips, 0.85),
        opacity=0.6,
        soft=1.5 * u,
    )
    cv.fill(inner, box, _MOUTH_INNER)
    if tongue:
        cv.fill(inter(ellipse(cx, oy + h * 0.42, w * 0.62, h * 0.32), inner), box, _TONGUE)
    if upper:
        depth = h * (0.5 if (upper and lower) else 0.28)
        cv.fill(inter(inner, lambda x, y: y - (oy - h / 2 + depth)), box, _TEETH)
    if lower:
        cv.fill(inter(inner, lambda x, y: (oy + h / 2 - h * 0.42) - y), box, shade(_TEETH, 0.95))
        cv.fill(
            inter(inner, lambda x, y: np.abs(y - oy - h * 0.05) - 0.8 * u),
            box,
            mix(_TEETH, _MOUTH_INNER, 0.5),
        )
    # Corner shading ties the mouth into the face.
    cv.fill(lambda x, y: np.abs(outer(x, y)) - 0.8 * u, box, shade(lips, 0.6), opacity=0.6)
