"""Every command and code block of README.md and docs/ runs, as written (see `blocks.py` for the tags).

Each page runs as one bash session in a fresh folder that has `.venv` (a link to this checkout's
venv, as the README's set-up leaves it) and a mock running as the set-up command starts it. The only
change made to the text: port 8000 becomes a free port, so tests never collide with a developer's mock.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from typing import TYPE_CHECKING

import pytest

from a2v_testkit.speech import encode_audio, speech_like
from mock_server.testing import free_port

from .blocks import ROOT, Block, blocks, pages

if TYPE_CHECKING:
    from pathlib import Path

TAGS = ("", "setup", "server", "config", "characters", "skip")

#: Blocks another test runs, with the test that does.
COVERED = {("docs/tutorial.md", "python"): "tests/partner/test_tutorial.py"}


#: What a reader is assumed to have in their folder: an audio file of their own.
def _fixtures(folder: Path) -> None:
    samples, _ = speech_like(1.5, 16_000, seed=7)
    encode_audio(samples, 16_000, folder / "speech.mp3")
    encode_audio(samples, 16_000, folder / "speech.wav")
    (folder / "tests").mkdir()  # "your own test suite", for `pytest tests/ --a2v-base-url ...`


ALL = [block for page in pages() for block in blocks(page)]


@pytest.mark.parametrize("block", ALL, ids=[b.where for b in ALL])
def test_every_block_runs_or_says_why(block: Block) -> None:
    assert block.tag in TAGS, f"{block.where}: unknown doc-test tag {block.tag!r}"
    if block.tag == "skip":
        assert len(block.reason) > 10, f"{block.where}: a skipped block must say why"
    if block.tag in ("config", "characters"):
        assert block.language == "yaml", block.where


def test_readme_set_up_is_exactly_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    setup = [b for b in blocks(ROOT / "README.md") if f"\n{b.code.strip()}\n" in section]

    assert [b.code.strip() for b in setup] == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/a2v-mock",
        "bash scripts/test",
    ]
    assert setup[0].tag == "setup"


def _with_port(code: str, port: int) -> str:
    return re.sub(r"(127\.0\.0\.1|localhost):8000\b", rf"\g<1>:{port}", code).replace(
        "--port 8000", f"--port {port}"
    )


def _server_command(code: str, port: int) -> str:
    """The block's command without comments or prompt, with `--port` added when it has none."""
    lines = [line.removeprefix("$ ") for line in code.splitlines() if line.strip()]
    if any(line.startswith("$") for line in code.splitlines()):
        lines = [line.removeprefix("$ ") for line in code.splitlines() if line.startswith("$ ")]
    command = " ".join(line.split("  #", 1)[0].rstrip(" \\") for line in lines)
    command = _with_port(command, port)
    return command if "--port" in command else f"{command} --port {port}"


def script(page: Path, folder: Path, port: int) -> str:
    """The page as one bash script: a mock as the set-up leaves it, then every block in order."""
    setup = ".venv/bin/a2v-mock"
    parts = [
        "set -euo pipefail",
        """start_mock() {
  if [ -n "${MOCK_PID:-}" ]; then kill "$MOCK_PID"; wait "$MOCK_PID" || true; fi
  "$@" > mock.log 2>&1 &
  MOCK_PID=$!
  for _ in $(seq 600); do
    grep -q "a2v-mock listening on" mock.log && return 0
    kill -0 "$MOCK_PID" 2>/dev/null || { cat mock.log >&2; return 1; }
    sleep 0.1
  done
  cat mock.log >&2; return 1
}
trap 'if [ -n "${MOCK_PID:-}" ]; then kill "$MOCK_PID" 2>/dev/null || true; fi' EXIT""",
        f"start_mock {setup} --port {port}",
    ]
    page_name = str(page.relative_to(ROOT))
    for number, block in enumerate(blocks(page)):
        if block.tag in ("skip", "setup") or (page_name, block.language) in COVERED:
            continue
        parts.append(f"echo '### {block.where}' >&2")
        code = _with_port(block.code, port)
        if block.tag == "server":
            parts.append(f"start_mock {_server_command(block.code, port)}")
        elif block.tag in ("config", "characters"):
            name = f"block{number}.yaml"
            (folder / name).write_text(code, encoding="utf-8")
            loader = (
                "from mock_server.config import Settings; Settings.from_yaml"
                if block.tag == "config"
                else "from reference_renderer import load_characters as load; load"
            )
            parts.append(f".venv/bin/python -c {shlex.quote(f'{loader}({name!r})')}")
        elif block.language == "python":
            name = f"block{number}.py"
            (folder / name).write_text(code, encoding="utf-8")
            parts.append(f".venv/bin/python {name}")
        elif block.language == "console":
            parts.extend(line[2:] for line in code.splitlines() if line.startswith("$ "))
        else:
            parts.append(code)
    return "\n".join(parts) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("page", pages(), ids=[p.name for p in pages()])
def test_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    _fixtures(tmp_path)
    text = script(page, tmp_path, free_port())
    (tmp_path / "page.sh").write_text(text, encoding="utf-8")
    env = {**os.environ, "PATH": f"{tmp_path / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    done = subprocess.run(
        ["bash", "page.sh"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )

    started = re.findall(r"### (\S+)", done.stderr) or ["before the first block"]
    assert done.returncode == 0, (
        f"{page.name} failed in {started[-1]}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )


#: Pages that promise their commands need no activated venv: they call the kit's commands and Python
#: as `.venv/bin/...` (this suite runs with the venv first on PATH, which would hide a bare `python`).
UNACTIVATED = ("README.md", "examples/README.md")
_BARE_COMMAND = re.compile(
    r"(?:^|[\s;&|(`])(python3?|pip|pytest|a2v-mock|a2v-render|a2v-contract)(?=\s|$)", re.M
)


@pytest.mark.parametrize("name", UNACTIVATED)
def test_pages_without_an_activated_venv_call_its_commands_by_path(name: str) -> None:
    for block in blocks(ROOT / name):
        if block.language not in ("bash", "sh", "console"):
            continue
        code = "\n".join(line.split("  #", 1)[0] for line in block.code.splitlines())
        code = code.replace("python3 -m venv .venv", "")  # the set-up makes the venv with the system's
        assert _BARE_COMMAND.findall(code) == [], f"{block.where}: call it as .venv/bin/<command>"


def test_tenant_labels_in_the_docs_have_the_length_the_server_gives_them() -> None:
    from mock_server.redact import tenant_label

    real = tenant_label("any token")
    assert real is not None
    texts = [ROOT / "examples" / "README.md", ROOT / "mock_server" / "admin" / "admin_openapi.yaml", *pages()]
    for path in texts:
        text = path.read_text(encoding="utf-8")
        for label in re.findall(r"\btok-[0-9a-f]+\b", text):
            assert len(label) == len(real), f"{path.name}: {label} is no label ({real})"
        for digits in re.findall(r"tok-<(\d+) hex", text):
            assert int(digits) == len(real) - len("tok-"), f"{path.name}: tok-<{digits} hex"
