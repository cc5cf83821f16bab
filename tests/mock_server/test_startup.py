"""mock_server/runtime/startup.py: every start-up failure is one line naming the value and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mock_server.config import Settings
from mock_server.runtime.startup import (
    StartupError,
    banner,
    bind,
    check_characters,
    check_data_dir,
    parse_latency,
    parse_rate_limit,
    read_config,
)

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("port: 8000\nauth:\n  api_keys: [a, b\n", "YAML error at line 4, column 1"),
        ("port: abc\n", "setting 'port' must be int, got 'abc'"),
        ("colour: blue\n", "unknown setting(s) 'colour'"),
        ("- a\n- b\n", "a config file must be a mapping of settings, got list"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "a2v.yaml"
    path.write_text(text)

    with pytest.raises(StartupError) as raised:
        read_config(path)

    message = str(raised.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"config file '.*nope.yaml' does not exist"):
        read_config(tmp_path / "nope.yaml")


def test_characters_file_missing_or_invalid(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"characters file '.*chars.yaml' does not exist"):
        check_characters(Settings(characters_file=tmp_path / "chars.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("characters:\n  zed: {name: Zed, gender: robot}\n")
    with pytest.raises(StartupError, match=r"characters file: .*'gender' is 'robot'"):
        check_characters(Settings(characters_file=bad))
    check_characters(Settings())  # the built-ins need no file


def test_data_dir_that_is_a_file_or_not_writable(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("")
    with pytest.raises(StartupError, match="is a file; choose a folder with --data-dir"):
        check_data_dir(Settings(data_dir=a_file))
    with pytest.raises(StartupError, match="is not usable: Not a directory; choose another with --data-dir"):
        check_data_dir(Settings(data_dir=a_file / "inner"))


def test_a_port_in_use_is_one_line_and_port_zero_gets_a_real_port() -> None:
    first = bind("127.0.0.1", 0)
    port = first.getsockname()[1]
    try:
        assert port != 0
        with pytest.raises(StartupError, match=rf"port {port} on 127.0.0.1 is in use; .*--port"):
            bind("127.0.0.1", port)
    finally:
        first.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30/60", {"requests": 30, "per_seconds": 60.0}), (" 2 / 0.5 ", {"requests": 2, "per_seconds": 0.5})],
)
def test_parse_rate_limit(text: str, expected: dict) -> None:
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["30", "0/60", "a/b", "30/0"])
def test_parse_rate_limit_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="--rate-limit takes N/SECONDS"):
        parse_rate_limit(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("50-200", {"min": 50.0, "max": 200.0}), ("100", {"min": 100.0, "max": 100.0})]
)
def test_parse_latency(text: str, expected: dict) -> None:
    assert parse_latency(text) == expected


@pytest.mark.parametrize("text", ["fast", "200-50", "-5"])
def test_parse_latency_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="--latency"):
        parse_latency(text)


def test_banner_shows_the_real_port_console_samples_and_a_command(tmp_path: Path) -> None:
    text = banner(Settings(port=0, data_dir=tmp_path), 54321, ["*"])

    assert "a2v-mock listening on http://127.0.0.1:54321" in text
    assert "http://127.0.0.1:54321/console" in text
    assert "http://127.0.0.1:54321/samples/hello.wav" in text
    assert "cors      *" in text
    assert ":0" not in text
