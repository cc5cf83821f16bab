"""Every setting from an `A2V_<FIELD>` environment variable, typed like the config file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server.config import Settings
from mock_server.runtime.envconfig import overlay, variables
from mock_server.scenario_values import RateLimit


@pytest.mark.parametrize(
    ("environ", "field", "expected"),
    [
        ({"A2V_PORT": "9000"}, "port", 9000),
        ({"A2V_API_KEYS": "[k1, k2]"}, "api_keys", ["k1", "k2"]),
        ({"A2V_API_KEYS": "only"}, "api_keys", ["only"]),
        ({"A2V_ADMIN_KEY": "123"}, "admin_key", "123"),
        ({"A2V_ADMIN_KEY": "null"}, "admin_key", "null"),
        (
            {"A2V_RATE_LIMIT": "{requests: 30, per_seconds: 60}"},
            "rate_limit",
            RateLimit(30, 60.0),
        ),
        ({"A2V_DATA_DIR": "/srv/a2v"}, "data_dir", Path("/srv/a2v")),
        ({"A2V_TEST_MODE": "true"}, "test_mode", True),
        ({"OTHER": "1"}, "port", 8000),
    ],
)
def test_overlay(environ: dict[str, str], field: str, expected: Any) -> None:
    assert getattr(overlay(Settings(), environ), field) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"A2V_PORT": "abc"}, r"A2V_PORT.*'port' must be int"),
        ({"A2V_RENDER_WORKERS": "0"}, r"A2V_RENDER_WORKERS.*at least 1"),
        ({"A2V_LIMITS": "{a: [}"}, r"A2V_LIMITS=.*not a YAML value"),
    ],
)
def test_overlay_refuses_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        overlay(Settings(), environ)


def test_every_setting_has_a_variable() -> None:
    names = variables(Settings)
    assert names["A2V_RENDER_WORKERS"] == "render_workers"
    assert len(names) == len(Settings.__dataclass_fields__)
