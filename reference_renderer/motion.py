"""What the character does besides speaking: blinks, glances and small head motion, per frame.

Each generator is a pure function of the frame count, the frame rate and the character's seed (each
with its own salt, so adding one never shifts another), which is what makes renders deterministic.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EYE_LEVELS", "blink_levels", "gaze_directions", "head_offsets"]

#: Eye openness levels ``blink_levels`` uses (the compositor prepares one patch per level): open,
#: half closed, closed.
EYE_LEVELS = (1.0, 0.5, 0.0)


def blink_levels(n: int, fps: int, seed: int) -> np.ndarray:
    """Eye openness per frame: natural blinks every 2-5.5 s (sometimes double), ~160 ms long."""
    eyes = np.ones(n, dtype=np.float32)
    rng = np.random.default_rng([seed, 0xB1])
    half = max(1, round(0.04 * fps))
    closed = max(1, round(0.08 * fps))
    t = rng.uniform(0.8, 2.5)
    while t * fps < n:
        starts = [round(t * fps)]
        if rng.random() < 0.12:  # a quick double blink
            starts.append(starts[0] + 2 * half + closed + max(1, round(0.12 * fps)))
        for s in starts:
            pattern = [0.5] * half + [0.0] * closed + [0.5] * half
            for k, level in enumerate(pattern):
                if 0 <= s + k < n:
                    eyes[s + k] = level
        t += rng.uniform(2.0, 5.5)
    return eyes


def gaze_directions(n: int, fps: int, seed: int) -> np.ndarray:
    """Where the eyes look per frame: mostly at the viewer (0), now and then briefly aside (+-1).

    Glances last 0.4-1.2 s and come every 2-6 s; an unmoving stare is what makes avatars look dead.
    """
    gaze = np.zeros(n, dtype=np.float32)
    rng = np.random.default_rng([seed, 0x6A2E])
    t = rng.uniform(1.5, 4.0)
    while t * fps < n:
        start = round(t * fps)
        length = max(1, round(rng.uniform(0.4, 1.2) * fps))
        gaze[start : start + length] = rng.choice([-1.0, 1.0])
        t += length / fps + rng.uniform(2.0, 6.0)
    return gaze


def head_offsets(n: int, fps: int, seed: int, size: int, activity: np.ndarray | None = None) -> np.ndarray:
    """Integer head offsets ``(n, 2)`` as (dx, dy), even, moving at most one 2-pixel step at a time.

    The head drifts towards a new target every 0.8-2 s (more often while speaking), stepping every
    ~80 ms, so most consecutive frames share an offset.
    """
    out = np.zeros((n, 2), dtype=np.int64)
    rng = np.random.default_rng([seed, 0x4EAD])
    amp_x = max(2, 2 * round(size / 256))
    amp_y = max(2, 2 * round(size / 512))
    step_every = max(1, round(0.08 * fps))
    pos = np.zeros(2, dtype=np.int64)
    target = pos.copy()
    next_change = 0
    for i in range(n):
        if i >= next_change:
            target = np.array(
                [2 * rng.integers(-amp_x // 2, amp_x // 2 + 1), 2 * rng.integers(-amp_y // 2, amp_y // 2 + 1)]
            )
            speaking = activity is not None and bool(activity[i])
            next_change = i + max(
                1, round(fps * (rng.uniform(0.5, 1.2) if speaking else rng.uniform(0.8, 2.0)))
            )
        if i % step_every == 0:
            pos = pos + 2 * np.sign(target - pos)
        out[i] = pos
    return out
