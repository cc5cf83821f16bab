"""`a2v-contract proxy`: put the proxy between a client app and an A2V service, judge both sides.

Each violation is printed when it happens; on exit (Ctrl-C or SIGTERM, which uvicorn turns into a clean
shutdown) the summary is printed and the reports written. Exit status: 0 nothing was broken, 1 some
rule was, 2 usage error.

Example:
    a2v-contract proxy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080 \
        --record traffic/ --junit-xml proxy.xml
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from a2v_spec.usage import UsageParser
from a2v_testkit.protocol import listen, uvicorn_options

if TYPE_CHECKING:
    import argparse

    import uvicorn

    from contract_tests.proxy.violations import TrafficViolation

__all__ = ["main", "server_config"]


def _parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="a2v-contract proxy",
        description="A validating reverse proxy: forwards to --upstream and judges the server and the "
        "client against openapi.yaml (exit 0 nothing broken, 1 violations, 2 error).",
    )
    parser.add_argument(
        "--upstream", required=True, help="Base URL of the A2V service, e.g. https://api.a2v.example"
    )
    parser.add_argument("--listen", default="127.0.0.1:8080", help="host:port to listen on (127.0.0.1:8080).")
    parser.add_argument(
        "--record", type=Path, metavar="DIR", help="Write the exchanges to DIR/exchanges.jsonl."
    )
    parser.add_argument(
        "--record-files",
        action="store_true",
        help="With --record, also keep the downloaded media in DIR/files/.",
    )
    parser.add_argument(
        "--junit-xml", type=Path, help="Write JUnit XML on exit (one testcase per requirement)."
    )
    parser.add_argument("--report-json", type=Path, help="Write the report as JSON on exit.")
    parser.add_argument("--spec", type=Path, help="The openapi.yaml to judge against (default: bundled).")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="Seconds to wait for the upstream (120)."
    )
    parser.add_argument(
        "--max-body-mib", type=int, default=64, help="MiB of each body kept for judging and recording (64)."
    )
    parser.add_argument(
        "--no-fetch-audio",
        action="store_true",
        help="Do not download a task's audio to compare the video's duration with it.",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="Print only the summary, not each violation."
    )
    return parser


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen takes host:port (e.g. 127.0.0.1:8080), got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def server_config(app: Any) -> uvicorn.Config:
    """How the proxy is served: the project's HTTP protocol (`a2v_testkit.protocol`: Nagle off, an
    `Upgrade: h2c` request read as the HTTP/1.1 it is, bounded heads and idle connections)."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # The upstream's own Server and Date headers pass through; uvicorn's would double them.
        server_header=False,
        date_header=False,
        **uvicorn_options(),
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import uvicorn

    from contract_tests.proxy.app import ProxyConfig, create_app
    from contract_tests.proxy.report import SessionReport

    try:
        host, port = _listen(args.listen)
        if args.record_files and args.record is None:
            raise ValueError("--record-files needs --record DIR")
        config = ProxyConfig(
            upstream=args.upstream,
            body_limit=args.max_body_mib << 20,
            timeout=args.timeout,
            record_dir=args.record,
            record_files=args.record_files,
            spec_path=args.spec,
            fetch_audio=not args.no_fetch_audio,
        )
    except ValueError as err:
        print(f"a2v-contract proxy: error: {err}", file=sys.stderr)
        return 2

    def show(violation: TrafficViolation) -> None:
        if not args.quiet:
            print(violation.text(), flush=True)

    try:
        sock = listen(host, port)  # IPPROTO_TCP: Nagle off on every connection (a2v_testkit.protocol)
    except OSError as err:
        print(f"a2v-contract proxy: error: cannot listen on {host}:{port}: {err.strerror}", file=sys.stderr)
        return 2
    app = create_app(config, on_violation=show)
    print(f"a2v-contract proxy: http://{host}:{port} -> {config.upstream} (Ctrl-C to stop)", flush=True)
    server = uvicorn.Server(server_config(app))
    # uvicorn turns SIGINT/SIGTERM into a graceful shutdown, then re-raises the signal to the handler
    # it found: make that one a no-op, so the summary and the reports still get written.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: None)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    report = SessionReport(app.proxy.judge)
    print(report.text(), flush=True)
    if args.report_json:
        report.write_json(args.report_json)
    if args.junit_xml:
        report.write_junit(args.junit_xml)
    if not server.started:
        return 2
    return 0 if report.clean else 1
