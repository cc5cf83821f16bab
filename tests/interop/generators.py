"""Running the three client generators partners use on `openapi.yaml`, timed, with their complaints.

Each function generates into a directory and returns a `Generation`: how long it took, everything the
tool printed, and the lines of it that are warnings. The tests assert there are none about a dropped
or merged schema; `benchmarks/interop.py` prints the figures.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi.yaml"
NODE_BIN = ROOT / ".tools" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent

#: Package names of the generated Python clients (importable once their directory is on sys.path).
OPC_PACKAGE = "a2v_opc"
OGP_PACKAGE = "a2v_ogp"

#: openapi-generator lines that are not about this document, each with the reason it is ignored.
OGP_BENIGN = {
    "OpenAPI 3.1 support is still in beta": "printed for every 3.1 document",
    "Failed to get the schema name: null": "printed for any document, even a one-operation 3.0 one",
    "Error in generating `example` for the property": (
        "its README example writer cannot invent a value for `data: {enum: [null]}`; the models are whole"
    ),
}
#: Words that mean a generator gave up on part of the schema.
SCHEMA_TROUBLE = re.compile(
    r"(?i)drop|merg|skip|ignor|not supported|unsupported|cannot|can't|could not|unable|failed to lookup|"
    r"multiple|default to typing\.any|invalid"
)


@dataclass
class Generation:
    tool: str
    out: Path
    seconds: float
    output: str
    warnings: list[str] = field(default_factory=list)

    @property
    def schema_warnings(self) -> list[str]:
        """The warnings that say a schema was dropped, merged or not understood."""
        return [line for line in self.warnings if SCHEMA_TROUBLE.search(line)]


def missing_tools() -> list[str]:
    """Which generators or runtimes are not installed (scripts/test and scripts/install-interop-tools
    install them all)."""
    needed = {
        "openapi-python-client": VENV_BIN / "openapi-python-client",
        "openapi-generator-cli": VENV_BIN / "openapi-generator-cli",
        "java": shutil.which("java"),
        "node": shutil.which("node"),
        "openapi-typescript": NODE_BIN / "openapi-typescript",
        "tsc": NODE_BIN / "tsc",
        "openapi-fetch": ROOT / ".tools" / "node_modules" / "openapi-fetch" / "package.json",
    }
    return [name for name, path in needed.items() if path is None or not Path(path).exists()]


def _run(tool: str, out: Path, command: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)
    seconds = time.perf_counter() - started
    output = run.stdout + run.stderr
    if run.returncode != 0:
        raise RuntimeError(f"{tool} failed with exit code {run.returncode}:\n{output}")
    return seconds, output


def openapi_python_client(out: Path) -> Generation:
    """openapi-python-client: prints nothing but `Generating <dir>` when it reads every schema."""
    target = out / OPC_PACKAGE
    config = out / "opc-config.yaml"
    config.write_text(f"package_name_override: {OPC_PACKAGE}\nproject_name_override: {OPC_PACKAGE}\n")
    seconds, output = _run(
        "openapi-python-client",
        out,
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(SPEC),
            "--output-path",
            str(target),
            "--meta",
            "none",
            "--config",
            str(config),
            "--overwrite",
        ],
    )
    warnings = [line for line in output.splitlines() if line.strip() and not line.startswith("Generating ")]
    return Generation("openapi-python-client", out, seconds, output, warnings)


def openapi_generator_python(out: Path) -> Generation:
    """openapi-generator's `python` generator (pydantic v2 models), from the JAR in the PyPI package."""
    target = out / "ogp"
    seconds, output = _run(
        "openapi-generator",
        out,
        [
            str(VENV_BIN / "openapi-generator-cli"),
            "generate",
            "-g",
            "python",
            "-i",
            str(SPEC),
            "-o",
            str(target),
            "--package-name",
            OGP_PACKAGE,
            "--global-property",
            "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false",
        ],
    )
    warnings = [
        line
        for line in output.splitlines()
        if ("WARN" in line or "ERROR" in line) and not any(benign in line for benign in OGP_BENIGN)
    ]
    return Generation("openapi-generator (python)", target, seconds, output, warnings)


def openapi_typescript(out: Path) -> Generation:
    """openapi-typescript: the spec as TypeScript types, for openapi-fetch."""
    seconds, output = _run(
        "openapi-typescript",
        out,
        [str(NODE_BIN / "openapi-typescript"), str(SPEC), "-o", str(out / "schema.ts")],
    )
    # It prints its banner and the file it wrote; anything else is a complaint.
    warnings = [
        line
        for line in output.splitlines()
        if line.strip() and "openapi-typescript" not in line and "schema.ts" not in line
    ]
    return Generation("openapi-typescript", out, seconds, output, warnings)
