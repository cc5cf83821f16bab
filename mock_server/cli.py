"""`a2v-mock`: serve the mock A2V API with uvicorn; `a2v-mock worker`: run its tasks elsewhere.

    a2v-mock [serve] [flags]     the API (with no subcommand, as before: the embedded default)
    a2v-mock worker [flags]      render tasks from the broker (`--queue`), see docs/deploy.md

Settings come from the defaults, then the config file (`--config`), then `A2V_<SETTING>` environment
variables, then flags, each overriding the one before.

Example::

    a2v-mock --port 8000 --data-dir ./a2v-data --api-key secret
    a2v-mock serve --store postgresql://db/a2v --queue amqp://mq/a2v --files s3://bucket/prefix
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="a2v-mock",
        description="A stateful local stand-in for the A2V API, with real renders. See docs/mock_server.md.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument(
        "--data-dir", type=Path, help="where the database and videos live (default ./a2v-data)"
    )
    parser.add_argument("--config", type=Path, help="a YAML file of settings (flags override it)")
    parser.add_argument(
        "--api-key", action="extend", nargs="+", dest="api_keys", metavar="KEY", help="accept only these keys"
    )
    parser.add_argument("--admin-key", help="protect /__admin with this bearer token")
    parser.add_argument("--render-workers", type=int, help="render processes (default: the number of cores)")
    parser.add_argument("--test-mode", action="store_true", default=None, help="validate every response")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    _shared_flags(parser)
    parser.add_argument(
        "--presign-urls",
        action="store_true",
        default=None,
        help="downloads redirect to the object store's own signed URLs",
    )
    return parser


def _shared_flags(parser: argparse.ArgumentParser) -> None:
    """Where the shared state lives: the same flags for `serve` and `worker`."""
    parser.add_argument("--store", help="postgresql://user:pass@host/db (default: SQLite in the data dir)")
    parser.add_argument("--queue", help="amqp://user:pass@host/vhost: tasks run on `a2v-mock worker`s")
    parser.add_argument("--files", help="s3://bucket/prefix for result files (default: the data dir)")
    parser.add_argument("--s3-endpoint-url", help="an S3-compatible endpoint (default: AWS)")


def _worker_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="a2v-mock worker",
        description="Run tasks from the broker: fetch, render, upload, finish. See docs/deploy.md.",
    )
    parser.add_argument("--config", type=Path, help="the YAML settings file the API replicas use")
    _shared_flags(parser)
    parser.add_argument("--concurrency", type=int, default=1, help="renders at once (1: the solo pool)")
    parser.add_argument("--metrics-port", type=int, help="serve this worker's Prometheus metrics here")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address of --metrics-port")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    return parser


def _settings(args: argparse.Namespace, flags: dict[str, Any]) -> Any:
    """Defaults < config file < A2V_* environment < flags."""
    import os

    from mock_server.config import Settings
    from mock_server.envconfig import overlay

    settings = Settings.from_yaml(args.config) if args.config else Settings()
    settings = overlay(settings, os.environ)
    return settings.replace(**{k: v for k, v in flags.items() if v is not None})


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def worker_main(argv: list[str]) -> int:
    args = _worker_parser().parse_args(argv)
    from mock_server.worker import WorkerOptions, run_worker

    try:
        settings = _settings(args, _backend_flags(args) | {"log_level": args.log_level})
    except (OSError, ValueError) as err:
        print(f"a2v-mock worker: {err}", file=sys.stderr)
        return 2
    if not (settings.store and settings.queue and settings.files):
        print(
            "a2v-mock worker: --store, --queue and --files are all required (or A2V_STORE, ...)",
            file=sys.stderr,
        )
        return 2
    if args.metrics_port is not None and args.concurrency != 1:
        print(
            "a2v-mock worker: --metrics-port needs --concurrency 1 (run one worker per core)", file=sys.stderr
        )
        return 2
    _logging(settings.log_level)
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


def _backend_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "store": args.store,
        "queue": args.queue,
        "files": args.files,
        "s3_endpoint_url": args.s3_endpoint_url,
    }


def _banner(settings: Any) -> str:
    base = f"http://{settings.host}:{settings.port}"
    token = settings.api_keys[0] if settings.api_keys else "any-token"
    auth = (
        f"API keys ({len(settings.api_keys)} configured) or account.login tokens"
        if settings.api_keys
        else "open: any non-empty bearer token, each token its own tenant"
    )
    return "\n".join(
        [
            f"a2v-mock listening on {base}  (docs: {base}/docs, spec: {base}/openapi.yaml)",
            f"data directory: {settings.data_dir.resolve()}",
            f"store: {_redacted(settings.store) if settings.store else 'SQLite in the data directory'}; "
            f"queue: {_redacted(settings.queue) if settings.queue else 'local render processes'}; "
            f"files: {settings.files or 'the data directory'}",
            f"auth: {auth}; admin API: {base}/__admin ({'key required' if settings.admin_key else 'open'})",
            f"try:  curl -H 'Authorization: Bearer {token}' {base}/v1/a2v/character.list",
        ]
    )


def _redacted(url: str) -> str:
    from mock_server.store.postgres import redact

    return redact(url)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    if argv[:1] == ["serve"]:
        argv = argv[1:]
    args = _parser().parse_args(argv)

    try:
        settings = _settings(
            args,
            {
                "host": args.host,
                "port": args.port,
                "data_dir": args.data_dir,
                "api_keys": args.api_keys,
                "admin_key": args.admin_key,
                "render_workers": args.render_workers,
                "test_mode": args.test_mode,
                "log_level": args.log_level,
                "presign_urls": args.presign_urls,
                **_backend_flags(args),
            },
        )
    except (OSError, ValueError) as err:
        print(f"a2v-mock: {err}", file=sys.stderr)
        return 2

    import uvicorn

    from mock_server.app import create_app

    _logging(settings.log_level)
    app = create_app(settings)
    print(_banner(settings), flush=True)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        http=settings.http,  # "auto", "h11" or "httptools", validated by uvicorn
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    server = _DrainingServer(config, app.services.health, settings.drain_seconds)
    server.run()
    return 0 if server.started else 1


class _DrainingServer:
    """uvicorn's Server, but the first SIGTERM/SIGINT first turns `/readyz` to 503 for `drain` seconds
    (the load balancer stops sending), then stops as uvicorn does: no new connections, requests in
    flight finish within `shutdown_grace_seconds`, then the lifespan closes the services."""

    def __new__(cls, config: Any, health: Any, drain: float) -> Any:
        import threading

        import uvicorn

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                if health.draining or drain <= 0:
                    health.draining = True
                    super().handle_exit(sig, frame)
                    return
                health.draining = True
                timer = threading.Timer(drain, super().handle_exit, args=(sig, frame))
                timer.daemon = True
                timer.start()

        return Server(config)


if __name__ == "__main__":
    raise SystemExit(main())
