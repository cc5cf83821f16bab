from __future__ import annotations

import numpy as np
import pytest

from reference_renderer import load_characters
from reference_renderer.compose import Compositor
from reference_renderer.draw import draw_background, draw_character
from reference_renderer.layers import LayerCache, mouth_key
from reference_renderer.yuv import rgb_to_yuv420


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


def test_compositors_sharing_a_cache_keep_their_own_frames() -> None:
    cache = LayerCache()
    ch = load_characters()["eva_a0008"]
    one, two = Compositor(ch, 96, cache), Compositor(ch, 96, cache)
    assert one.layers is two.layers
    neutral = [p.copy() for p in one.frame((0, 0), 1.0, ("X", 0))]
    two.frame((0, 0), 0.0, ("D", 6))
    for got, want in zip(one.frame((0, 0), 1.0, ("X", 0)), neutral, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(two.frame((0, 0), 0.0, ("D", 6))[0], neutral[0])
    np.testing.assert_array_equal(Compositor(ch, 96).frame((0, 0), 1.0, ("X", 0))[0], neutral[0])
