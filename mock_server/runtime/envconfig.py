"""Settings from environment variables: `A2V_<FIELD>` for every field of `Settings`.

Containers and process managers configure through the environment, so every setting has a variable:
the field name in capitals after `A2V_` (`A2V_STORE`, `A2V_RENDER_WORKERS`, `A2V_API_KEYS`). The value is
read as YAML, like the config file, so `A2V_PRESIGN_URLS=true`, `A2V_RENDER_WORKERS=4` and
`A2V_RATE_LIMIT='{requests: 30, per_seconds: 60}'` have their types; a string field keeps the text as
given (`A2V_ADMIN_KEY=123` is the string "123"). A value of the wrong type is refused naming the variable.

Example:
    >>> from mock_server.config import Settings
    >>> overlay(Settings(), {"A2V_PORT": "9000", "A2V_API_KEYS": "[k1, k2]"}).api_keys
    ['k1', 'k2']
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mock_server.config import Settings

__all__ = ["PREFIX", "overlay", "variables"]

PREFIX = "A2V_"


def variables(settings: type[Settings] | Settings) -> dict[str, str]:
    """Variable name -> field name, for every setting."""
    return {f"{PREFIX}{f.name.upper()}": f.name for f in dataclasses.fields(settings)}


def overlay(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """`settings` with every `A2V_<FIELD>` of `environ` applied."""
    from mock_server.config import Settings as SettingsClass

    hints = typing.get_type_hints(SettingsClass)
    changes: dict[str, Any] = {}
    for variable, name in variables(settings).items():
        if variable not in environ:
            continue
        raw = environ[variable]
        if _is_text(hints[name]):
            changes[name] = raw
            continue
        try:
            changes[name] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as err:
            raise ValueError(f"{variable}={raw!r} is not a YAML value: {err}") from err
    if not changes:
        return settings
    if isinstance(changes.get("api_keys"), str):
        changes["api_keys"] = [changes["api_keys"]]
    try:
        return settings.replace(**changes)
    except (TypeError, ValueError) as err:
        names = ", ".join(f"{PREFIX}{n.upper()}" for n in changes)
        raise ValueError(f"environment ({names}): {err}") from err


def _is_text(hint: Any) -> bool:
    """str or str | None: the variable's text is the value (no YAML typing of '123' or 'null')."""
    if hint is str:
        return True
    args = set(typing.get_args(hint)) if typing.get_origin(hint) in (types.UnionType, typing.Union) else set()
    return str in args and args <= {str, type(None)}
