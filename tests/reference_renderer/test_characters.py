from __future__ import annotations

import dataclasses
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import yaml

from reference_renderer import Character, CharacterError, load_characters
from reference_renderer.characters import get_character
from reference_renderer.draw import draw_character

if TYPE_CHECKING:
    from pathlib import Path


def rgb(hex_colour: str) -> tuple[float, float, float]:
    return tuple(int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def builtin_defaults() -> dict[str, Any]:
    """The ``defaults:`` block of the shipped characters.yaml, read independently of the loader."""
    text = resources.files("reference_renderer").joinpath("characters.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["defaults"]


def test_builtins() -> None:
    chars = load_characters()
    assert len(chars) >= 6
    eva = chars["eva_a0008"]
    assert (eva.model_id, eva.name, eva.display_name, eva.gender) == (
        "eva_a0008",
        "Eva 01",
        "Eva 01",
        "female",
    )
    assert {c.gender for c in chars.values()} == {"female", "male", "neutral"}
    assert all(isinstance(c, Character) for c in chars.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        eva.name = "x"  # type: ignore[misc]


def test_builtins_look_different() -> None:
    images = [draw_character(c, 64)[0] for c in load_characters().values()]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert np.abs(images[i] - images[j]).mean() > 0.02


def test_same_seed_is_deterministic() -> None:
    a, b = load_characters()["sam_n0203"], load_characters()["sam_n0203"]
    assert a == b
    np.testing.assert_array_equal(draw_character(a, 96)[0], draw_character(b, 96)[0])


def test_user_file_merges_over_builtins(tmp_path: Path) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        """
characters:
  eva_a0008:
    clothes: {color: "#ff0000"}
  robo_1:
    name: Robo
    gender: neutral
    hair: {style: buzz, color: "#101010", fringe: none}
""",
        encoding="utf-8",
    )
    chars = load_characters(extra)
    builtin = load_characters()["eva_a0008"]
    eva = chars["eva_a0008"]
    assert eva.clothes_color == (1.0, 0.0, 0.0)
    assert eva.clothes_style == builtin.clothes_style  # untouched fields keep their values
    assert eva.hair_style == builtin.hair_style
    robo = chars["robo_1"]
    assert (robo.name, robo.display_name, robo.hair_style) == ("Robo", "Robo", "buzz")
    # A new id starts from `defaults` (not from another character): every field it does not give.
    defaults = builtin_defaults()
    assert robo.skin == rgb(defaults["skin"]) != eva.skin
    assert robo.eye_color == rgb(defaults["eyes"]["color"])
    assert robo.lips == rgb(defaults["lips"])
    assert (robo.clothes_color, robo.clothes_style) == (
        rgb(defaults["clothes"]["color"]),
        defaults["clothes"]["style"],
    )
    assert (robo.background_top, robo.blush) == (
        rgb(defaults["background"]["top"]),
        defaults["extras"]["blush"],
    )
    assert robo.hair_color == (1 / 255 * 0x10,) * 3  # ... and what it gives wins
    assert len(chars) == len(load_characters()) + 1


def test_user_defaults_apply_to_new_characters_only(tmp_path: Path) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        'defaults: {skin: "#102030"}\ncharacters:\n  new_1: {name: New}\n  eva_a0008: {name: Eva}\n',
        encoding="utf-8",
    )
    chars = load_characters(extra)
    assert chars["new_1"].skin == rgb("#102030")
    assert chars["eva_a0008"].skin == load_characters()["eva_a0008"].skin
    assert chars["eva_a0008"].name == "Eva"


def test_each_load_reads_the_file_again(tmp_path: Path) -> None:
    """No parsed YAML is kept between calls: an edited user file is seen by the next load."""
    extra = tmp_path / "mine.yaml"
    extra.write_text("characters:\n  zed: {name: Zed}\n", encoding="utf-8")
    first = load_characters(extra)
    extra.write_text("characters:\n  zed: {name: Zoe}\n", encoding="utf-8")
    assert (first["zed"].name, load_characters(extra)["zed"].name) == ("Zed", "Zoe")
    first.clear()
    assert "eva_a0008" in load_characters()  # the returned dict is the caller's own


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("characters: [1, 2]", "'characters' must be a mapping"),
        ("characters:\n  x1: {name: X, hair: {style: mohawk}}", r"hair.style' is 'mohawk'; expected one of"),
        ("characters:\n  x1: {name: X, skin: red}", r"'skin' must be a colour"),
        ("characters:\n  x1: {name: X, gender: robot}", r"'gender' is 'robot'"),
        ("characters:\n  x1: {name: X, face: {width: 3}}", r"'face.width' must be a number in \[0.8, 1.2\]"),
        ("characters:\n  'bad id!': {name: X}", "character id 'bad id!'"),
        ("characters:\n  x1: {gender: male}", "missing field 'name'"),
        ("characters: {x1: [", "not valid YAML"),
        ("people: {}", "unknown top-level keys"),
    ],
)
def test_bad_user_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CharacterError, match=message) as info:
        load_characters(path)
    assert str(path) in str(info.value)


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(CharacterError, match="cannot read character file"):
        load_characters(tmp_path / "nope.yaml")


def test_unknown_id_lists_the_known_ones() -> None:
    with pytest.raises(CharacterError, match=r"unknown character 'zz'.*eva_a0008"):
        get_character("zz")
