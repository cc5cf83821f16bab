"""Settings of one mock server: a dataclass with working defaults, loadable from a YAML file.

Every key of the YAML file is a field name of `Settings` (unknown keys are refused so a typo never goes
unnoticed). The runtime scenario (latency, faults, rate limit, timings, next tasks, seed) starts from
these values and `POST /__admin/reset` returns to them (its eight fields are `ScenarioFields`, which
`Settings` inherits). Each consumer is handed its section only (`settings.auth`, `.tasks`, `.callbacks`,
`.scenario`: copies), so none can come to depend on settings that are not its own.

Example:
    >>> from mock_server.config import Settings
    >>> Settings(api_keys=["secret"]).open_mode
    False
    >>> Settings(callback_attempts=2).callbacks.attempts
    2
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from a2v_spec import Limits
from mock_server.forwarded import TrustedProxies, check_public_url
from mock_server.scenario_values import ScenarioFields

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "SCALE_EXTRA",
    "AuthSettings",
    "CallbackSettings",
    "Settings",
    "TaskSettings",
    "missing_scale_extra",
]

#: How to install what the scaled-out settings import (pyproject.toml's `scale` extra).
SCALE_EXTRA = "pip install 'a2v-kit[scale]'"
#: The modules each scaled-out setting imports, all from the `scale` extra.
SCALE_MODULES: dict[str, tuple[str, ...]] = {
    "store": ("psycopg", "psycopg_pool"),
    "queue": ("celery", "kombu"),
    "files": ("boto3",),
}

#: Config-file groups whose keys are spread into the top level (`faults: {error_rate: 0.1}`).
_GROUPS = ("faults", "scenario", "server", "auth")


@dataclass
class Settings(ScenarioFields):
    """Everything that shapes one mock server. Defaults run a usable open server on 127.0.0.1:8000.

    The runtime scenario's values (latency_ms, error_rate, drop_rate, rate_limit, timings, next_tasks,
    seed, url_ttl_seconds; also settable with PUT /__admin/scenario) are inherited from `ScenarioFields`.
    Each consumer is handed its section (`auth`, `tasks`, `callbacks`, `scenario`), never the whole.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=lambda: Path("./a2v-data"))
    #: Accepted API keys; empty = open mode (any non-empty token, each token its own tenant).
    api_keys: list[str] = field(default_factory=list)
    #: Bearer token for `/__admin`; None leaves the admin API open.
    admin_key: str | None = None
    #: username -> password for `account.login`; empty in open mode accepts any pair.
    users: dict[str, str] = field(default_factory=dict)
    #: A YAML/JSON file of extra characters, passed to `reference_renderer.load_characters(extra=...)`.
    characters_file: Path | None = None
    #: Overrides of the spec's `x-a2v-limits` (e.g. `{max_audio_seconds: 120}`).
    limits: dict[str, Any] = field(default_factory=dict)
    #: Processes rendering videos at once (default: the number of cores).
    render_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    #: Niceness added to render processes, so renders never starve the API (0 = same priority).
    render_nice: int = 19
    #: Tasks allowed to wait or run at once; over it `video.generate` answers 1010.
    queue_capacity: int = 64
    #: Seconds after which an unfinished task is ended with 10007.
    task_deadline_seconds: float = 600.0
    #: Seconds `Retry-After` suggests when the queue is full.
    queue_retry_after: int = 5
    #: Hosts `audio_url` may point to, loopback or private ones included; None = the mode's default
    #: (open: any but link-local; keyed: public addresses only). Never link-local, never the mock itself.
    audio_hosts: list[str] | None = None
    #: The same for `callback_url`.
    callback_hosts: list[str] | None = None
    #: Unfinished tasks one tenant may hold (its share of `queue_capacity`); over it 1010. None: the
    #: whole queue in open mode (one developer), a quarter of it in keyed mode (a shared sandbox).
    tenant_queue_capacity: int | None = None
    #: Audio downloads at once, shared round-robin between tenants (each bounded by the fetch timeout).
    download_workers: int = 8
    #: Longest task duration a `Prefer: duration=` may ask for, in seconds.
    max_prefer_duration_seconds: float = 30.0
    #: HMAC key of file URLs; None = a random key kept in the data dir (URLs survive restarts).
    signing_secret: str | None = None
    # --- replay (mock_server.tasks.replay) ---
    #: A recording of `a2v-contract proxy --record DIR`: matching generates replay its tasks.
    replay_dir: Path | None = None
    #: How much faster than recorded a replayed task runs (2.0: twice as fast).
    replay_speed: float = 1.0
    # --- callbacks ---
    callback_attempts: int = 5
    callback_backoff_seconds: float = 1.0
    callback_timeout_seconds: float = 10.0
    #: Scaled out: seconds between a replica's looks at the callback outbox when nothing woke it (a
    #: delivery enqueued wakes every replica at once through PostgreSQL LISTEN/NOTIFY; the look finds
    #: what a dropped notification connection missed).
    outbox_poll_seconds: float = 5.0
    # --- operations ---
    journal_size: int = 1000
    #: Validate every response against the spec; a mismatch answers 500 and raises.
    test_mode: bool = False
    #: Start the render processes at start-up so the first task does not pay for it.
    prewarm: bool = True
    log_level: str = "info"
    #: `text` (one readable line per event) or `json` (one object per line); uvicorn's lines too.
    log_format: str = "text"
    #: Origins a browser page may call from; None: any origin in open mode, none in keyed mode;
    #: `[]` turns CORS off (`--no-cors`).
    cors_origins: list[str] | None = None
    #: uvicorn's HTTP implementation: "auto" (httptools when installed, else h11), "h11", "httptools".
    http: str = "auto"
    # --- behind a reverse proxy (docs/deploy.md, "Behind a proxy") ---
    #: Peers (addresses or networks, `*` for any) whose `X-Forwarded-Proto`, `-Host`, `-Port` and `-For`
    #: headers are believed; the default trusts a proxy on this machine, as uvicorn's does.
    forwarded_allow_ips: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    #: The address clients use (`https://sandbox.example.com`): every URL the mock builds names it,
    #: whatever `Host` or `X-Forwarded-*` say. None: the request's own (forwarded) address.
    public_url: str | None = None
    # --- scaled out: a shared sandbox (docs/deploy.md) ---
    #: `postgresql://user:pass@host/db`: state in PostgreSQL, shared by replicas (None: SQLite in data_dir).
    store: str | None = None
    #: PostgreSQL connections per server process.
    store_pool_size: int = 10
    #: `amqp://user:pass@host/vhost`: tasks run on `a2v-mock worker`s (None: render processes here).
    queue: str | None = None
    queue_name: str = "a2v-render"
    #: `s3://bucket/prefix`: result files in an S3-compatible store (None: data_dir/files).
    files: str | None = None
    #: The S3 endpoint (None: AWS); credentials come from boto3's usual chain (AWS_* variables, ...).
    s3_endpoint_url: str | None = None
    #: Downloads redirect to the object store's own signed URL instead of streaming through the API.
    presign_urls: bool = False
    #: This process's name in `/metrics` (`a2v_replica_info{replica=...}`); None: host:port for an API
    #: replica, host:pid for a worker. Set it per process (A2V_REPLICA_NAME), not in a shared file.
    replica_name: str | None = None
    #: Seconds a stopping server waits for requests in flight before closing them.
    shutdown_grace_seconds: float = 20.0
    #: Seconds a stopping server keeps serving while `/readyz` answers 503 (the balancer's check interval).
    drain_seconds: float = 0.0

    def __post_init__(self) -> None:
        # Mappings from a config file become their typed values (which check their own ranges).
        super().__post_init__()
        if isinstance(self.forwarded_allow_ips, str):  # `10.0.0.0/8,127.0.0.1`, as uvicorn's option
            self.forwarded_allow_ips = [
                item.strip() for item in self.forwarded_allow_ips.split(",") if item.strip()
            ]
        _check_types(self)
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        unknown_limits = sorted(set(self.limits) - {f.name for f in dataclasses.fields(Limits)})
        if unknown_limits:
            raise ValueError(f"unknown limit(s) {', '.join(map(repr, unknown_limits))}; see x-a2v-limits")
        self.data_dir = Path(self.data_dir)
        if self.characters_file is not None:
            self.characters_file = Path(self.characters_file)
        if self.replay_dir is not None:
            self.replay_dir = Path(self.replay_dir)
        if not self.replay_speed > 0:
            raise ValueError(f"replay_speed must be above 0, got {self.replay_speed!r}")
        if self.render_workers < 1:
            raise ValueError(f"render_workers must be at least 1, got {self.render_workers}")
        if self.tenant_queue_capacity is not None and self.tenant_queue_capacity < 1:
            raise ValueError(f"tenant_queue_capacity must be at least 1, got {self.tenant_queue_capacity}")
        if self.download_workers < 1:
            raise ValueError(f"download_workers must be at least 1, got {self.download_workers}")
        if not self.outbox_poll_seconds > 0:
            raise ValueError(f"outbox_poll_seconds must be above 0, got {self.outbox_poll_seconds!r}")
        if self.queue_capacity < 1:
            raise ValueError(f"queue_capacity must be at least 1, got {self.queue_capacity}")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"log_format must be text or json, got {self.log_format!r}")
        _check_backends(self)
        TrustedProxies.parse(self.forwarded_allow_ips)  # refuses a bad entry, naming it
        if self.public_url is not None:
            self.public_url = check_public_url(self.public_url)
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")

    @property
    def open_mode(self) -> bool:
        """True when any non-empty token is accepted (no `api_keys` configured)."""
        return not self.api_keys

    @property
    def tenant_share(self) -> int:
        """Unfinished tasks one tenant may hold (see `tenant_queue_capacity`)."""
        if self.tenant_queue_capacity is not None:
            return self.tenant_queue_capacity
        return self.queue_capacity if self.open_mode else max(1, self.queue_capacity // 4)

    @property
    def auth(self) -> AuthSettings:
        """What the authenticator reads (the config file's `auth` group)."""
        return AuthSettings(
            api_keys=frozenset(self.api_keys),
            users=types.MappingProxyType(dict(self.users)),
            admin_key=self.admin_key,
        )

    @property
    def tasks(self) -> TaskSettings:
        """What the task runner and the generate handler read."""
        return TaskSettings(
            render_workers=self.render_workers,
            render_nice=self.render_nice,
            download_workers=self.download_workers,
            task_deadline_seconds=self.task_deadline_seconds,
            characters_file=self.characters_file,
            queue_capacity=self.queue_capacity,
            tenant_share=self.tenant_share,
            queue_retry_after=self.queue_retry_after,
            max_prefer_duration_seconds=self.max_prefer_duration_seconds,
        )

    @property
    def callbacks(self) -> CallbackSettings:
        """What the callback sender and the scaled-out outbox read."""
        return CallbackSettings(
            attempts=self.callback_attempts,
            backoff_seconds=self.callback_backoff_seconds,
            timeout_seconds=self.callback_timeout_seconds,
            outbox_poll_seconds=self.outbox_poll_seconds,
            host=self.host,
            port=self.port,
        )

    @property
    def scenario(self) -> ScenarioFields:
        """The scenario's start-up values (the config file's `scenario` and `faults` groups), a copy."""
        return self.scenario_values()

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, base: Path | None = None) -> Settings:
        """Build from a mapping of field names; relative paths are taken from `base` (the file's folder)."""
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if key in _GROUPS and isinstance(value, dict):
                flat.update(value)
            else:
                flat[key] = value
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(flat) - known)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
            )
        for key in ("data_dir", "characters_file", "replay_dir"):
            if flat.get(key) is not None and base is not None:
                flat[key] = base / Path(flat[key]).expanduser()
        if isinstance(flat.get("api_keys"), str):
            flat["api_keys"] = [flat["api_keys"]]
        return cls(**flat)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Settings:
        """Read a YAML config file (see docs/mock_server.md for the format)."""
        source = Path(path)
        with source.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, dict):
            raise ValueError(
                f"{source}: a config file must be a mapping of settings, got {type(data).__name__}"
            )
        try:
            return cls.from_mapping(data, base=source.resolve().parent)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{source}: {err}") from err


