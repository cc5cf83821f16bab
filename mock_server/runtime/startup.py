"""Start-up checks and the banner: everything that can go wrong is found before the first request.

Each check raises `StartupError` with one line that names the value and the fix; `a2v-mock` prints it
and exits 2 (no traceback). The socket is bound by `bind()` before uvicorn starts, so "port in use" is
one of those lines, and `BannerServer` prints the banner only once the server is started, with the port
the socket really has (`--port 0` shows the one the system chose).
"""

from __future__ import annotations

import errno
import logging
import math
import os
import re
import sys
import threading
from typing import TYPE_CHECKING, Any

import uvicorn
import yaml

from a2v_testkit.protocol import listen
from mock_server.runtime.reload import FileWatcher, apply_settings
from mock_server.tasks.samples import Samples

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from pathlib import Path

    from mock_server.config import Settings

__all__ = [
    "BannerServer",
    "StartupError",
    "banner",
    "bind",
    "check_characters",
    "check_data_dir",
    "check_data_dir_free",
    "parse_latency",
    "parse_rate_limit",
    "read_config",
    "serve_with",
]


log = logging.getLogger("mock_server")


class StartupError(Exception):
    """A one-line reason the server cannot start (exit status 2)."""


def read_config(path: Path) -> Settings:
    """Settings from a YAML file; a missing file, a YAML syntax error (with its line) or a bad value
    becomes one `StartupError` naming the file."""
    from mock_server.config import Settings

    try:
        return Settings.from_yaml(path)
    except FileNotFoundError:
        raise StartupError(f"config file {str(path)!r} does not exist") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        problem = err.problem or err.context or "invalid YAML"
        raise StartupError(f"config file {str(path)!r}: YAML error at {where}: {problem}") from None
    except yaml.YAMLError as err:
        raise StartupError(f"config file {str(path)!r}: not valid YAML: {err}") from None
    except OSError as err:
        raise StartupError(f"config file {str(path)!r} cannot be read: {err.strerror}") from None
    except (TypeError, ValueError) as err:
        text = str(err)
        line = text if text.startswith(str(path)) else f"config file {str(path)!r}: {text}"
        raise StartupError(line) from None


def check_characters(settings: Settings) -> None:
    """The characters file exists and parses (the renderer's own loader, so errors are its words)."""
    if settings.characters_file is None:
        return
    from reference_renderer import load_characters
    from reference_renderer.errors import CharacterError

    if not settings.characters_file.is_file():
        raise StartupError(f"characters file {str(settings.characters_file)!r} does not exist")
    try:
        load_characters(str(settings.characters_file))
    except CharacterError as err:
        raise StartupError(f"characters file: {err}") from None


def check_data_dir(settings: Settings) -> None:
    """The data directory can be created and written to."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".a2v-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise StartupError(
            f"data directory {str(path)!r} is a file; choose a folder with --data-dir"
        ) from None
    except OSError as err:
        raise StartupError(
            f"data directory {str(path)!r} is not usable: {err.strerror}; choose another with --data-dir"
        ) from None


def check_data_dir_free(settings: Settings) -> None:
    """No other server holds the data directory (its lock names the holder's pid)."""
    from mock_server.runtime.lock import DataDirInUse, DataDirLock

    lock = DataDirLock(settings.data_dir.resolve())
    try:
        lock.acquire()
    except DataDirInUse as err:
        raise StartupError(str(err)) from None
    lock.hand_over()  # held until the server's lifespan adopts it: no instant where another can take it


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (port 0: any free port), bound before anything prints.

    Made by `a2v_testkit.protocol.listen`, with `IPPROTO_TCP`: asyncio turns Nagle off only on the
    connections of such a socket, and without it every answer on a kept-alive connection waited for the
    client's delayed ACK (about 44 ms)."""
    try:
        return listen(host, port)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is in use; stop what holds it or choose another with --port "
                "(--port 0 picks a free one)"
            ) from None
        raise StartupError(f"cannot listen on {host}:{port}: {err.strerror}") from None


def parse_rate_limit(text: str) -> dict[str, float]:
    """`30/60` -> `{requests: 30, per_seconds: 60}` (the `--rate-limit N/SECONDS` flag)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", text)
    if not match or int(match[1]) < 1 or float(match[2]) <= 0:
        raise ValueError(f"--rate-limit takes N/SECONDS with N >= 1, e.g. 30/60; got {text!r}")
    return {"requests": int(match[1]), "per_seconds": float(match[2])}


def parse_latency(text: str) -> dict[str, float]:
    """`50-200` -> `{min: 50, max: 200}` milliseconds; `100` alone is a fixed latency."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?", text)
    if not match:
        raise ValueError(f"--latency takes MIN-MAX milliseconds, e.g. 50-200; got {text!r}")
    low = float(match[1])
    high = float(match[2]) if match[2] is not None else low
    if high < low:
        raise ValueError(f"--latency needs MIN <= MAX, got {text!r}")
    return {"min": low, "max": high}


