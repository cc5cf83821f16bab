from __future__ import annotations

import numpy as np
import pytest

from reference_renderer.sdf import Canvas, circle, ellipse, inter, minus, rounded_box, stroke, triangle, union


def grid(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    return xs, ys


@pytest.mark.parametrize(
    ("sdf", "inside", "outside"),
    [
        (circle(32, 32, 10), (32, 32), (32, 50)),
        (ellipse(32, 32, 20, 8), (48, 32), (32, 45)),
        (rounded_box(32, 32, 10, 5, 2), (40, 35), (44, 32)),
        (triangle((10, 10), (50, 10), (30, 50)), (30, 20), (10, 50)),
        (union(circle(10, 10, 4), circle(50, 50, 4)), (50, 50), (30, 30)),
        (inter(circle(32, 32, 10), circle(40, 32, 10)), (36, 32), (24, 32)),
        (minus(circle(32, 32, 10), circle(32, 32, 5)), (32, 40), (32, 32)),
        (stroke(circle(32, 32, 10), 2), (42, 32), (32, 32)),
    ],
)
def test_sign_convention(sdf, inside, outside) -> None:
    xs, ys = grid()
    d = sdf(xs, ys)
    assert d[inside[1], inside[0]] < 0 < d[outside[1], outside[0]]


def test_distances_are_in_pixels() -> None:
    xs, ys = grid()
    np.testing.assert_allclose(circle(32.5, 32.5, 10)(xs, ys)[32, 45], 3.0, atol=1e-4)
    np.testing.assert_allclose(ellipse(32.5, 32.5, 10, 10)(xs, ys)[32, 45], 3.0, atol=1e-3)
    np.testing.assert_allclose(triangle((0, 0), (64, 0), (0, 64))(xs, ys)[10, 10], -10.5, atol=1e-4)


def test_canvas_fill_is_anti_aliased_and_premultiplied() -> None:
    cv = Canvas(64, None)
    cv.fill(circle(32, 32, 10.3), (20, 20, 44, 44), (1.0, 0.5, 0.0))
    edge = (cv.alpha > 0) & (cv.alpha < 1)
    assert edge.sum() > 20
    np.testing.assert_allclose(cv.rgb[..., 0], cv.alpha)  # premultiplied: r == alpha for red 1.0
    np.testing.assert_allclose(cv.rgb[..., 1], cv.alpha * 0.5)
    assert cv.alpha[32, 32] == 1.0
    assert cv.alpha[0, 0] == 0.0


def test_canvas_region_is_a_window_on_the_same_picture() -> None:
    full = Canvas(64, None)
    part = Canvas(64, (16, 20, 40, 44))
    for cv in (full, part):
        cv.fill(circle(30, 30, 12), (0, 0, 64, 64), (0.2, 0.4, 0.6))
        cv.fill(ellipse(34, 36, 6, 3), (0, 0, 64, 64), (0.9, 0.1, 0.1), opacity=0.5)
    np.testing.assert_array_equal(part.rgb, full.rgb[20:44, 16:40])
    np.testing.assert_array_equal(part.alpha, full.alpha[20:44, 16:40])
