"""Spectral (`spectral:oas`) and Redocly (`recommended`) find nothing in `openapi.yaml`, each with its own
stock ruleset and no configuration of ours (issue 21: both warned that `ErrorCode` was never referenced
and that `ping` had no 4xx answer)."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

from tests.interop.conftest import require
from tests.interop.generators import NODE_BIN, SPEC

if TYPE_CHECKING:
    from pathlib import Path


def test_spectral_oas_finds_nothing(tmp_path: Path) -> None:
    require("node", "spectral")
    # Spectral needs a ruleset file: this one is only its own stock `spectral:oas` (recommended rules).
    ruleset = tmp_path / ".spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n')
    run = subprocess.run(
        [str(NODE_BIN / "spectral"), "lint", str(SPEC), "--ruleset", str(ruleset), "-f", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    found = json.loads(run.stdout[: run.stdout.rindex("]") + 1])
    assert [(item["code"], item["path"], item["message"]) for item in found] == [], run.stderr
    assert run.returncode == 0, run.stdout + run.stderr


def test_redocly_recommended_finds_nothing(tmp_path: Path) -> None:
    require("node", "redocly")
    run = subprocess.run(
        [str(NODE_BIN / "redocly"), "lint", "--extends", "recommended", "--format", "json", str(SPEC)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # no redocly.yaml there, so nothing of ours
        check=False,
    )
    report = json.loads(run.stdout)
    assert [(p["ruleId"], p["message"]) for p in report["problems"]] == []
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}
