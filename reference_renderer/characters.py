"""Characters as data: ``characters.yaml`` (built-ins) plus an optional user YAML merged over it.

A ``Character`` is a frozen value: identity (``model_id``, ``name``, ``display_name``, ``gender``) and
the drawing data ``draw.py`` needs. Parsing validates every field and names the file, the character
and the field in its error, so a user's typo is a one-line fix.
"""

from __future__ import annotations

import copy
import os
import re
import zlib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from .errors import CharacterError
from .types import Rgb

if TYPE_CHECKING:
    from .types import PathLike

__all__ = [
    "CLOTHES_STYLES",
    "FRINGES",
    "GENDERS",
    "HAIR_STYLES",
    "Character",
    "Rgb",
    "get_character",
    "load_characters",
]

GENDERS = ("female", "male", "neutral")
HAIR_STYLES = ("long", "bob", "short", "bun", "buzz", "curly")
FRINGES = ("side", "straight", "part", "none")
CLOTHES_STYLES = ("crew", "v_neck", "collar", "hoodie", "turtleneck")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Character:
    """One drawable character. Colours are RGB floats in 0..1; ``seed`` drives blinks and motion."""

    model_id: str
    name: str
    display_name: str
    gender: str
    skin: Rgb
    hair_color: Rgb
    hair_style: str
    fringe: str
    eye_color: Rgb
    lashes: bool
    brow_thickness: float
    lips: Rgb
    clothes_color: Rgb
    clothes_style: str
    clothes_accent: Rgb
    background_top: Rgb
    background_bottom: Rgb
    face_width: float
    face_height: float
    glasses: Rgb | None
    beard: Rgb | None
    blush: float
    seed: int


# libyaml's loader when PyYAML was built with it: the pure-Python scanner costs ~0.3 s per load.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _builtin_data() -> dict[str, Any]:
    """The parsed built-in YAML, fresh on every call: it takes ~2 ms with libyaml, so no module-level
    cache (state lives in the caller: a render worker keeps its ``load_characters`` result)."""
    text = resources.files(__package__).joinpath("characters.yaml").read_text(encoding="utf-8")
    return _parse_yaml(text, "characters.yaml (built-in)")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise CharacterError(f"{source}: not valid YAML: {err}") from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CharacterError(f"{source}: the top level must be a mapping with a 'characters' key")
    unknown = set(data) - {"defaults", "characters"}
    if unknown:
        raise CharacterError(f"{source}: unknown top-level keys {sorted(unknown)}; use 'characters'")
    for key in ("defaults", "characters"):
        if not isinstance(data.get(key) or {}, dict):
            raise CharacterError(f"{source}: '{key}' must be a mapping")
    return data


