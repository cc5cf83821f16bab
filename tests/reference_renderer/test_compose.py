from __future__ import annotations

import numpy as np
import pytest

from reference_renderer import load_characters
from reference_renderer.compose import (
    EYE_LEVELS,
    Compositor,
    blink_levels,
    gaze_directions,
    head_offsets,
    mouth_key,
    rgb_to_yuv420,
)
from reference_renderer.draw import draw_background, draw_character


@pytest.mark.parametrize(
    ("rgb", "yuv"),
    [
        ((0, 0, 0), (16, 128, 128)),
        ((1, 1, 1), (235, 128, 128)),
        ((1, 0, 0), (63, 102, 240)),
        ((0, 0, 1), (32, 240, 118)),
    ],
)
def test_bt709_limited_range(rgb, yuv) -> None:
    img = np.broadcast_to(np.asarray(rgb, np.float32), (2, 2, 3))
    y, u, v = rgb_to_yuv420(img)
    assert (int(y[0, 0]), int(u[0, 0]), int(v[0, 0])) == yuv


def test_blinks_are_natural_and_deterministic() -> None:
    eyes = blink_levels(25 * 60, 25, seed=42)
    np.testing.assert_array_equal(eyes, blink_levels(25 * 60, 25, seed=42))
    assert set(np.unique(eyes)) <= set(EYE_LEVELS)
    starts = np.flatnonzero((eyes[1:] < 1) & (eyes[:-1] == 1))
    assert 8 <= len(starts) <= 35  # one blink every 2-5.5 s (a few doubles)
    assert (eyes == 0).any()
    assert not np.array_equal(eyes, blink_levels(25 * 60, 25, seed=43))


def test_eyes_glance_aside_now_and_then() -> None:
    gaze = gaze_directions(25 * 60, 25, seed=3)
    np.testing.assert_array_equal(gaze, gaze_directions(25 * 60, 25, seed=3))
    assert set(np.unique(gaze)) <= {-1.0, 0.0, 1.0}
    assert 0.05 < (gaze != 0).mean() < 0.4  # mostly looking at the viewer
    assert (gaze == -1).any()
    assert (gaze == 1).any()


def test_head_moves_in_small_even_steps() -> None:
    offsets = head_offsets(1500, 25, seed=1, size=512)
    assert (offsets % 2 == 0).all()
    assert np.abs(offsets[:, 0]).max() <= 4
    assert np.abs(offsets[:, 1]).max() <= 2
    steps = np.abs(np.diff(offsets, axis=0))
    assert steps.max() <= 2
    assert 0.02 < (steps.sum(axis=1) > 0).mean() < 0.25  # moves now and then, mostly still
    np.testing.assert_array_equal(offsets, head_offsets(1500, 25, seed=1, size=512))


@pytest.mark.parametrize("offset", [(0, 0), (4, -2), (-4, 2)])
@pytest.mark.parametrize(
    ("eye", "mouth", "gaze"),
    [(1.0, ("X", 0.0), 0.0), (0.0, ("D", 1.0), 0.0), (0.5, ("F", 0.5), 1.0), (1.0, ("B", 0.3), -1.0)],
)
def test_composed_frame_equals_a_full_redraw(offset, eye, mouth, gaze) -> None:
    """Patches pasted on the cached base give the same picture as drawing the whole frame."""
    ch = load_characters()["ines_f0405"]
    size = 128
    comp = Compositor(ch, size)
    comp.frame((0, 0), 1.0, ("X", 0))  # a previous frame, so restoring is exercised too
    key = mouth_key(*mouth)
    y, u, v = comp.frame(offset, eye, key, gaze)
    rgb, alpha = draw_character(ch, size, eye_open=eye, mouth=(key[0], key[1] / 6), gaze=gaze)
    p = 8
    rgb = np.pad(rgb, ((p, p), (p, p), (0, 0)), mode="edge")
    alpha = np.pad(alpha, p, mode="edge")
    dx, dy = offset
    sl = (slice(p - dy, p - dy + size), slice(p - dx, p - dx + size))
    expected = rgb_to_yuv420(rgb[sl] + draw_background(ch, size) * (1 - alpha[sl][..., None]))
    for got, want in zip((y, u, v), expected, strict=True):
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_frames_restore_what_the_previous_frame_changed() -> None:
    comp = Compositor(load_characters()["eva_a0008"], 96)
    first = [p.copy() for p in comp.frame((0, 0), 1.0, ("X", 0))]
    comp.frame((0, 0), 0.0, ("D", 6))
    again = comp.frame((0, 0), 1.0, ("X", 0))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mask_is_the_alpha_as_grey() -> None:
    comp = Compositor(load_characters()["eva_a0008"], 64)
    y, u, v = comp.mask((0, 0))
    assert y[0, 0] == 16
    assert y[40, 32] == 235
    assert (u == 128).all()
    assert (v == 128).all()


def test_bind_rejects_wrong_planes() -> None:
    comp = Compositor(load_characters()["eva_a0008"], 64)
    with pytest.raises(ValueError, match="do not fit a 64px frame"):
        comp.bind((np.zeros((64, 64), np.uint8), np.zeros((16, 16), np.uint8), np.zeros((32, 32), np.uint8)))