@dataclass(frozen=True)
class AuthSettings:
    """The authenticator's section: who may call (the config file's `auth` group)."""

    #: Accepted API keys; empty = open mode.
    api_keys: frozenset[str] = frozenset()
    #: username -> password for `account.login`.
    users: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}))
    #: Bearer token for `/__admin`; None leaves the admin API open.
    admin_key: str | None = None

    @property
    def open_mode(self) -> bool:
        """True when any non-empty token is accepted (no `api_keys` configured)."""
        return not self.api_keys


@dataclass(frozen=True)
class TaskSettings:
    """The task runner's section: render and download workers, the task deadline, the queue's bounds."""

    render_workers: int = 1
    render_nice: int = 19
    download_workers: int = 8
    task_deadline_seconds: float = 600.0
    characters_file: Path | None = None
    queue_capacity: int = 64
    #: Unfinished tasks one tenant may hold (`Settings.tenant_share`).
    tenant_share: int = 64
    queue_retry_after: int = 5
    max_prefer_duration_seconds: float = 30.0


@dataclass(frozen=True)
class CallbackSettings:
    """The callback sender's (and the scaled-out outbox's) section: retries, timeouts, and the mock's own
    address for the URLs of a callback body when the task did not record how it was addressed."""

    attempts: int = 5
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    #: Scaled out: seconds between a replica's looks at the callback outbox.
    outbox_poll_seconds: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def base_url(self) -> str:
        """The mock's own address (`http://host:port`)."""
        return f"http://{self.host}:{self.port}"


