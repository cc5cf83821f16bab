from __future__ import annotations

import numpy as np

from reference_renderer.motion import EYE_LEVELS, blink_levels, gaze_directions, head_offsets


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


def test_speaking_moves_the_head_more_often() -> None:
    still = head_offsets(3000, 25, seed=5, size=512, activity=np.zeros(3000, bool))
    talking = head_offsets(3000, 25, seed=5, size=512, activity=np.ones(3000, bool))
    targets = lambda o: (np.abs(np.diff(o, axis=0)).sum(axis=1) > 0).sum()  # noqa: E731
    assert targets(talking) > targets(still)


def test_larger_frames_move_further() -> None:
    small = head_offsets(3000, 25, seed=2, size=128)
    large = head_offsets(3000, 25, seed=2, size=1024)
    assert np.abs(large[:, 0]).max() > np.abs(small[:, 0]).max()
