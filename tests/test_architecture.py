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


#: The API's steps as `docs/architecture.md` names them, and the call in `Pipeline.api` that is each.
_STEP_CALLS = {
    "route": "self.table.find",
    "identify": "self.auth.identify",
    "limit": "self.limit",
    "faults": "self.faults",
    "handler": "self.endpoint.answer",
    "record": "ex.record",
}


def _calls_in_order(function: ast.AsyncFunctionDef) -> list[str]:
    """The dotted names of the calls in `function`, in the order they appear in its source."""
    calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [ast.unparse(node.func) for node in calls]


def test_the_request_path_the_docs_state_is_the_one_the_code_runs() -> None:
    """docs/architecture.md states the API's steps in one line; `Pipeline.api` must call them in that
    order, and no other module may hold a second request path (no ASGI layer wrapping the pipeline)."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    stated_line = next(line for line in page.splitlines() if line.strip().startswith("The API's steps:"))
    stated = [step.strip(" `") for step in stated_line.split(":", 1)[1].split("→")]
    assert set(stated) == set(_STEP_CALLS), stated_line

    tree = ast.parse((ROOT / "mock_server" / "http" / "pipeline.py").read_text(encoding="utf-8"))
    pipeline = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Pipeline")
    api = next(n for n in pipeline.body if isinstance(n, ast.AsyncFunctionDef) and n.name == "api")
    calls = _calls_in_order(api)
    built = sorted(_STEP_CALLS, key=lambda step: calls.index(_STEP_CALLS[step]))
    assert built == stated, f"docs/architecture.md says {stated}, Pipeline.api runs {built}"


def test_the_app_returns_the_pipeline_and_nothing_around_it() -> None:
    """`MockApp.build_middleware_stack` is the pipeline itself: uvicorn -> MockApp -> Pipeline."""
    tree = ast.parse((ROOT / "mock_server" / "runtime" / "app.py").read_text(encoding="utf-8"))
    app = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MockApp")
    build = next(n for n in app.body if isinstance(n, ast.FunctionDef) and n.name == "build_middleware_stack")
    returned = [n.value for n in ast.walk(build) if isinstance(n, ast.Return)]
    assert len(returned) == 1
    assert isinstance(returned[0], ast.Call)
    assert ast.unparse(returned[0].func) == "Pipeline"


def test_mock_server_top_level_stays_small() -> None:
    """Packages by concept: at most 12 modules at the top of mock_server, none over 500 lines."""
    top = sorted(p.name for p in (ROOT / "mock_server").glob("*.py"))
    assert len(top) <= 12, top
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "mock_server").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def test_the_embedded_server_loads_no_scaled_out_module() -> None:
    """Starting the embedded app imports nothing of `mock_server.scale` (nor Celery, psycopg, boto3)."""
    script = (
        "import sys, tempfile\n"
        "from mock_server import Settings, create_app\n"
        "create_app(Settings(data_dir=tempfile.mkdtemp()))\n"
        "scaled = ('mock_server.scale', 'celery', 'psycopg', 'boto3')\n"
        "bad = sorted(m for m in sys.modules if m.startswith(scaled))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == ""
