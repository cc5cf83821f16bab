from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from reference_renderer import render_preview
from reference_renderer.cli import main

from .conftest import video_info

if TYPE_CHECKING:
    from pathlib import Path


def test_render_with_mask_and_track(make_audio, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio = make_audio("mp3", 44_100, 2, duration=1.0)
    out, mask, track = tmp_path / "o.mp4", tmp_path / "m.mp4", tmp_path / "t.json"
    code = main(
        [
            str(audio),
            "--character",
            "eva_a0008",
            "--output",
            str(out),
            "--mask-output",
            str(mask),
            "--track-output",
            str(track),
            "--size",
            "64",
            "--fps",
            "20",
        ]
    )
    assert code == 0
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal
    data = json.loads(track.read_text())
    assert data["fps"] == 20
    assert len(data["frames"]) == video_info(out)["frames"] == video_info(mask)["frames"]
    assert set(data["frames"][0]) == {"time", "shape", "openness"}


def test_list_characters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-characters"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "eva_a0008\tEva 01\tfemale" in lines
    assert len(lines) >= 6


def test_preview(tmp_path: Path) -> None:
    assert main(["--character", "otto_m0304", "--preview", str(tmp_path / "p.png"), "--size", "96"]) == 0
    render_preview("otto_m0304", tmp_path / "expected.png", size=96)
    assert (tmp_path / "p.png").read_bytes() == (tmp_path / "expected.png").read_bytes()


def test_user_characters_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "c.yaml"
    extra.write_text("characters:\n  zed: {name: Zed, gender: male}\n", encoding="utf-8")
    assert main(["--characters", str(extra), "--list-characters"]) == 0
    assert "zed\tZed\tmale" in capsys.readouterr().out
    extra.write_text("characters:\n  zed: {name: Zed, gender: robot}\n", encoding="utf-8")
    assert main(["--characters", str(extra), "--list-characters"]) == 1
    assert "'gender' is 'robot'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a.wav", "--output", "o.mp4"], "--character is required"),
        (["a.wav", "--character", "nobody", "--output", "o.mp4"], "unknown character 'nobody'"),
        (["a.wav", "--character", "eva_a0008"], "--output is required"),
        (["a.wav", "--character", "eva_a0008", "--output", "o.mp4", "--size", "511"], "size must be even"),
        (["a.wav", "--character", "eva_a0008", "--output", "o.mp4", "--fps", "x"], "invalid int value"),
        (["--character", "eva_a0008", "--output", "o.mp4"], "AUDIO argument is required"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_audio_errors_exit_1(make_audio, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 100)
    assert main([str(bad), "-c", "eva_a0008", "-o", str(tmp_path / "o.mp4")]) == 1
    assert "not a decodable audio file" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.wav"), "-c", "eva_a0008", "-o", str(tmp_path / "o.mp4")]) == 1
    assert "does not exist" in capsys.readouterr().err
    long = make_audio("wav", 16_000, 1, duration=2.0)
    assert main([str(long), "-c", "eva_a0008", "-o", str(tmp_path / "o.mp4"), "--max-duration", "1"]) == 1
    assert "audio is 2.0 s long; the limit is 1 s" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_help_states_modes_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for expected in ("modes:", "--list-characters", "--preview OUT.png", "exit codes:", "  2  usage error"):
        assert expected in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("a2v-render ")


@pytest.mark.parametrize(
    ("option", "value", "writes"),
    [
        ("--output", "x.avi", ".mp4"),
        ("--mask-output", "m.webm", ".mp4"),
        ("--track-output", "t.csv", ".json"),
    ],
)
def test_an_output_extension_it_does_not_write_is_refused(
    option: str, value: str, writes: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["a.wav", "-c", "eva_a0008", "-o", str(tmp_path / "o.mp4"), option, str(tmp_path / value)]

    assert main(argv) == 2
    assert f"a2v-render writes only {writes} there" in capsys.readouterr().err
    assert not (tmp_path / value).exists()


def test_every_audio_error_names_the_input_file(
    make_audio, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = make_audio("wav", 16_000, 1, duration=2.0)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    for audio in (long, empty, tmp_path / "missing.wav"):
        main([str(audio), "-c", "eva_a0008", "-o", str(tmp_path / "o.mp4"), "--max-duration", "1"])
        assert str(audio) in capsys.readouterr().err


def test_progress_bar_on_a_terminal_only() -> None:
    import io

    from reference_renderer.cli import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = _Progress(stream)
        bar(5, 10)
        bar(10, 10)

    assert "[###############...............] 5/10 frames" in terminal.getvalue()
    assert terminal.getvalue().endswith("10/10 frames   0.0 s\n")
    assert pipe.getvalue() == ""


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"this is plainly a text file, not audio\n" * 20, "is not a decodable audio file: Invalid data"),
        (None, "is a directory, not an audio file"),
    ],
)
def test_a_file_that_is_not_audio_is_one_human_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, says: str
) -> None:
    audio = tmp_path / "speech.wav"
    if content is None:
        audio.mkdir()
    else:
        audio.write_bytes(content)

    assert main([str(audio), "-c", "eva_a0008", "-o", str(tmp_path / "o.mp4")]) == 1

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("a2v-render: ")
    assert says in lines[0]
    assert "Errno" not in lines[0]
    assert lines[0].count(str(audio)) == 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["a.wav", "--character", "eva_a0008"], "--output is required"),
    ],
)
def test_a_usage_error_is_its_message_first_not_a_usage_block(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2

    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"a2v-render: error: {says}", "Run 'a2v-render --help' to see every option."]
