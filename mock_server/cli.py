"""`a2v-mock`: serve the mock A2V API with uvicorn.

Example::

    a2v-mock --port 8000 --data-dir ./a2v-data --api-key secret
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
    for kind in ("audio", "callback"):
        parser.add_argument(
            f"--{kind}-host",
            action="extend",
            nargs="+",
            dest=f"{kind}_hosts",
            metavar="HOST",
            help=f"allow {kind} URLs only to these hosts (loopback/private ones too); see docs/security.md",
        )
    parser.add_argument("--render-workers", type=int, help="render processes (default: the number of cores)")
    parser.add_argument("--test-mode", action="store_true", default=None, help="validate every response")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    return parser


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
            f"auth: {auth}; admin API: {base}/__admin ({'key required' if settings.admin_key else 'open'})",
            f"try:  curl -H 'Authorization: Bearer {token}' {base}/v1/a2v/character.list",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from mock_server.config import Settings

    try:
        settings = Settings.from_yaml(args.config) if args.config else Settings()
        changes = {
            key: value
            for key, value in {
                "host": args.host,
                "port": args.port,
                "data_dir": args.data_dir,
                "api_keys": args.api_keys,
                "admin_key": args.admin_key,
                "audio_hosts": args.audio_hosts,
                "callback_hosts": args.callback_hosts,
                "render_workers": args.render_workers,
                "test_mode": args.test_mode,
                "log_level": args.log_level,
            }.items()
            if value is not None
        }
        settings = settings.replace(**changes)
    except (OSError, ValueError) as err:
        print(f"a2v-mock: {err}", file=sys.stderr)
        return 2

    import os

    import uvicorn

    from mock_server.app import create_app
    from mock_server.http import server_options
    from mock_server.lock import DataDirInUse, DataDirLock

    os.umask(0o077)  # everything the server writes is its owner's only
    lock = DataDirLock(settings.data_dir.resolve())
    try:  # checked before start-up so the refusal is one line, not a traceback
        lock.acquire()
    except DataDirInUse as err:
        print(f"a2v-mock: {err}", file=sys.stderr)
        return 1
    lock.release()

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    print(_banner(settings), flush=True)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        # "auto", "h11" or "httptools", with the request head bounded (mock_server/http.py)
        **server_options(settings.http, app.state.mock.limits.max_header_bytes),
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
