"""The layering of the packages, checked by import-linter's contracts in `pyproject.toml`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("a2v_spec", "a2v_testkit", "reference_renderer", "mock_server", "contract_tests", "partner")


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_nothing_imports_the_benchmarks() -> None:
    """Benchmarks are scripts at the top of the stack: no package or test may depend on them."""
    sources = [p for package in (*PACKAGES, "tests") for p in (ROOT / package).rglob("*.py")]
    assert sources
    importers = [str(p.relative_to(ROOT)) for p in sources if "benchmarks" in _imported_roots(p)]
    assert importers == []
