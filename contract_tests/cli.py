"""`a2v-contract`: check an A2V implementation against the spec.

Exit status: 0 the implementation conforms, 1 it does not, 2 usage or connection error.

`a2v-contract proxy --upstream URL ...` runs the validating proxy instead (`contract_tests.proxy.cli`).

Example:
    a2v-contract --base-url http://127.0.0.1:8000 --api-key KEY --second-api-key KEY2 --junit-xml out.xml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import httpx

from a2v_spec.version import version_line
from contract_tests.config import PROFILES, KitOptions
from contract_tests.requirements import GROUPS, OPTIONAL_GROUPS, select

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="a2v-contract",
        description="Check an A2V implementation against openapi.yaml (exit 0 conforms, 1 not, 2 error).",
    )
    parser.add_argument("--version", action="version", version=version_line("a2v-contract"))
    parser.add_argument("--base-url", help="Base URL of the implementation, e.g. http://127.0.0.1:8000")
    parser.add_argument("--api-key", help="Bearer token the kit uses.")
    parser.add_argument("--second-api-key", help="A second token, for the tenant isolation check.")
    parser.add_argument("--spec", type=Path, help="The openapi.yaml to check against (default: bundled).")
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default="quick", help="quick (default) or full."
    )
    parser.add_argument("--junit-xml", type=Path, help="Write JUnit XML, one testcase per requirement id.")
    parser.add_argument("--report-json", type=Path, help="Write the per-requirement report as JSON.")
    parser.add_argument(
        "--audio-base-url",
        help="Where the implementation can download the kit's audio fixtures (see --write-fixtures); "
        "default: the kit serves them itself on 127.0.0.1.",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds a task may take to end (120).")
    parser.add_argument("--seed", type=int, help="Hypothesis seed, for a reproducible run.")
    parser.add_argument(
        "--skip",
        default="",
        help=f"Comma-separated groups or ids to skip; groups: {', '.join(sorted(GROUPS))} "
        f"(optional features: {', '.join(sorted(OPTIONAL_GROUPS))}).",
    )
    parser.add_argument(
        "--only", default="", help="Comma-separated requirement id globs to run, e.g. 'A2V-FILE-*'."
    )
    parser.add_argument("--list", action="store_true", help="List the requirements and exit.")
    parser.add_argument(
        "--write-fixtures", type=Path, metavar="DIR", help="Write the audio fixtures to DIR and exit."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="Show pytest's own output too.")
    return parser


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["proxy"]:
        from contract_tests.proxy.cli import main as proxy_main

        return proxy_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        from contract_tests.requirements import REQUIREMENTS

        for req in REQUIREMENTS.values():
            print(f"{req.id:28} [{req.group}] {req.title}")
        return 0
    if args.write_fixtures:
        from a2v_spec import load_spec
        from contract_tests.audio import write_fixtures

        limits = load_spec(args.spec).limits
        for path in write_fixtures(args.write_fixtures, max_audio_seconds=limits.max_audio_seconds):
            print(path)
        return 0
    if not args.base_url or not args.api_key:
        parser.print_usage(sys.stderr)
        print("a2v-contract: error: --base-url and --api-key are required", file=sys.stderr)
        return 2
    try:
        options = KitOptions(
            base_url=args.base_url,
            api_key=args.api_key,
            second_api_key=args.second_api_key,
            spec_path=args.spec,
            profile=args.profile,
            audio_base_url=args.audio_base_url,
            timeout=args.timeout,
            seed=args.seed,
            skip=_split(args.skip),
            only=_split(args.only),
            junit_xml=args.junit_xml,
            report_json=args.report_json,
        )
        select(options.only, options.skip)
    except ValueError as err:
        print(f"a2v-contract: error: {err}", file=sys.stderr)
        return 2
    try:
        httpx.get(f"{options.base_url}/v1/ping", timeout=10)
    except httpx.HTTPError as err:
        print(f"a2v-contract: error: cannot reach {options.base_url}: {err}", file=sys.stderr)
        return 2
    from contract_tests.runner import run_with_exit_code

    result = run_with_exit_code(options, quiet=not args.verbose)
    if not args.verbose:
        print(result.report.text())
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
