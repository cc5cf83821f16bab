"""`a2v-mock`: serve the mock A2V API with uvicorn; `a2v-mock worker`: run its tasks on other machines.

    a2v-mock [serve] [flags]     the API (no subcommand: as before, the embedded default)
    a2v-mock worker [flags]      run tasks from the broker (`--queue`); see docs/deploy.md

Settings come from the defaults, the config file (`--config`), `A2V_<SETTING>` environment variables
and the flags, each overriding the one before.

Everything that can stop the server is checked before it starts, and reported as one line with exit
status 2: a bad flag, a config file that does not parse (with the YAML error's line), a missing or
invalid characters file, an unusable data directory or database file, a data directory another server
holds, a port in use. The banner is printed once the
socket is bound and the server is serving, with the real port.

Example::

    a2v-mock --port 8000 --data-dir ./a2v-data --api-key secret
    a2v-mock --port 0 --latency 50-200 --rate-limit 30/60 --cors http://localhost:5173
    a2v-mock serve --store postgresql://db/a2v --queue amqp://mq/a2v --files s3://bucket/prefix
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from a2v_spec.usage import UsageParser
from a2v_spec.version import version_line

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable

    from mock_server.config import Settings

__all__ = ["main"]


_USAGE = """a2v-mock [serve] [options]
       a2v-mock worker [options]"""

_EPILOG = """\
commands:
  serve    the API server (the default: `a2v-mock` alone is `a2v-mock serve`)
  worker   run the render tasks of a scaled-out deployment from its broker (--queue) on other
           machines; `a2v-mock worker --help` lists its options

