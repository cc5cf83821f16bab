"""The CLI's usage errors and exit codes, fixtures writing, and the plugin staying inert by default."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from starlette.responses import PlainTextResponse

from a2v_testkit import ServerThread, free_port
from contract_tests.audio import FIXTURE_FILES, decoded_duration
from contract_tests.cli import main
from contract_tests.requirement_ids import Req

if TYPE_CHECKING:
    from pathlib import Path

    from mock_server.config import Settings


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "--base-url and --api-key (or env A2V_API_KEY) are required"),
        (["--base-url", "http://127.0.0.1:1"], "--base-url and --api-key (or env A2V_API_KEY) are required"),
        (["--base-url", "ftp://x", "--api-key", "k"], "must be an http(s) URL"),
        (["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--skip", "nonsense"], "names no group"),
        (
            ["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--only", "A2V-NOPE"],
            "matches no requirement",
        ),
        (
            ["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--spec", "nothere.yaml"],
            "cannot load the spec 'nothere.yaml'",
        ),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each is refused for its own reason, before the kit tries to reach the implementation (an
    unreachable base URL would also exit 2, so the message is what tells the cases apart)."""
    monkeypatch.delenv("A2V_API_KEY", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "cannot reach" not in err


def test_unreachable_implementation_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "k"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_list_names_every_requirement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    assert Req.LIFECYCLE_FORWARD in capsys.readouterr().out


def test_write_fixtures(tmp_path: Path) -> None:
    assert main(["--write-fixtures", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FIXTURE_FILES)
    assert abs(decoded_duration((tmp_path / "speech.mp3").read_bytes()) - 1.0) < 0.01
    assert decoded_duration((tmp_path / "too_long.wav").read_bytes()) > 60


def test_plugin_is_inert_without_base_url(tmp_path: Path) -> None:
    """A session without --a2v-base-url collects only its own tests; the fixtures skip politely."""
    (tmp_path / "test_x.py").write_text(
        textwrap.dedent(
            """
            def test_mine():
                pass

            def test_uses_fixture(a2v_client):
                pass
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert "1 passed, 1 skipped" in result.stdout, result.stdout + result.stderr
    assert "not configured" in result.stdout
    assert "check_" not in result.stdout


def test_plugin_runs_the_kit_inside_another_suite(tmp_path: Path) -> None:
    """With --a2v-base-url, a team's own session runs the selected kit checks next to its own tests."""
    from mock_server.testing import run_server

    (tmp_path / "test_own.py").write_text(
        textwrap.dedent(
            """
            def test_own_check(a2v_client):
                assert a2v_client.ping().pong
            """
        )
    )
    junit = tmp_path / "kit.xml"
    html = tmp_path / "shared" / "kit.html"
    with run_server(render_workers=1, prewarm=False) as server:
        result = subprocess.run(
            [
                sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path),
                "--a2v-base-url", server.base_url, "--a2v-api-key", "team-key",
                "--a2v-only", "A2V-PING,A2V-ERROR-UNKNOWN-VIDEO", "--a2v-junit-xml", str(junit),
                "--a2v-report-html", str(html),
            ],
            capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
    assert re.search(r"PASSED +A2V-PING +.*\(\d+ observations?\)", result.stdout), result.stdout
    assert 'name="A2V-ERROR-UNKNOWN-VIDEO"' in junit.read_text()
    page = html.read_text(encoding="utf-8")
    assert re.findall(r'<tr class="requirement [^"]*" id="req-([A-Z0-9-]+)"', page) == [
        Req.PING,
        Req.ERROR_UNKNOWN_VIDEO,
    ]
    assert server.base_url in page


def _not_the_api(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    """A plain web server: HTML 404 for everything (what a wrong base URL usually meets)."""
    return PlainTextResponse("<html>Not Found</html>", status_code=404, media_type="text/html")(
        scope, receive, send
    )


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("", "is not an A2V service: GET /v1/ping answered HTTP 404 (text/html"),
        ("/v1", "ends in '/v1', but the kit adds /v1/... itself: try http://127.0.0.1:"),
    ],
)
def test_a_base_url_that_is_not_the_api_exits_2_and_says_what_answered(
    path: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(_not_the_api) as server:
        code = main(["--base-url", server.base_url + path, "--api-key", "k"])
    assert code == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ("code_as_string", "code: '0' is a string, not an integer"),
        ("envelope_without_message", "message: is missing"),
    ],
)
def test_a_wrong_envelope_is_a_failed_requirement_among_all_the_verdicts(
    fault: str, field: str, tmp_path: Path, mock_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service answering JSON is judged, not refused: its envelope's wrong field fails A2V-ENVELOPE,
    named, in the full report with every other verdict of the run (exit 1, never 2)."""
    from tests.contract_tests.faulty import faults

    report_json = tmp_path / "a2v.json"
    only = "A2V-ENVELOPE,A2V-PING,A2V-ERROR-UNKNOWN-VIDEO,A2V-AUTH-REQUIRED"
    with ServerThread(getattr(faults, fault)(mock_settings)) as server:
        code = main(
            ["--base-url", server.base_url, "--api-key", "k", "--only", only, "--seed", "1",
             "--report-json", str(report_json)]
        )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1, out.out + out.err
    assert "not an A2V service" not in out.err
    data = json.loads(report_json.read_text())
    assert set(only.split(",")) <= set(data["requirements"]), out.out
    envelope = data["requirements"][Req.ENVELOPE]
    assert envelope["outcome"] == "failed", out.out
    assert any(f"envelope field {field}" in v["message"] for v in envelope["violations"]), envelope
    assert all(v["curl"].startswith("curl -i -X ") for v in envelope["violations"]), envelope
    assert Req.ENVELOPE in out.out


def test_api_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A2V_API_KEY stands in for --api-key: the run gets past the usage check to the precondition."""
    monkeypatch.setenv("A2V_API_KEY", "from-env")
    assert main(["--base-url", f"http://127.0.0.1:{free_port()}"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_version_and_a_list_cut_short_by_its_reader() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "contract_tests.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("a2v-contract ")
    listing = subprocess.run(
        f"{shlex.quote(sys.executable)} -m contract_tests.cli --list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    assert listing.stdout.startswith(Req.SPEC_VALID)
    assert "Traceback" not in listing.stderr, listing.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("a2v-contract ")


def test_help_explains_every_profile_and_the_proxy(capsys: pytest.CaptureFixture[str]) -> None:
    from contract_tests.cli import PROFILE_PURPOSES
    from contract_tests.config import PROFILES

    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert set(PROFILE_PURPOSES) == set(PROFILES)
    profiles = out.split("profiles (--profile):\n", 1)[1].split("\n\n", 1)[0]
    flat = " ".join(profiles.split())
    for name, profile in PROFILES.items():
        assert f" {name} {' '.join(PROFILE_PURPOSES[name].split())}" in f" {flat}"
        assert f"({profile.fuzz_examples} examples per fuzzed operation, " in flat
    assert "a2v-contract proxy --upstream URL" in out  # in the usage lines
    assert "a2v-contract proxy [options]" in out  # and among the commands


@pytest.mark.parametrize(
    ("argv", "prog", "says"),
    [
        ([], "a2v-contract", "--base-url and --api-key (or env A2V_API_KEY) are required"),
        (["--profile", "nope"], "a2v-contract", "argument --profile: invalid choice: 'nope'"),
        (["--bogus"], "a2v-contract", "unrecognized arguments: --bogus"),
        (["proxy"], "a2v-contract proxy", "the following arguments are required: --upstream"),
        (["proxy", "--upstream", "http://x", "--bogus"], "a2v-contract proxy", "unrecognized arguments"),
    ],
)
def test_a_usage_error_is_its_message_first_not_a_usage_block(
    argv: list[str], prog: str, says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("A2V_API_KEY", raising=False)
    try:
        code = main(argv)
    except SystemExit as exited:
        code = exited.code  # type: ignore[assignment]
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{prog}: error: ")
    assert says in lines[0]
    assert lines[1:] == [f"Run '{prog} --help' to see every option."]
