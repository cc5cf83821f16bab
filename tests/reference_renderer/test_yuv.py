from __future__ import annotations

import numpy as np
import pytest

from reference_renderer.yuv import planes_to_array, rgb_to_yuv420


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


def test_chroma_is_the_average_of_each_2x2_block() -> None:
    img = np.zeros((2, 4, 3), np.float32)
    img[:, :2] = (1, 0, 0)  # left block red, right block black
    img[0, 2] = (0, 0, 1)  # one blue pixel in the right block
    y, u, v = rgb_to_yuv420(img)
    assert y.shape == (2, 4)
    assert u.shape == v.shape == (1, 2)
    assert (int(u[0, 0]), int(v[0, 0])) == (102, 240)
    assert int(u[0, 1]) == round(128 + (240 - 128) / 4)  # a quarter of blue's chroma


def test_planes_to_array_stacks_y_then_u_then_v() -> None:
    y = np.full((4, 4), 1, np.uint8)
    u = np.full((2, 2), 2, np.uint8)
    v = np.full((2, 2), 3, np.uint8)
    arr = planes_to_array((y, u, v))
    assert arr.shape == (6, 4)
    assert arr.ravel().tolist() == [1] * 16 + [2] * 4 + [3] * 4
