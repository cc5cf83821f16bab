from __future__ import annotations

import numpy as np
import pytest

from reference_renderer import SHAPES, load_characters
from reference_renderer.draw import MOUTH_POSES, draw_background, draw_character, layout, mouth_params


@pytest.fixture(scope="module")
def eva():
    return load_characters()["eva_a0008"]


def test_edges_are_anti_aliased(eva) -> None:
    _, alpha = draw_character(eva, 256)
    partial = (alpha > 0.02) & (alpha < 0.98)
    assert 0 < partial.mean() < 0.05  # a thin rim of partial coverage, not a hard mask
    assert alpha.max() == pytest.approx(1.0)
    assert alpha[0, 0] == 0.0  # corners are background


@pytest.mark.parametrize("size", [64, 256, 512, 1024])
def test_layout_rects_are_even_inside_the_frame_and_disjoint(eva, size: int) -> None:
    lay = layout(eva, size)
    rects = [*lay.eye_rects, lay.mouth_rect]
    for x0, y0, x1, y1 in rects:
        assert all(v % 2 == 0 for v in (x0, y0, x1, y1))
        assert 0 <= x0 < x1 <= size
        assert 0 <= y0 < y1 <= size
    (_ax0, _ay0, ax1, ay1), (bx0, _by0, _bx1, by1) = lay.eye_rects
    assert ax1 <= bx0
    assert max(ay1, by1) <= lay.mouth_rect[1]


def test_region_render_matches_full_render(eva) -> None:
    rgb, alpha = draw_character(eva, 256, eye_open=0.5, mouth=("D", 0.8))
    x0, y0, x1, y1 = layout(eva, 256).mouth_rect
    part_rgb, part_alpha = draw_character(eva, 256, eye_open=0.5, mouth=("D", 0.8), region=(x0, y0, x1, y1))
    np.testing.assert_allclose(part_rgb, rgb[y0:y1, x0:x1], atol=1e-5)
    np.testing.assert_allclose(part_alpha, alpha[y0:y1, x0:x1], atol=1e-5)


def test_every_shape_draws_differently_inside_the_mouth_rect(eva) -> None:
    x0, y0, x1, y1 = layout(eva, 128).mouth_rect
    images = {s: draw_character(eva, 128, mouth=(s, 0.7), region=(x0, y0, x1, y1))[0] for s in SHAPES}
    for a in SHAPES:
        for b in SHAPES:
            if a < b:
                assert np.abs(images[a] - images[b]).max() > 0.1, (a, b)


def test_open_mouth_is_darker_than_closed(eva) -> None:
    rect = layout(eva, 128).mouth_rect
    closed = draw_character(eva, 128, mouth=("X", 0.0), region=rect)[0].mean()
    wide = draw_character(eva, 128, mouth=("D", 1.0), region=rect)[0].mean()
    assert wide < closed


def test_blink_closes_the_eye(eva) -> None:
    rect = layout(eva, 256).eye_rects[0]
    opened = draw_character(eva, 256, eye_open=1.0, region=rect)[0]
    closed = draw_character(eva, 256, eye_open=0.0, region=rect)[0]
    white = (opened.min(axis=2) > 0.9).sum()
    assert white > 20
    assert (closed.min(axis=2) > 0.9).sum() < white / 4


def test_background_is_opaque_rgb(eva) -> None:
    bg = draw_background(eva, 64)
    assert bg.shape == (64, 64, 3)
    assert bg.min() >= 0.0
    assert bg.max() <= 1.0


def test_mouth_poses_cover_every_shape_and_are_read_only() -> None:
    assert set(MOUTH_POSES) == set(SHAPES)
    with pytest.raises(TypeError):
        MOUTH_POSES["X"] = MOUTH_POSES["A"]  # type: ignore[index]
    assert mouth_params("X", 1.0)[1] == mouth_params("A", 1.0)[1] == 0.0  # closed shapes stay closed
    assert mouth_params("D", 1.0)[1] > mouth_params("D", 0.0)[1] > mouth_params("C", 0.0)[1]
    assert mouth_params("D", 3.0) == mouth_params("D", 1.0)  # openness is clipped to 0..1


def test_unknown_mouth_shape_is_named() -> None:
    with pytest.raises(ValueError, match="unknown mouth shape 'Q'; expected one of X, A, B"):
        mouth_params("Q", 0.5)


def test_layout_scales_with_the_size(eva) -> None:
    small, large = layout(eva, 256), layout(eva, 512)
    assert (small.u, large.u) == (0.5, 1.0)
    assert large.shoulder_y == pytest.approx(2 * small.shoulder_y)
    assert large.eye_x(-1) < large.cx < large.eye_x(1)
    assert large.eye_x(1) - large.cx == pytest.approx(large.eye_dx)
