"""`a2v-contract`: check an A2V implementation against the spec.

Exit status: 0 the implementation conforms, 1 it does not, 2 usage or connection error (or a base URL
that does not answer JSON at all: `contract_tests.precondition`).

`a2v-contract proxy --upstream URL ...` runs the validating proxy instead (`contract_tests.proxy.cli`).

Example:
    a2v-contract --base-url http://127.0.0.1:8000 --api-key KEY --second-api-key KEY2 --junit-xml out.xml \
                 --report-html a2v-report.html
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from a2v_spec.usage import UsageParser, usage_error
from a2v_spec.version import version_line
from contract_tests.config import PROFILES, KitOptions, Profile
from contract_tests.requirements import GROUPS, OPTIONAL_GROUPS, select

__all__ = ["main"]


_USAGE = """a2v-contract --base-url URL --api-key KEY [--second-api-key KEY2] [--profile NAME] [options]
       a2v-contract proxy --upstream URL [--listen HOST:PORT] [options]
       a2v-contract --list | --write-fixtures DIR"""

#: What each profile of `contract_tests.config.PROFILES` is for; its sizes are read from the profile.
PROFILE_PURPOSES = {
    "quick": "the default: a first check (under a minute against the mock)",
    "service": "a real, slow service: renders only the tasks the checks share, fuzzes like quick",
    "full": "a thorough run for CI or a release (minutes): many examples, more renders",
}


def _profile_sizes(profile: Profile) -> str:
    return (
        f"{profile.fuzz_examples} examples per fuzzed operation, "
        f"{profile.stateful_examples} stateful runs of {profile.stateful_steps} steps, "
        f"{profile.audio_examples} generated audio files, "
        f"waits up to {profile.expiry_wait:g} s for URLs to expire"
    )


def _epilog() -> str:
    indent = " " * 11
    profiles = "\n".join(
        f"  {name:<8} {PROFILE_PURPOSES[name]}\n"
        + textwrap.fill(f"({_profile_sizes(profile)})", 96, initial_indent=indent, subsequent_indent=indent)
        for name, profile in PROFILES.items()
    )
    return f"""\
profiles (--profile):
{profiles}

commands:
  a2v-contract [options]         check the implementation at --base-url against the spec (this page)
  a2v-contract proxy [options]   a validating proxy between a client app and the service: every
                                 exchange judged, both sides; `a2v-contract proxy --help`

exit status: 0 the implementation conforms, 1 it does not, 2 usage or connection error.
See docs/contract_tests.md and docs/proxy.md.
"""


def _parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="a2v-contract",
        usage=_USAGE,
        description="Check an A2V implementation against openapi.yaml.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_line("a2v-contract"))
    parser.add_argument("--base-url", help="Base URL of the implementation, e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("A2V_API_KEY"),
        help="Bearer token the kit uses (env A2V_API_KEY).",
    )
    parser.add_argument(
        "--second-api-key",
        default=os.environ.get("A2V_SECOND_API_KEY"),
        help="A second token, for the tenant isolation check (env A2V_SECOND_API_KEY).",
    )
    parser.add_argument("--spec", type=Path, help="The openapi.yaml to check against (default: bundled).")
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="quick",
        help=f"{', '.join(PROFILES)} (default quick): see 'profiles' below.",
    )
    parser.add_argument("--junit-xml", type=Path, help="Write JUnit XML, one testcase per requirement id.")
    parser.add_argument("--report-json", type=Path, help="Write the per-requirement report as JSON.")
    parser.add_argument(
        "--report-html",
        type=Path,
        metavar="FILE",
        help="Write a self-contained HTML conformance report to share (verdicts, coverage, timelines).",
    )
    parser.add_argument(
        "--audio-base-url",
        help="Where the implementation can download the kit's audio fixtures (see --write-fixtures); "
        "default: the kit serves them itself on 127.0.0.1.",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="Where the kit's own server (audio fixtures, callback receiver) listens; default 127.0.0.1.",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="The URL a remote implementation reaches the kit's server at (default: where it listens).",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds a task may take to end (120).")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        help="Seconds one request may wait for its answer (30); past it A2V-ANSWER-IN-TIME fails.",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        help="Stop after N requests to the service (the rest is reported blocked).",
    )
    parser.add_argument(
        "--provoke-429",
        action="store_true",
        help="Opt-in: exhaust the rate limit once to check 429 + Retry-After (A2V-RATELIMIT-429).",
    )
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


def _error(message: str) -> int:
    print(f"a2v-contract: error: {message}", file=sys.stderr)
    return 2


def _list() -> int:
    """The requirement table on stdout; a reader that stops early (`| head`) is not an error."""
    from contract_tests.requirements import REQUIREMENTS

    try:
        for req in REQUIREMENTS.values():
            print(f"{req.id:28} [{req.group}] {req.title}")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the closed pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


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
        return _list()
    if args.write_fixtures:
        from a2v_spec import load_spec
        from contract_tests.audio import write_fixtures

        limits = load_spec(args.spec).limits
        for path in write_fixtures(args.write_fixtures, max_audio_seconds=limits.max_audio_seconds):
            print(path)
        return 0
    if not args.base_url or not args.api_key:
        print(
            usage_error(parser.prog, "--base-url and --api-key (or env A2V_API_KEY) are required"),
            end="",
            file=sys.stderr,
        )
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
            request_timeout=args.request_timeout,
            max_requests=args.max_requests,
            provoke_429=args.provoke_429,
            listen=args.listen,
            public_url=args.public_url,
            seed=args.seed,
            skip=_split(args.skip),
            only=_split(args.only),
            junit_xml=args.junit_xml,
            report_json=args.report_json,
            report_html=args.report_html,
        )
        chosen, _ = select(options.only, options.skip)
    except ValueError as err:
        return _error(str(err))
    if not chosen:
        return _error(f"--only {args.only!r} matches no requirement; see a2v-contract --list")
    from a2v_spec import load_spec
    from contract_tests.precondition import announced_total, check_service

    try:
        spec = load_spec(options.spec_path)
    except Exception as err:  # a missing file, YAML that does not parse, a spec without operations
        return _error(f"cannot load the spec {str(options.spec_path or 'bundled')!r}: {err}")
    precondition = check_service(options.base_url, options.api_key, spec)
    if precondition.refusal is not None:
        return _error(precondition.refusal)
    for note in precondition.notes:
        print(f"a2v-contract: note: {note}", file=sys.stderr)
    from contract_tests.pacing import estimate_requests, plan

    total = announced_total(options.base_url, spec)
    needed = estimate_requests(options.profile_settings, spec)
    print(f"a2v-contract: {plan(needed, total, options.max_requests)}", file=sys.stderr)
    from contract_tests.runner import run_with_exit_code

    result = run_with_exit_code(options, quiet=not args.verbose)
    if not args.verbose:
        print(result.report.text())
    if result.exit_code == 2 and not result.report.items:
        return _error("the run checked nothing (rerun with -v to see pytest's own output)")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
