from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from a2v_testkit import speech_like
from reference_renderer import SHAPES
from reference_renderer.lipsync import ANALYSIS_RATE, FeatureExtractor, analyze, track_from_features

FPS = 25


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, list]:
    return speech_like(12.0, ANALYSIS_RATE, seed=7)


@pytest.fixture(scope="module")
def track(speech):
    samples, _ = speech
    return track_from_features(analyze([samples], FPS), FPS)


def shapes_during(track, script, kind: str, vowels: str = "") -> Counter[str]:
    """Shapes of frames fully inside segments of ``kind`` (the middle, away from transitions)."""
    out: Counter[str] = Counter()
    for seg in script:
        if seg.kind != kind or (vowels and seg.vowel not in vowels):
            continue
        for i in range(int(np.ceil(seg.start * FPS)) + 1, int(seg.end * FPS) - 1):
            out[track[i].shape] += 1
    return out


def test_one_frame_per_video_frame_with_valid_values(track) -> None:
    assert len(track) == 12 * FPS
    assert [f.time for f in track[:3]] == [0.0, 0.04, 0.08]
    assert all(f.shape in SHAPES and 0.0 <= f.openness <= 1.0 for f in track)


def test_silence_is_closed_and_speech_opens(speech, track) -> None:
    _, script = speech
    silent = shapes_during(track, [s for s in script if s.end - s.start > 0.25], "silence")
    assert silent["X"] / sum(silent.values()) > 0.9
    vowels = shapes_during(track, script, "vowel")
    assert sum(n for shape, n in vowels.items() if shape in "BCDEF") / sum(vowels.values()) > 0.9
    assert track[0].shape == "X"
    assert track[0].openness == 0.0


def test_spectral_features_pick_rounded_and_teeth_shapes(speech, track) -> None:
    _, script = speech
    rounded = shapes_during(track, script, "vowel", "ou")
    assert (rounded["E"] + rounded["F"]) / sum(rounded.values()) > 0.7
    open_vowels = shapes_during(track, script, "vowel", "a")
    assert (open_vowels["C"] + open_vowels["D"]) / sum(open_vowels.values()) > 0.7
    fricatives = shapes_during(track, script, "fricative")
    assert fricatives.most_common(1)[0][0] == "B"


def test_openness_has_several_levels(track) -> None:
    levels = {round(f.openness, 1) for f in track if f.openness > 0}
    assert len(levels) >= 5


def test_mouth_anticipates_the_sound(speech, track) -> None:
    """At each word onset the mouth is already moving in the frame before the sound starts."""
    _, script = speech
    onsets = [s.start for prev, s in itertools.pairwise(script) if prev.kind == "silence"]
    early = [track[round(t * FPS) - 1].openness > 0 or track[round(t * FPS) - 1].shape != "X" for t in onsets]
    assert sum(early) / len(early) > 0.7


def test_no_single_frame_flicker(track) -> None:
    shapes = [f.shape for f in track]
    flickers = sum(
        1
        for i in range(1, len(shapes) - 1)
        if shapes[i - 1] == shapes[i + 1] != shapes[i] and shapes[i] not in "AX"
    )
    assert flickers == 0


def test_quiet_recording_opens_like_a_loud_one(speech) -> None:
    samples, _ = speech
    loud = track_from_features(analyze([samples], FPS), FPS)
    quiet = track_from_features(analyze([samples * 0.2], FPS), FPS)
    same = sum(a.shape == b.shape for a, b in zip(loud, quiet, strict=True)) / len(loud)
    assert same > 0.9  # 14 dB quieter; only the absolute silence floor (-60 dBFS) can differ
    assert max(f.openness for f in quiet) > 0.9


def test_all_silence_is_all_x() -> None:
    track = track_from_features(analyze([np.zeros(ANALYSIS_RATE, np.float32)], FPS), FPS)
    assert {f.shape for f in track} == {"X"}


@settings(max_examples=10, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=30),
    fps=st.sampled_from([24, 25, 30]),
)
def test_streaming_features_do_not_depend_on_chunking(sizes: list[int], fps: int) -> None:
    samples, _ = speech_like(sum(sizes) / ANALYSIS_RATE, ANALYSIS_RATE, seed=3, lead_silence=0.05)
    whole = analyze([samples], fps)
    extractor = FeatureExtractor(fps)
    pos = 0
    for size in sizes:
        extractor.feed(samples[pos : pos + size])
        pos += size
    chunked = extractor.finish()
    assert len(chunked) == len(whole) == max(1, round(len(samples) * fps / ANALYSIS_RATE))
    np.testing.assert_allclose(chunked.loudness_db, whole.loudness_db, atol=1e-3)
    np.testing.assert_allclose(chunked.centroid, whole.centroid, atol=1e-2)


def test_json_export(track) -> None:
    row = track[30].to_dict()
    assert set(row) == {"time", "shape", "openness"}
    assert row["time"] == pytest.approx(1.2)