class _Fields:
    """Typed access to one character's raw mapping, with errors that name the field."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def get(self, path: str) -> Any:
        node: Any = self.raw
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise CharacterError(f"{self.where}: missing field '{path}'")
            node = node[part]
        return node

    def text(self, path: str) -> str:
        value = self.get(path)
        if not isinstance(value, str) or not value.strip():
            raise CharacterError(f"{self.where}: '{path}' must be a non-empty string, got {value!r}")
        return value

    def choice(self, path: str, options: tuple[str, ...]) -> str:
        value = self.get(path)
        if value not in options:
            raise CharacterError(f"{self.where}: '{path}' is {value!r}; expected one of {', '.join(options)}")
        return str(value)

    def colour(self, path: str, optional: bool = False) -> Rgb | None:
        value = self.get(path)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not _COLOUR.match(value):
            raise CharacterError(f"{self.where}: '{path}' must be a colour like \"#a1b2c3\", got {value!r}")
        return (int(value[1:3], 16) / 255, int(value[3:5], 16) / 255, int(value[5:7], 16) / 255)

    def number(self, path: str, low: float, high: float) -> float:
        value = self.get(path)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise CharacterError(f"{self.where}: '{path}' must be a number in [{low}, {high}], got {value!r}")
        return float(value)

    def flag(self, path: str) -> bool:
        value = self.get(path)
        if not isinstance(value, bool):
            raise CharacterError(f"{self.where}: '{path}' must be true or false, got {value!r}")
        return value


def _character(model_id: str, raw: dict[str, Any], source: str) -> Character:
    where = f"{source}: character {model_id!r}"
    if not isinstance(model_id, str) or not _ID.match(model_id):
        raise CharacterError(f"{source}: character id {model_id!r} must be 1-64 of A-Z a-z 0-9 _ . -")
    f = _Fields(raw, where)
    seed = raw.get("seed", zlib.crc32(model_id.encode()))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CharacterError(f"{where}: 'seed' must be an integer, got {seed!r}")
    colour = f.colour
    return Character(
        model_id=model_id,
        name=f.text("name"),
        display_name=f.text("display_name") if "display_name" in raw else f.text("name"),
        gender=f.choice("gender", GENDERS),
        skin=colour("skin"),  # type: ignore[arg-type]
        hair_color=colour("hair.color"),  # type: ignore[arg-type]
        hair_style=f.choice("hair.style", HAIR_STYLES),
        fringe=f.choice("hair.fringe", FRINGES),
        eye_color=colour("eyes.color"),  # type: ignore[arg-type]
        lashes=f.flag("eyes.lashes"),
        brow_thickness=f.number("brows.thickness", 0.3, 2.5),
        lips=colour("lips"),  # type: ignore[arg-type]
        clothes_color=colour("clothes.color"),  # type: ignore[arg-type]
        clothes_style=f.choice("clothes.style", CLOTHES_STYLES),
        clothes_accent=colour("clothes.accent"),  # type: ignore[arg-type]
        background_top=colour("background.top"),  # type: ignore[arg-type]
        background_bottom=colour("background.bottom"),  # type: ignore[arg-type]
        face_width=f.number("face.width", 0.8, 1.2),
        face_height=f.number("face.height", 0.8, 1.2),
        glasses=colour("extras.glasses", optional=True),
        beard=colour("extras.beard", optional=True),
        blush=f.number("extras.blush", 0.0, 1.0),
        seed=seed,
    )


def load_characters(extra: PathLike | None = None) -> dict[str, Character]:
    """Return ``model_id -> Character``: the built-ins, with the user YAML ``extra`` merged over them.

    Example::

        chars = load_characters("my_characters.yaml")
        eva = chars["eva_a0008"]
    """
    builtin = _builtin_data()
    defaults: dict[str, Any] = builtin.get("defaults") or {}
    entries: dict[str, tuple[dict[str, Any], str]] = {
        cid: (_merge(defaults, raw or {}), "characters.yaml (built-in)")
        for cid, raw in (builtin.get("characters") or {}).items()
    }
    if extra is not None:
        path = os.fspath(extra)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as err:
            raise CharacterError(f"cannot read character file {path!r}: {err.strerror}") from err
        user = _parse_yaml(text, path)
        user_defaults = _merge(defaults, user.get("defaults") or {})
        for cid, raw in (user.get("characters") or {}).items():
            if raw is not None and not isinstance(raw, dict):
                raise CharacterError(f"{path}: character {cid!r} must be a mapping")
            base = entries[cid][0] if cid in entries else user_defaults
            entries[cid] = (_merge(base, raw or {}), path)
    return {str(cid): _character(cid, raw, src) for cid, (raw, src) in entries.items()}


def get_character(character: Character | str, extra: PathLike | None = None) -> Character:
    """Resolve a ``Character`` or a model id (raising ``CharacterError`` naming the known ids)."""
    if isinstance(character, Character):
        return character
    chars = load_characters(extra)
    try:
        return chars[character]
    except KeyError:
        raise CharacterError(f"unknown character {character!r}; known: {', '.join(sorted(chars))}") from None
