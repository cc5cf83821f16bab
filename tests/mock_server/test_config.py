"""Settings: defaults, and a clear error for every kind of bad value a config file can hold."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import ErrorCode
from mock_server.api.scenario import Scenario
from mock_server.config import AuthSettings, CallbackSettings, Settings
from mock_server.scenario_values import (
    LatencyRange,
    Outcome,
    RateLimit,
    ScenarioFields,
    TaskFate,
    Timings,
)

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


# --- sections: each consumer is handed its own part of the settings, never the whole ---


def _names(section: object) -> set[str]:
    return {item.name for item in dataclasses.fields(section)}  # type: ignore[arg-type]


def test_auth_section_carries_keys_users_and_admin_key_only() -> None:
    settings = Settings(api_keys=["k1", "k2"], users={"alice": "pw"}, admin_key="adm", callback_attempts=2)
    auth = settings.auth
    assert auth == AuthSettings(frozenset({"k1", "k2"}), auth.users, "adm")
    assert dict(auth.users) == {"alice": "pw"}
    assert not auth.open_mode
    assert Settings().auth.open_mode
    assert _names(auth) == {"api_keys", "users", "admin_key"}
    for other in ("callback_attempts", "render_workers", "host", "store", "error_rate"):
        assert not hasattr(auth, other)
    with pytest.raises(dataclasses.FrozenInstanceError):
        auth.api_keys = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        auth.users["mallory"] = "x"  # type: ignore[index]
    assert settings.users == {"alice": "pw"}  # the section is a copy: the settings' own stay as they were


def test_tasks_section_carries_workers_deadline_characters_and_queue_bounds(tmp_path: Path) -> None:
    characters = tmp_path / "more.yaml"
    settings = Settings(
        api_keys=["k"],
        render_workers=3,
        download_workers=5,
        task_deadline_seconds=42.0,
        characters_file=characters,
        queue_capacity=20,
        queue_retry_after=9,
        max_prefer_duration_seconds=7.5,
        render_nice=4,
    )
    tasks = settings.tasks
    assert (tasks.render_workers, tasks.download_workers, tasks.render_nice) == (3, 5, 4)
    assert (tasks.task_deadline_seconds, tasks.characters_file) == (42.0, characters)
    assert (tasks.queue_capacity, tasks.queue_retry_after, tasks.max_prefer_duration_seconds) == (20, 9, 7.5)
    assert tasks.tenant_share == settings.tenant_share == 5  # keyed mode: a quarter of the queue
    for other in ("api_keys", "users", "callback_attempts", "host", "error_rate", "store"):
        assert not hasattr(tasks, other)


def test_callbacks_section_carries_retries_timeouts_and_the_mocks_own_address() -> None:
    settings = Settings(
        api_keys=["k"],
        host="127.0.0.2",
        port=8123,
        callback_attempts=2,
        callback_backoff_seconds=0.25,
        callback_timeout_seconds=3.0,
        outbox_poll_seconds=1.5,
    )
    callbacks = settings.callbacks
    assert callbacks == CallbackSettings(2, 0.25, 3.0, 1.5, "127.0.0.2", 8123)
    assert callbacks.base_url == "http://127.0.0.2:8123"
    for other in ("api_keys", "users", "admin_key", "render_workers", "error_rate", "store", "data_dir"):
        assert not hasattr(callbacks, other)


def test_scenario_section_is_the_scenario_values_alone_from_keywords_or_the_files_groups() -> None:
    settings = Settings.from_mapping(
        {"faults": {"error_rate": 0.25}, "scenario": {"seed": 3, "next_tasks": [{"error_code": 10003}]}}
    )
    section = settings.scenario
    assert type(section) is ScenarioFields
    assert (section.error_rate, section.seed, section.next_tasks) == (0.25, 3, settings.next_tasks)
    assert section.next_tasks is not settings.next_tasks  # taking a fate never empties the settings'
    assert not hasattr(section, "api_keys")
    assert not hasattr(section, "host")


def test_the_scenario_fields_are_declared_once_and_copied_whole() -> None:
    shared = _names(Settings()) & _names(Scenario())
    assert shared == _names(ScenarioFields()) == set(Scenario().to_dict())
    assert issubclass(Settings, ScenarioFields)
    assert issubclass(Scenario, ScenarioFields)
    # every field differs from its default, so a field the copy missed shows in the comparison
    settings = Settings(
        latency_ms=LatencyRange(1, 2),
        error_rate=0.1,
        drop_rate=0.2,
        rate_limit=RateLimit(3),
        timings=Timings(pending_seconds=4),
        next_tasks=[TaskFate(Outcome.ERROR, ErrorCode.TASK_TIMED_OUT)],
        seed=5,
        url_ttl_seconds=6,
    )
    defaults = Scenario()
    for source in (settings, settings.scenario):
        scenario = Scenario.from_settings(source)
        for name in _names(ScenarioFields()):
            assert getattr(scenario, name) == getattr(settings, name) != getattr(defaults, name), name
