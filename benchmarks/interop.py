"""Per generator: how long generating a client from `openapi.yaml` takes and what it complains about;
then how long the interop tests take and what each client's flow gave.

Run: .venv/bin/python benchmarks/interop.py [--runs N] [--no-tests]

Targets (issue 11): 0 warnings about a dropped or merged schema for every tool; every flow passes.
Generation runs in a fresh temporary directory each time (as the tests do, once per session); the
interop tests run with `pytest tests/interop -m interop` and their wall time is what they add to CI.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.interop import generators

TOOLS = {
    "openapi-python-client": generators.openapi_python_client,
    "openapi-generator (python)": generators.openapi_generator_python,
    "openapi-typescript": generators.openapi_typescript,
    "openapi-generator (go)": generators.openapi_generator_go,
    "openapi-generator (java native)": generators.openapi_generator_java,
    "openapi-generator (typescript-fetch)": generators.openapi_generator_typescript_fetch,
    "@hey-api/openapi-ts": generators.hey_api,
    "openapi-zod-client": generators.openapi_zod_client,
    "datamodel-code-generator": generators.datamodel_code_generator,
}
FLOWS = {
    "openapi-python-client": "tests/interop/test_openapi_python_client.py",
    "openapi-generator (python)": "tests/interop/test_openapi_generator.py",
    "openapi-typescript": "tests/interop/test_openapi_typescript.py",
    "openapi-core (validator)": "tests/interop/test_openapi_core.py",
    "openapi-generator (go)": "tests/interop/test_go.py",
    "openapi-generator (java native)": "tests/interop/test_java.py",
    "openapi-generator (typescript-fetch)": "tests/interop/test_typescript_fetch.py",
    "@hey-api/openapi-ts": "tests/interop/test_hey_api.py",
    "openapi-zod-client": "tests/interop/test_zod.py",
    "datamodel-code-generator": "tests/interop/test_datamodel.py",
    "Spectral and Redocly": "tests/interop/test_linters.py",
    "patterns (node, Python, Java, Go)": "tests/interop/test_patterns.py",
}


def generation(runs: int) -> None:
    print(
        f"{'tool':28} {'seconds (median of ' + str(runs) + ')':>26} {'warnings':>9} {'schema warnings':>16}"
    )
    for name, generate in TOOLS.items():
        times, last = [], None
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as out:
                last = generate(Path(out))
                times.append(last.seconds)
        assert last is not None
        median = statistics.median(times)
        print(f"{name:28} {median:26.2f} {len(last.warnings):9d} {len(last.schema_warnings):16d}")
        for line in last.warnings:
            print(f"    {line}")


def flows() -> None:
    root = Path(__file__).resolve().parents[1]
    started = time.perf_counter()
    for name, path in FLOWS.items():
        begun = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", path, "-q"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr.strip()[-200:]
        print(f"{name:32} {time.perf_counter() - begun:7.1f} s  {summary}")
    whole = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/interop", "-q"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    last_line = run.stdout.strip().splitlines()[-1]
    print(f"{'all of tests/interop, one process':32} {time.perf_counter() - whole:7.1f} s  {last_line}")
    print(f"(separate files above: {whole - started:.1f} s, each with its own generation and mock)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="generations per tool (median reported)")
    parser.add_argument("--no-tests", action="store_true", help="only time the generators")
    args = parser.parse_args()
    missing = generators.missing_tools()
    if missing:
        sys.exit(f"missing tools: {', '.join(missing)} (bash scripts/test installs them)")
    generation(args.runs)
    if not args.no_tests:
        print()
        flows()


if __name__ == "__main__":
    main()
