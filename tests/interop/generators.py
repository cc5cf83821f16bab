"""Running the client generators partners use on `openapi.yaml`, timed, with their complaints.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi.yaml"
NODE_MODULES = ROOT / ".tools" / "node_modules"
NODE_BIN = NODE_MODULES / ".bin"
VENV_BIN = Path(sys.executable).parent
#: Where Debian's golang-*-dev packages put Go sources, and its Java libraries' jars.
DEBIAN_GOCODE = Path("/usr/share/gocode/src")
DEBIAN_JAVA = Path("/usr/share/java")
#: The jars the `java` client (library `native`, Jakarta annotations, no JsonNullable) compiles against,
#: all from Debian packages (scripts/install-interop-tools), plus JACKSON_JSR310 below.
DEBIAN_JARS = ("jackson-core", "jackson-databind", "jackson-annotations", "jakarta-annotation-api")
#: The native client registers Jackson's JavaTimeModule unconditionally, and Debian packages no
#: jackson-datatype-jsr310; its classes come from the openapi-generator JAR (the PyPI wheel) instead.
JACKSON_JSR310 = "com/fasterxml/jackson/datatype/jsr310/"

#: Package names of the generated Python clients (importable once their directory is on sys.path).
OPC_PACKAGE = "a2v_opc"
OGP_PACKAGE = "a2v_ogp"

#: openapi-generator lines that are not about this document, each with the reason it is ignored.
OGP_BENIGN = {
    "OpenAPI 3.1 support is still in beta": "printed for every 3.1 document",
    "Failed to get the schema name: null": "printed for any document, even a one-operation 3.0 one",
    "Error in generating `example` for the property": (
        "its README example writer cannot invent a value for `data: {const: null}`; the models are whole"
    ),
    "Ignoring complex example on request body": (
        "java: its API documentation writer shows no object-valued request example; the models are whole"
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


def _needed() -> dict[str, str | Path | None]:
    return {
        "openapi-python-client": VENV_BIN / "openapi-python-client",
        "openapi-generator-cli": VENV_BIN / "openapi-generator-cli",
        "datamodel-codegen": VENV_BIN / "datamodel-codegen",
        "java": shutil.which("java"),
        "javac": shutil.which("javac"),
        "go": shutil.which("go"),
        "node": shutil.which("node"),
        "openapi-typescript": NODE_BIN / "openapi-typescript",
        "tsc": NODE_BIN / "tsc",
        "openapi-fetch": NODE_MODULES / "openapi-fetch" / "package.json",
        "@hey-api/openapi-ts": NODE_BIN / "openapi-ts",
        "openapi-zod-client": NODE_BIN / "openapi-zod-client",
        "@zodios/core": NODE_MODULES / "@zodios" / "core" / "package.json",
        "spectral": NODE_BIN / "spectral",
        "redocly": NODE_BIN / "redocly",
        **{f"Debian {jar}.jar": DEBIAN_JAVA / f"{jar}.jar" for jar in DEBIAN_JARS},
        "Debian gopkg.in/validator.v2": DEBIAN_GOCODE / "gopkg.in" / "validator.v2",
    }


def missing_tools(names: Iterable[str] | None = None) -> list[str]:
    """Which of `names` (all when None) are not installed; scripts/test and
    scripts/install-interop-tools install them all."""
    needed = _needed()
    chosen = needed if names is None else {name: needed[name] for name in names}
    return [name for name, path in chosen.items() if path is None or not Path(path).exists()]


def _run(
    tool: str, out: Path, command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=cwd, check=False)
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


def _openapi_generator(name: str, target: Path, generator: str, *options: str) -> Generation:
    """One openapi-generator generator, from the JAR in the PyPI package; its warnings but OGP_BENIGN."""
    seconds, output = _run(
        "openapi-generator",
        target,
        [
            str(VENV_BIN / "openapi-generator-cli"),
            "generate",
            "-g",
            generator,
            "-i",
            str(SPEC),
            "-o",
            str(target),
            "--global-property",
            "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false",
            *options,
        ],
    )
    warnings = [
        line
        for line in output.splitlines()
        if ("WARN" in line or "ERROR" in line or ("Exception" in line and " INFO " not in line))
        and not any(benign in line for benign in OGP_BENIGN)
    ]
    return Generation(name, target, seconds, output, warnings)


def openapi_generator_python(out: Path) -> Generation:
    """openapi-generator's `python` generator (pydantic v2 models)."""
    return _openapi_generator(
        "openapi-generator (python)", out / "ogp", "python", "--package-name", OGP_PACKAGE
    )


