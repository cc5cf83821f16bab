"""Settings: defaults, and a clear error for every kind of bad value a config file can hold."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from mock_server.config import Settings
from mock_server.scenario_values import RateLimit

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults_run_an_open_server_on_loopback() -> None:
    settings = Settings()
    assert settings.open_mode
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert str(settings.data_dir) == "a2v-data"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"error_rate": 2}, "error_rate must be between 0 and 1"),
        ({"render_workers": 0}, "render_workers must be at least 1"),
        ({"prot": 1}, "unknown setting(s) 'prot'"),
        ({"port": "notanumber"}, "setting 'port' must be int, got 'notanumber'"),
        ({"port": 99999}, "port must be between 0 and 65535"),
        ({"render_workers": "two"}, "setting 'render_workers' must be int"),
        ({"test_mode": "yes please"}, "setting 'test_mode' must be bool"),
        ({"seed": 1.5}, "setting 'seed' must be int or null"),
        ({"api_keys": 5}, "setting 'api_keys' must be list"),
        ({"limits": {"max_audio_sekonds": 3}}, "unknown limit(s) 'max_audio_sekonds'"),
        ({"outbox_poll_seconds": 0}, "outbox_poll_seconds must be above 0, got 0"),
    ],
)
def test_bad_settings_are_named(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings.from_mapping(mapping)


def test_a_config_file_spreads_groups_and_resolves_paths(tmp_path: Path) -> None:
    config = tmp_path / "a2v-mock.yaml"
    config.write_text(
        "port: 9001\n"
        "data_dir: ./data\n"
        "auth: {api_keys: solo-key}\n"
        "scenario: {error_rate: 0.25, rate_limit: {requests: 30, per_seconds: 60}}\n"
        "limits: {max_audio_seconds: 120}\n",
        encoding="utf-8",
    )
    settings = Settings.from_yaml(config)
    assert settings.port == 9001
    assert settings.data_dir == tmp_path / "data"
    assert settings.api_keys == ["solo-key"]
    assert not settings.open_mode
    assert settings.error_rate == 0.25
    assert settings.rate_limit == RateLimit(requests=30, per_seconds=60)
    assert settings.limits == {"max_audio_seconds": 120}


def test_a_config_file_must_be_a_mapping(tmp_path: Path) -> None:
    config = tmp_path / "list.yaml"
    config.write_text("- port\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must be a mapping"):
        Settings.from_yaml(config)
