"""Compiling a generated client with the flow program written for it, offline, and running the flow.

Each build puts the flow beside the generated sources, compiles both with the language's own compiler
(`go build` against Debian's Go packages with no module download, `javac` against Debian's jars, `tsc
--strict`), and returns a `Build`: the compiler's answer and the command that runs the flow. `run_flow`
runs it against a live mock and returns the JSON the flow printed; `check_flow` asserts what every flow
must have seen, so each language is held to the same promises.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.interop.generators import (
    DEBIAN_GOCODE,
    DEBIAN_JARS,
    DEBIAN_JAVA,
    JACKSON_JSR310,
    NODE_BIN,
    NODE_MODULES,
    VENV_BIN,
)

if TYPE_CHECKING:
    from tests.interop.conftest import Live
    from tests.interop.generators import Generation

HERE = Path(__file__).parent


@dataclass
class Build:
    """A compiled flow: whether the compiler accepted it, what it said, and how to run the flow."""

    ok: bool
    output: str
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def _compile(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[bool, str]:
    run = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return run.returncode == 0, run.stdout + run.stderr


def go_env(work: Path) -> dict[str, str]:
    """Module mode from `vendor/` only: no proxy, no checksum database, no toolchain download."""
    return {
        "GOFLAGS": "-mod=vendor",
        "GOPROXY": "off",
        "GONOSUMDB": "*",
        "GOTOOLCHAIN": "local",
        "GOCACHE": str(work / "gocache"),
        "GOPATH": str(work / "gopath"),
        "CGO_ENABLED": "0",
    }


def vendor_from_debian(module_dir: Path) -> list[str]:
    """Fill `vendor/` with the sources of each module go.mod requires, from Debian's golang-*-dev
    packages; returns the modules Debian does not have."""
    go_mod = (module_dir / "go.mod").read_text()
    required = re.findall(r"^\s*([\w./-]+\.[\w./-]+)\s+(v[\w.+-]+)\s*$", go_mod, re.MULTILINE)
    missing: list[str] = []
    lines: list[str] = []
    for module, version in required:
        source = DEBIAN_GOCODE / module
        if not source.is_dir():
            missing.append(module)
            continue
        target = module_dir / "vendor" / module
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("*_test.go", "testdata"))
        lines += [f"# {module} {version}", "## explicit", module]
    (module_dir / "vendor").mkdir(exist_ok=True)
    (module_dir / "vendor" / "modules.txt").write_text("\n".join(lines) + "\n")
    return missing


def build_go(generation: Generation, work: Path) -> Build:
    """`go build` of tests/interop/go/flow.go as a command inside the generated module."""
    module_dir = generation.out
    missing = vendor_from_debian(module_dir)
    if missing:
        return Build(False, f"not in Debian's /usr/share/gocode: {missing}")
    flow_dir = module_dir / "cmd" / "flow"
    flow_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "go" / "flow.go", flow_dir / "main.go")
    binary = work / "go-flow"
    ok, output = _compile(["go", "build", "-o", str(binary), "./cmd/flow"], module_dir, go_env(work))
    return Build(ok, output, [str(binary)])


def java_classpath(work: Path) -> str:
    """Debian's jars, then the jsr310 classes taken out of the openapi-generator JAR (PyPI wheel)."""
    jsr310 = work / "jsr310"
    if not jsr310.exists():
        jar = next((VENV_BIN.parent / "lib").glob("python3*/site-packages/openapi_generator_cli/*.jar"))
        with zipfile.ZipFile(jar) as archive:
            for name in archive.namelist():
                if name.startswith(JACKSON_JSR310):
                    archive.extract(name, jsr310)
    jars = [str(DEBIAN_JAVA / f"{jar}.jar") for jar in DEBIAN_JARS]
    return os.pathsep.join([*jars, str(jsr310)])


def build_java(generation: Generation, work: Path) -> Build:
    """`javac` of the generated sources and tests/interop/java/Flow.java."""
    classes = work / "classes"
    classpath = java_classpath(work)
    sources = sorted(str(path) for path in (generation.out / "src" / "main" / "java").rglob("*.java"))
    command = ["javac", "-nowarn", "-encoding", "UTF-8", "-d", str(classes), "-cp", classpath]
    ok, output = _compile([*command, *sources, str(HERE / "java" / "Flow.java")], generation.out)
    runner = ["java", "-cp", os.pathsep.join([classpath, str(classes)]), "Flow"]
    return Build(ok, output, runner)


#: `tsc --strict`, CommonJS output (the generated sources import without file extensions).
TSCONFIG: dict[str, Any] = {
    "compilerOptions": {
        "strict": True,
        "noEmitOnError": True,
        "target": "ES2022",
        "module": "commonjs",
        "moduleResolution": "node",
        "lib": ["ES2022", "DOM", "DOM.Iterable"],
        # node_modules' own .d.ts files are the libraries' business; the generated code and the flow
        # are checked.
        "skipLibCheck": True,
        "outDir": "js",
    },
}


def build_typescript(generation: Generation, flow: str, include: list[str]) -> Build:
    """`tsc --strict` of the generated sources (`include` globs) and tests/interop/<flow>/flow.ts."""
    project = generation.out
    shutil.copy(HERE / flow / "flow.ts", project / "flow.ts")
    (project / "tsconfig.json").write_text(json.dumps({**TSCONFIG, "include": ["flow.ts", *include]}))
    modules = project / "node_modules"
    if not modules.exists():
        modules.symlink_to(NODE_MODULES, target_is_directory=True)
    ok, output = _compile([str(NODE_BIN / "tsc"), "-p", str(project)], project)
    return Build(ok, output, ["node", str(project / "js" / "flow.js")])


def run_flow(build: Build, live: Live, token: str) -> dict[str, Any]:
    """Run a built flow against the live mock; the JSON it printed."""
    assert build.ok, build.output
    run = subprocess.run(
        [*build.command, live.base_url, live.audio_url, token],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **build.env},
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return out


def check_flow(out: dict[str, Any], base_url: str) -> None:
    """What every client must have seen: the characters; a task parsed as each variant in order up to
    `VideoFinished`, with URLs to the files; a failed task whose typed code is `AUDIO_NOT_DECODABLE`;
    and four refusals whose bodies parsed into the error model of their status, code equal to the
    generated constant (`[status, code, equals the constant]`)."""
    assert out["ping"] is True
    assert "eva_a0008" in out["characters"]
    assert out["variants"] == ["VideoPending", "VideoInProgress", "VideoFinished"]
    video_url, mask_url = out["finished"]
    assert re.fullmatch(re.escape(base_url) + r"/files/videos/[0-9a-f]{32}\.mp4\?.+", video_url), video_url
    assert re.fullmatch(re.escape(base_url) + r"/files/videos/[0-9a-f]{32}\.mask\.mp4\?.+", mask_url), (
        mask_url
    )
    assert out["failed"] == ["VideoFailed", 10003, True]
    assert out["unknownModel"] == [404, 20001, True]
    assert out["badUrl"][:3] == [400, 1003, True]
    assert "audio_url" in out["badUrl"][3]
    assert out["unknownId"] == [404, 20002, True]
    assert out["noToken"] == [401, 1001, True]