def _check_backends(settings: Settings) -> None:
    """The scaled-out settings, and the mixes that work: a queue's workers run on other machines, so
    they need the shared store and the shared file store."""
    schemes = {
        "store": ("postgresql://", "postgres://"),
        "queue": ("amqp://", "amqps://", "pyamqp://"),
        "files": ("s3://",),
    }
    for name, prefixes in schemes.items():
        value = getattr(settings, name)
        if value is not None and not value.startswith(prefixes):
            raise ValueError(f"setting {name!r} must start with {' or '.join(prefixes)}, got {value!r}")
    if settings.queue is not None and (settings.store is None or settings.files is None):
        raise ValueError(
            "setting 'queue' needs 'store' (postgresql://...) and 'files' (s3://...): "
            "workers on other machines must reach the tasks and the results"
        )
    if settings.store_pool_size < 1:
        raise ValueError(f"store_pool_size must be at least 1, got {settings.store_pool_size}")


def _accepts(hint: Any, value: Any) -> bool:
    """Whether `value` fits the type hint `hint` (the shallow check a config file needs)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_accepts(arg, value) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    if hint is Path:
        return isinstance(value, str | Path)
    return isinstance(value, origin or hint)


def _check_types(settings: Settings) -> None:
    """Refuse a setting of the wrong type up front, naming it (a config file is easy to get wrong)."""
    hints = typing.get_type_hints(Settings)
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if not _accepts(hints[item.name], value):
            raise ValueError(f"setting {item.name!r} must be {_describe(hints[item.name])}, got {value!r}")


def _describe(hint: Any) -> str:
    args = typing.get_args(hint) if typing.get_origin(hint) in (types.UnionType, typing.Union) else (hint,)
    return " or ".join("null" if a is type(None) else getattr(a, "__name__", str(a)) for a in args)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked package is as good as missing
        return False


def missing_scale_extra(settings: Settings, needed: tuple[str, ...] | None = None) -> str | None:
    """One line naming the scaled-out settings whose packages are not installed, and the install command;
    None when everything `settings` uses (or every setting of `needed`) can be imported.

    A default install has no PostgreSQL, Celery or S3 client: without this check `--store postgresql://...`
    fails deep inside start-up with a traceback about `psycopg`.
    """
    names = needed if needed is not None else tuple(n for n in SCALE_MODULES if getattr(settings, n))
    missing = [(n, m) for n in names for m in SCALE_MODULES[n] if not _installed(m)]
    if not missing:
        return None
    flags = [f"--{n}" for n in dict.fromkeys(n for n, _ in missing)]
    named = flags[0] if len(flags) == 1 else f"{', '.join(flags[:-1])} and {flags[-1]}"
    modules = ", ".join(dict.fromkeys(m for _, m in missing))
    verb = "needs" if len(flags) == 1 else "need"
    return f"{named} {verb} the scale extra (no module {modules}): {SCALE_EXTRA}; see docs/deploy.md"
