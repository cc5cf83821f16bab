from __future__ import annotations

import numpy as np
import pytest

from reference_renderer import load_characters
from reference_renderer.layers import MOUTH_STEPS, LayerCache, Layers, mouth_key


@pytest.fixture(scope="module")
def chars():
    return load_characters()


@pytest.mark.parametrize(
    ("shape", "openness", "key"),
    [
        ("X", 0.9, ("X", 0)),
        ("A", 0.5, ("A", 0)),
        ("C", 0.0, ("C", 0)),
        ("C", 0.5, ("C", MOUTH_STEPS // 2)),
        ("D", 1.0, ("D", MOUTH_STEPS)),
        ("D", 1.7, ("D", MOUTH_STEPS)),
        ("F", -0.2, ("F", 0)),
    ],
)
def test_mouth_key_quantises_openness(shape: str, openness: float, key: tuple[str, int]) -> None:
    assert mouth_key(shape, openness) == key


def test_cache_keeps_layers_per_character_and_size(chars) -> None:
    cache = LayerCache()
    eva = cache.get(chars["eva_a0008"], 64)
    assert cache.get(chars["eva_a0008"], 64) is eva
    assert cache.get(chars["eva_a0008"], 96) is not eva
    assert cache.get(chars["leo_m0011"], 64) is not eva
    assert len(cache) == 3
    assert (chars["eva_a0008"], 64) in cache


def test_clear_drops_everything(chars) -> None:
    cache = LayerCache()
    first = cache.get(chars["eva_a0008"], 64)
    cache.clear()
    assert len(cache) == 0
    again = cache.get(chars["eva_a0008"], 64)
    assert again is not first
    np.testing.assert_array_equal(again.rgb, first.rgb)  # drawn again, the same picture


def test_caches_are_independent(chars) -> None:
    one, two = LayerCache(), LayerCache()
    assert one.get(chars["eva_a0008"], 64) is not two.get(chars["eva_a0008"], 64)
    one.clear()
    assert len(two) == 1


def test_cache_is_bounded_by_memory(chars) -> None:
    cost = Layers.nbytes(64)
    cache = LayerCache(max_bytes=2 * cost)
    ids = ["eva_a0008", "leo_m0011", "mei_f0102"]
    for cid in ids:
        cache.get(chars[cid], 64)
    assert len(cache) == 2
    assert (chars[ids[0]], 64) not in cache  # the least recently used went first
    assert (chars[ids[2]], 64) in cache
    big = LayerCache(max_bytes=cost)  # a size costing more than half the budget is drawn, not kept
    big.get(chars["eva_a0008"], 64)
    assert len(big) == 0
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        LayerCache(max_bytes=-1)


def test_everything_handed_out_is_read_only(chars) -> None:
    layers = Layers(chars["otto_m0304"], 64)
    patches = [*layers.eye_patches(0.0), layers.mouth_patch(("D", MOUTH_STEPS))]
    arrays = [layers.background, layers.rgb, layers.alpha, *layers.base((0, 0)), *layers.mask((2, 2))]
    arrays += [a for p in patches for a in (p.y, p.u, p.v, p.ymask, p.cmask) if a is not None]
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array[(0,) * array.ndim] = 0


def test_frames_and_patches_are_made_once(chars) -> None:
    layers = Layers(chars["eva_a0008"], 64)
    assert layers.base((2, 0)) is layers.base((2, 0))
    assert layers.mask((2, 0)) is layers.mask((2, 0))
    assert layers.eye_patches(0.5, 1.0) is layers.eye_patches(0.5, 1.0)
    assert layers.mouth_patch(("C", 3)) is layers.mouth_patch(("C", 3))
    assert not np.array_equal(layers.base((2, 0))[0], layers.base((0, 0))[0])


def test_head_offset_beyond_the_padding_is_refused(chars) -> None:
    layers = Layers(chars["eva_a0008"], 64)
    with pytest.raises(ValueError, match=r"head offset \(10, 0\) exceeds the padding of 4 pixels"):
        layers.base((10, 0))