def banner(settings: Settings, port: int, cors: list[str]) -> str:
    """What a developer needs first: where everything is and three commands that end in a video."""
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    if host in ("0.0.0.0", "[::]"):
        host = "127.0.0.1"
    base = f"http://{host}:{port}"
    token = settings.api_keys[0] if settings.api_keys else "dev"
    auth = (
        f"keyed: {len(settings.api_keys)} API key(s) or account.login tokens"
        if settings.api_keys
        else "open: any non-empty bearer token, each token its own tenant"
    )
    samples = Samples.urls(base)
    admin = (
        "admin key required"
        if settings.admin_key
        else ("open" if settings.open_mode else "off: keyed mode needs --admin-key to serve it")
    )
    lines = [
        f"a2v-mock listening on {base}",
        f"  console   {base}/console",
        f"  docs      {base}/docs   (spec: {base}/openapi.yaml)",
        f"  admin     {base}/__admin/scenario   ({admin})",
        f"  samples   {'  '.join(samples.values())}",
        f"  data      {settings.data_dir.resolve()}",
        f"  auth      {auth}",
        f"  cors      {', '.join(cors) if cors else 'off'}",
        "try:",
        f"  curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' "
        f"""-d '{{"model_id":"eva_a0008","audio_url":"{samples["hello.wav"]}"}}' \\""",
        f"       {base}/v1/a2v/video.generate",
    ]
    return "\n".join(lines)


def serve_with(
    settings: Settings,
    app: Any,
    watched: list[Path] | None = None,
    reload_settings: Callable[[], Settings] | None = None,
) -> BannerServer:
    """The server `a2v-mock` runs `app` with (on the socket `bind` made): the mock's HTTP protocol
    (`http.protocol`: Nagle off, upgrades served as HTTP/1.1, heads, idle connections and their number
    bounded), our log instead of uvicorn's access log, and a graceful shutdown."""
    from mock_server import logs
    from mock_server.http.cors import allowed_origins
    from mock_server.http.protocol import server_options

    config = uvicorn.Config(
        app,
        log_config=logs.uvicorn_log_config(),
        log_level=settings.log_level,
        access_log=False,  # our request line replaces uvicorn's access log
        lifespan="on",
        **server_options(settings.http, app.state.mock.limits.max_header_bytes),
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
    )
    cors = allowed_origins(settings.cors_origins, open_mode=settings.open_mode)
    return BannerServer(config, settings, cors, watched, reload_settings, app.state.mock)


class BannerServer(uvicorn.Server):
    """uvicorn's server that prints the banner once it is really serving, with the bound port."""

    def __init__(
        self,
        config: uvicorn.Config,
        settings: Settings,
        cors: list[str],
        watched: list[Path] | None = None,
        reload_settings: Callable[[], Settings] | None = None,
        services: Any = None,
    ) -> None:
        super().__init__(config)
        self._services = services
        self._settings = settings
        self._cors = cors
        self._watched = watched or []
        self._reload_settings = reload_settings
        self._watcher: FileWatcher | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            port = self.bound_port(sockets)
            print(banner(self._settings, port, self._cors), file=sys.stdout, flush=True)
            if self._watched and self._reload_settings is not None:
                self._watcher = FileWatcher(self._watched, self._reload)
                self._watcher.start()
                log.info("watching %s for changes (--reload)", ", ".join(map(str, self._watched)))

    def handle_exit(self, sig: int, frame: Any) -> None:
        """The first SIGTERM/SIGINT turns `/readyz` to 503 and keeps serving `drain_seconds` (the load
        balancer stops sending) before stopping as uvicorn does: no new connections, requests in flight
        finish within `shutdown_grace_seconds`, then the lifespan closes the services."""
        health = getattr(self._services, "health", None)
        drain = self._settings.drain_seconds
        if health is None or health.draining or drain <= 0:
            if health is not None:
                health.draining = True
            super().handle_exit(sig, frame)
            return
        health.draining = True
        timer = threading.Timer(drain, super().handle_exit, args=(sig, frame))
        timer.daemon = True
        timer.start()

    async def _serve(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's, then every queued log line written: on SIGTERM uvicorn re-raises the signal once
        it returns, and the process ends without running `logging.shutdown`."""
        from mock_server import logs

        try:
            await super()._serve(sockets)
        finally:
            logs.flush()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
        await super().shutdown(sockets=sockets)

    async def _reload(self, changed: list[Path]) -> None:
        assert self._reload_settings is not None
        try:
            new = self._reload_settings()
        except StartupError as err:
            log.error("reload: %s; the running settings are kept", err)
            return
        try:
            applied, restart = await apply_settings(self._services, new, changed)
        except Exception as err:  # e.g. a characters file that no longer loads
            log.error("reload: %s; the running settings are kept", err)
            return
        names = ", ".join(map(str, changed))
        log.info("reload: %s changed; applied: %s", names, ", ".join(applied) or "nothing")
        if restart:
            log.warning("reload: %s only change(s) on a restart", ", ".join(restart))

    def bound_port(self, sockets: list[socket.socket] | None) -> int:
        for sock in sockets or []:
            return int(sock.getsockname()[1])
        servers: Any = getattr(self, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self._settings.port
