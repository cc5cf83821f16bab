"""deploy/Dockerfile builds its wheel from what it COPYs: that set must make a working package.

No container engine runs here, so the image's build stage is replayed by hand: the paths of the build
stage's `COPY` lines are copied as written into an empty folder, the wheel is built from it offline
(`pip wheel --no-deps --no-build-isolation --no-index`, hatchling from the venv), and then, with the
project's own folders and editable install out of the path:

- every import of a project module, anywhere in the wheel (function-level ones too: the built-in
  samples import `a2v_testkit` only when first asked for), names a module the wheel holds;
- every console script's module imports, from the wheel, and the built-in sample `hello.wav` is made
  and the spec loads, as the image's `a2v-mock serve` does on its first requests.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

pytestmark = pytest.mark.slow


def build_stage_copies(dockerfile: str) -> list[tuple[list[str], str]]:
    """(sources, destination) of each `COPY` of the first stage that copies from the build context."""
    lines = re.sub(r"\\\n", " ", dockerfile).splitlines()
    copies: list[tuple[list[str], str]] = []
    stages = 0
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "FROM":
            stages += 1
        elif words[0].upper() == "COPY" and stages == 1:
            args = [w for w in words[1:] if not w.startswith("--")]
            if any(w.startswith("--from") for w in words[1:]):
                continue
            copies.append((args[:-1], args[-1]))
    return copies


def replay_copies(copies: list[tuple[list[str], str]], context: Path, workdir: Path) -> None:
    """Copy as Docker would: several sources or a destination ending in `/` go into that folder."""
    for sources, destination in copies:
        target = workdir / destination
        into_folder = destination.endswith("/") or len(sources) > 1
        for source in sources:
            path = context / source
            assert path.exists(), f"deploy/Dockerfile copies {source}, which does not exist"
            where = target / path.name if into_folder else target
            where.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, where, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, where)


def test_the_copy_lines_are_read_as_docker_reads_them() -> None:
    copies = build_stage_copies(
        "FROM a AS build\nCOPY x.toml y.md ./\nCOPY pkg pkg\nCOPY --chown=1 z \\\n  z\n"
        "FROM b\nCOPY --from=build /wheels /wheels\nCOPY late late\n"
    )
    assert copies == [(["x.toml", "y.md"], "./"), (["pkg"], "pkg"), (["z"], "z")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dockerfile")
    workdir = tmp / "src"
    workdir.mkdir()
    copies = build_stage_copies(DOCKERFILE.read_text())
    assert copies, "no COPY line in deploy/Dockerfile's build stage"
    replay_copies(copies, ROOT, workdir)
    out = tmp / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(out), str(workdir)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (found,) = out.glob("a2v_kit-*.whl")
    site = tmp / "site"
    with zipfile.ZipFile(found) as archive:
        archive.extractall(site)
    return site


def _project_packages() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])


def _module_exists(site: Path, dotted: str) -> bool:
    path = site.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_every_project_import_in_the_wheel_is_in_the_wheel(wheel: Path) -> None:
    packages = _project_packages()
    missing: set[str] = set()
    for source in wheel.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.partition(".")[0] in packages and not _module_exists(wheel, name):
                    missing.add(f"{name} (imported by {source.relative_to(wheel)})")
    assert not missing, "the image's wheel lacks: " + "; ".join(sorted(missing))


def test_every_console_script_runs_from_the_wheel(wheel: Path) -> None:
    (info,) = wheel.glob("a2v_kit-*.dist-info")
    entry_points = (info / "entry_points.txt").read_text()
    section = entry_points.split("[console_scripts]", 1)[1].split("\n[", 1)[0]
    modules = sorted(
        {line.split("=", 1)[1].strip().split(":")[0] for line in section.splitlines() if "=" in line}
    )
    assert {"mock_server.runtime.cli", "reference_renderer.cli", "contract_tests.cli"} <= set(modules)
    script = textwrap.dedent(
        f"""
        import importlib, os, sys
        site = {str(wheel)!r}
        # only the wheel: not this checkout, not the venv's editable install of it
        ours = lambda p: os.path.isdir(os.path.join(p, "mock_server"))
        sys.path[:] = [site] + [p for p in sys.path if p and not ours(p)]
        for name in {modules!r}:
            module = importlib.import_module(name)
            assert module.__file__.startswith(site), (name, module.__file__)
            assert callable(module.main), name
        from mock_server.tasks.samples import Samples
        assert Samples().bytes_of("hello.wav")[:4] == b"RIFF"
        import a2v_testkit, a2v_spec
        assert a2v_testkit.__file__.startswith(site), a2v_testkit.__file__
        assert a2v_spec.load_spec().operations
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=wheel.parent, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "ok"


def test_docs_show_the_dockerfile_as_it_is() -> None:
    """docs/deploy.md quotes the whole Dockerfile; the quote must not drift from the file."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    quoted = re.search(r"```dockerfile\n(.*?)```", text, re.S)
    assert quoted is not None, "docs/deploy.md has no ```dockerfile block"
    assert quoted.group(1) == DOCKERFILE.read_text()