def openapi_generator_go(out: Path) -> Generation:
    """openapi-generator's `go` generator with its default options (package `openapi`)."""
    return _openapi_generator("openapi-generator (go)", out / "go", "go")


#: The `java` generator's options: Java's own HttpClient (`native`), Jakarta annotations (Debian's
#: libjakarta-annotation-api-java; the default javax ones need javax.annotation-api and jsr305) and no
#: JsonNullable (jackson-databind-nullable is not in Debian; nothing in the spec is nullable).
JAVA_OPTIONS = ("--library", "native", "--additional-properties", "useJakartaEe=true,openApiNullable=false")


def openapi_generator_java(out: Path) -> Generation:
    """openapi-generator's `java` generator, library `native` (see JAVA_OPTIONS)."""
    return _openapi_generator("openapi-generator (java native)", out / "java", "java", *JAVA_OPTIONS)


def openapi_generator_typescript_fetch(out: Path) -> Generation:
    """openapi-generator's `typescript-fetch` generator with its default options."""
    return _openapi_generator("openapi-generator (typescript-fetch)", out / "tsf", "typescript-fetch")


def hey_api(out: Path) -> Generation:
    """@hey-api/openapi-ts with its default plugins (types, SDK, its fetch client)."""
    target = out / "hey"
    seconds, output = _run(
        "@hey-api/openapi-ts",
        out,
        [str(NODE_BIN / "openapi-ts"), "-i", str(SPEC), "-o", str(target)],
        env={"NO_COLOR": "1", "FORCE_COLOR": "0"},
    )
    # It prints its banner, the job, the input and a check mark with the output; anything else is a
    # complaint.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    warnings = [
        line
        for line in plain.splitlines()
        if line.strip() and not re.search(r"@hey-api/openapi-ts v|Generating\.\.\.|\] /|\u2713 ", line)
    ]
    return Generation("@hey-api/openapi-ts", target, seconds, output, warnings)


def openapi_zod_client(out: Path) -> Generation:
    """openapi-zod-client's default template: a Zodios client whose schemas are zod's."""
    target = out / "zod"
    target.mkdir(parents=True, exist_ok=True)
    seconds, output = _run(
        "openapi-zod-client",
        out,
        [str(NODE_BIN / "openapi-zod-client"), str(SPEC), "-o", str(target / "client.ts")],
    )
    warnings = [
        line
        for line in output.splitlines()
        if line.strip() and not line.startswith(("Retrieving OpenAPI document", "Done generating"))
    ]
    return Generation("openapi-zod-client", target, seconds, output, warnings)


#: The module datamodel-code-generator writes (importable once its directory is on sys.path).
DATAMODEL_MODULE = "a2v_datamodel"


def datamodel_code_generator(out: Path) -> Generation:
    """datamodel-code-generator: pydantic v2 models of the spec's schemas (its built-in formatter, the
    default it announces; the only option besides the input and output kinds)."""
    target = out / "datamodel"
    target.mkdir(parents=True, exist_ok=True)
    seconds, output = _run(
        "datamodel-code-generator",
        out,
        [
            str(VENV_BIN / "datamodel-codegen"),
            "--input",
            str(SPEC),
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--formatters",
            "builtin",
            "--output",
            str(target / f"{DATAMODEL_MODULE}.py"),
        ],
    )
    warnings = [line for line in output.splitlines() if line.strip()]
    return Generation("datamodel-code-generator", target, seconds, output, warnings)


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