Settings come from the defaults, --config FILE, A2V_<SETTING> environment variables and the flags,
each overriding the one before. The scaled-out mode (--store postgresql://..., --queue amqp://...,
--files s3://..., and `worker`) needs the scale extra: pip install 'a2v-kit[scale]'.
See docs/mock_server.md and docs/deploy.md.

exit status: 0 stopped cleanly, 1 the server failed while running, 2 it could not start.
"""


def _parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="a2v-mock",
        usage=_USAGE,
        description="A stateful local stand-in for the A2V API, with real renders.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_line("a2v-mock"))
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000; 0 picks a free one)")
    parser.add_argument(
        "--data-dir", type=Path, help="where the database and videos live (default ./a2v-data)"
    )
    parser.add_argument("--config", type=Path, help="a YAML file of settings (flags override it)")
    parser.add_argument(
        "--reload", action="store_true", help="watch the config and characters files and apply changes live"
    )
    parser.add_argument("--characters", type=Path, metavar="FILE.yaml", help="extra characters")
    parser.add_argument(
        "--api-key", action="extend", nargs="+", dest="api_keys", metavar="KEY", help="accept only these keys"
    )
    parser.add_argument("--admin-key", help="protect /__admin with this bearer token")
    parser.add_argument(
        "--cors",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="let pages on ORIGIN call the mock (repeatable; default: any origin in open mode, none keyed)",
    )
    parser.add_argument("--no-cors", action="store_true", help="answer no cross-origin request")
    parser.add_argument("--url-ttl", type=int, metavar="SECONDS", help="lifetime of signed file URLs")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address clients use, named by every URL built (behind a proxy)",
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="proxies whose X-Forwarded-* headers are believed, comma-separated (default 127.0.0.1,::1)",
    )
    parser.add_argument(
        "--rate-limit", metavar="N/SECONDS", help="requests per window per token, e.g. 30/60 as upstream"
    )
    parser.add_argument("--latency", metavar="MIN-MAX", help="added latency in ms on API calls, e.g. 50-200")
    for kind in ("audio", "callback"):
        parser.add_argument(
            f"--{kind}-hosts",
            f"--{kind}-host",
            action="extend",
            nargs="+",
            dest=f"{kind}_hosts",
            metavar="HOST",
            help=f"allow {kind} URLs only to these hosts, loopback/private ones too (docs/security.md)",
        )
    parser.add_argument("--render-workers", type=int, help="render processes (default: the number of cores)")
    parser.add_argument("--test-mode", action="store_true", default=None, help="validate every response")
    parser.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="replay the tasks of a recording (a2v-contract proxy --record DIR): a generate with a recorded "
        "body follows the recorded statuses, timing, outcome and files",
    )
    parser.add_argument(
        "--replay-speed", type=float, metavar="X", help="run replayed tasks X times faster (default 1)"
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    parser.add_argument("--log-format", choices=["text", "json"], help="one line per event (default text)")
    _shared_flags(parser)
    parser.add_argument(
        "--presign-urls",
        action="store_true",
        default=None,
        help="downloads redirect to the object store's own signed URLs",
    )
    return parser


def _shared_flags(parser: argparse.ArgumentParser) -> None:
    """Where the shared state lives: the same flags for `serve` and `worker` (docs/deploy.md)."""
    parser.add_argument("--store", help="postgresql://user:pass@host/db (default: SQLite in the data dir)")
    parser.add_argument("--queue", help="amqp://user:pass@host/vhost: tasks run on `a2v-mock worker`s")
    parser.add_argument("--files", help="s3://bucket/prefix for result files (default: the data dir)")
    parser.add_argument("--s3-endpoint-url", help="an S3-compatible endpoint (default: AWS)")


def _backend_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "store": args.store,
        "queue": args.queue,
        "files": args.files,
        "s3_endpoint_url": args.s3_endpoint_url,
    }


def _worker_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="a2v-mock worker",
        description="Run tasks from the broker: fetch, render, upload, finish. Needs the scale extra "
        "(pip install 'a2v-kit[scale]'). See docs/deploy.md.",
    )
    parser.add_argument("--config", type=Path, help="the YAML settings file the API replicas use")
    _shared_flags(parser)
    parser.add_argument("--concurrency", type=int, default=1, help="renders at once (1: the solo pool)")
    parser.add_argument("--metrics-port", type=int, help="serve this worker's Prometheus metrics here")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address of --metrics-port")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    parser.add_argument("--log-format", choices=["text", "json"], help="one line per event (default text)")
    return parser


def _read_settings(config: Path | None) -> Settings:
    """The config file (or the defaults), with `A2V_*` environment variables over it."""
    import os

    from mock_server.config import Settings
    from mock_server.runtime.envconfig import overlay
    from mock_server.runtime.startup import StartupError, read_config

    settings = read_config(config) if config else Settings()
    try:
        return overlay(settings, os.environ)
    except ValueError as err:
        raise StartupError(str(err)) from None


def worker_main(argv: list[str]) -> int:
    """`a2v-mock worker`: consume render messages until SIGTERM."""

    from mock_server.config import SCALE_MODULES, missing_scale_extra
    from mock_server.runtime.startup import StartupError

    args = _worker_parser().parse_args(argv)
    try:
        settings = _read_settings(args.config)
        changes = {**_backend_flags(args), "log_level": args.log_level, "log_format": args.log_format}
        settings = settings.replace(**{k: v for k, v in changes.items() if v is not None})
    except (StartupError, TypeError, ValueError) as err:
        print(f"a2v-mock worker: {err}", file=sys.stderr)
        return 2
    if not (settings.store and settings.queue and settings.files):
        print(
            "a2v-mock worker: --store, --queue and --files are all required (or A2V_STORE, ...)",
            file=sys.stderr,
        )
        return 2
    if (missing := missing_scale_extra(settings, tuple(SCALE_MODULES))) is not None:
        print(f"a2v-mock worker: {missing}", file=sys.stderr)
        return 2
    from mock_server.scale.worker import WorkerOptions, run_worker

    if args.metrics_port is not None and args.concurrency != 1:
        print(
            "a2v-mock worker: --metrics-port needs --concurrency 1 (run one worker per core)", file=sys.stderr
        )
        return 2
    options = WorkerOptions(
        store=settings.store,
        queue=settings.queue,
        files=settings.files,
        s3_endpoint_url=settings.s3_endpoint_url,
        queue_name=settings.queue_name,
        concurrency=args.concurrency,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
    )
    return run_worker(settings, options, settings.log_level.upper())


def _flagged_settings(args: argparse.Namespace) -> Settings:
    """The config file with the flags over it and its characters checked (at start-up and on reload)."""
    from mock_server.runtime.startup import StartupError, check_characters

    settings = _read_settings(args.config)
    try:
        settings = settings.replace(**_changes(args))
    except (TypeError, ValueError) as err:
        raise StartupError(str(err)) from None
    check_characters(settings)
    return settings


def _check_scale_extra(settings: Settings) -> None:
    """One line, not a traceback, when a scaled-out setting's packages are not installed."""
    from mock_server.config import missing_scale_extra
    from mock_server.runtime.startup import StartupError

    if (missing := missing_scale_extra(settings)) is not None:
        raise StartupError(missing)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the flags set (None: not given, the config file or the default applies)."""
    from mock_server.runtime.startup import parse_latency, parse_rate_limit

    if args.no_cors and args.cors_origins:
        raise ValueError("--cors and --no-cors contradict each other; give one")
    changes: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "characters_file": args.characters,
        "api_keys": args.api_keys,
        "admin_key": args.admin_key,
        "cors_origins": [] if args.no_cors else args.cors_origins,
        "url_ttl_seconds": args.url_ttl,
        "public_url": args.public_url,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "rate_limit": None if args.rate_limit is None else parse_rate_limit(args.rate_limit),
        "latency_ms": None if args.latency is None else parse_latency(args.latency),
        "audio_hosts": args.audio_hosts,
        "callback_hosts": args.callback_hosts,
        "render_workers": args.render_workers,
        "test_mode": args.test_mode,
        "log_level": args.log_level,
        "log_format": args.log_format,
        "replay_dir": args.replay,
        "replay_speed": args.replay_speed,
        "presign_urls": args.presign_urls,
        **_backend_flags(args),
    }
    return {key: value for key, value in changes.items() if value is not None}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    if argv[:1] == ["serve"]:
        argv = argv[1:]
    args = _parser().parse_args(argv)
    from mock_server.runtime.startup import StartupError, bind, check_data_dir, check_data_dir_free

    os.umask(0o077)  # everything the server writes is its owner's only (docs/security.md)

    try:
        settings = _flagged_settings(args)
        _check_scale_extra(settings)
        check_data_dir(settings)
        if settings.store is None:  # scaled out, replicas share a store, not a data directory lock
            check_data_dir_free(settings)
        sock = bind(settings.host, settings.port)
        if settings.port == 0:  # the mock must know its own port to refuse requests to itself
            settings = settings.replace(port=int(sock.getsockname()[1]))
    except StartupError as err:
        print(f"a2v-mock: {err}", file=sys.stderr)
        return 2

    def reload_settings() -> Settings:
        """The config file read again, with the flags over it (as at start-up)."""
        fresh = _flagged_settings(args)
        return fresh.replace(port=settings.port) if fresh.port == 0 else fresh  # the port bound at start

    return _serve(settings, sock, args, reload_settings)


def _serve(
    settings: Settings, sock: socket.socket, args: argparse.Namespace, reload_settings: Callable[[], Settings]
) -> int:
    from mock_server import logs
    from mock_server.runtime.app import create_app
    from mock_server.runtime.startup import serve_with

    logs.configure(settings.log_format, settings.log_level)
    from mock_server.store.sqlite import DatabaseUnusable

    try:
        app = create_app(settings)
    except (ValueError, DatabaseUnusable) as err:  # a --replay directory, a corrupt mock.sqlite3
        sock.close()
        print(f"a2v-mock: {err}", file=sys.stderr)
        return 2
    watched = [p for p in (args.config, settings.characters_file) if p is not None] if args.reload else []
    server = serve_with(settings, app, watched, reload_settings)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
