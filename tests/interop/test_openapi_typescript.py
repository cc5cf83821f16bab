"""openapi-typescript types + openapi-fetch: `flow.ts` compiles under `tsc --strict` and runs the flow."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from tests.interop.generators import NODE_BIN, ROOT

if TYPE_CHECKING:
    from tests.interop.conftest import Live
    from tests.interop.generators import Generation

FLOW = Path(__file__).parent / "ts" / "flow.ts"
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmitOnError": True,
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "lib": ["ES2022", "DOM"],
        # node_modules' own .d.ts files are the libraries' business; schema.ts and flow.ts are checked.
        "skipLibCheck": True,
    },
    "files": ["schema.ts", "flow.ts"],
}


def _project(ts: Generation) -> Path:
    """The generated schema, flow.ts, a tsconfig and the tools' node_modules in one directory."""
    shutil.copy(FLOW, ts.out / "flow.ts")
    (ts.out / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    (ts.out / "package.json").write_text(json.dumps({"type": "module", "private": True}))
    modules = ts.out / "node_modules"
    if not modules.exists():
        modules.symlink_to(ROOT / ".tools" / "node_modules", target_is_directory=True)
    return ts.out


def _tsc(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE_BIN / "tsc"), "-p", str(project)], capture_output=True, text=True, timeout=300, check=False
    )


def test_generates_without_warnings(ts: Generation) -> None:
    assert ts.warnings == [], ts.output
    schema = (ts.out / "schema.ts").read_text()
    for name in ("VideoPending", "VideoInProgress", "VideoFinished", "VideoFailed", "ErrorCode404"):
        assert f"        {name}: " in schema, name


def test_the_flow_compiles_under_strict(ts: Generation) -> None:
    compiled = _tsc(_project(ts))
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_the_flow_runs_against_the_mock(ts: Generation, live: Live) -> None:
    project = _project(ts)
    if not (project / "flow.js").exists():
        compiled = _tsc(project)
        assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    run = subprocess.run(
        ["node", str(project / "flow.js"), live.base_url, live.audio_url, "ts-flow"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert out["ping"] is True
    assert "eva_a0008" in out["characters"]
    assert out["variants"] == ["VideoPending:0", "VideoInProgress:true", "VideoFinished:4"]
    assert out["downloads"] == ["200:ftyp", "200:ftyp"]
    assert out["failed"] == "VideoFailed:10003"
    listed = dict(out["listed"])
    assert sorted(listed.values()) == ["VideoFailed:10003", "VideoFinished:4"]
    assert out["unknownModel"] == [404, 20001]
    assert out["missingField"][:2] == [400, 1003]
    assert "audio_url" in out["missingField"][2]
    assert out["unknownId"] == [404, 20002]
    assert out["noToken"] == [401, 1001]


def test_strict_compilation_catches_a_promise_the_spec_breaks(ts: Generation, tmp_path: Path) -> None:
    """If VideoFinished stopped requiring video_url, flow.ts would no longer compile."""
    broken = tmp_path / "broken"
    shutil.copytree(_project(ts), broken, symlinks=True, ignore=shutil.ignore_patterns("*.js"))
    schema = (broken / "schema.ts").read_text()
    marker = "            video_url: string;"
    assert schema.count(marker) == 1
    (broken / "schema.ts").write_text(schema.replace(marker, "            video_url?: string;", 1))
    compiled = _tsc(_project_at(broken))
    assert compiled.returncode != 0
    assert "video_url" in compiled.stdout or "TS2322" in compiled.stdout, compiled.stdout


def _project_at(directory: Path) -> Path:
    (directory / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    return directory
