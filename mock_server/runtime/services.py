"""The composition root: every service of one mock server, built in one place by `build_services`.

    settings + spec -> store, auth, signer, files, characters, fetcher, render queue, callbacks,
                       limiter, journal, scenario (and its control), task runner, views, validator,
                       routing table

Nothing here does I/O but opening the store; `start()` (run by the app's lifespan) resumes unfinished
tasks and deliveries, reads the signing secret and warms the render workers, and `aclose()` undoes it.
Handlers, layers and the admin API receive these services through their own narrow interfaces
(`handlers.ApiServices`, `admin.AdminServices`, constructor arguments), never the app.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio

from mock_server.admin.journal import Journal
from mock_server.api.scenario import LocalScenario, Scenario
from mock_server.api.validation import Validator
from mock_server.auth import Authenticator, tenant_id
from mock_server.errors import ApiError, Errors
from mock_server.files import Signer
from mock_server.files.local import LocalFileStore
from mock_server.http.faults import UvicornFaultInjector
from mock_server.http.metrics import Health, Metrics, replica_name
from mock_server.http.routing import OperationTable
from mock_server.ratelimit import Limiter, RateLimiter
from mock_server.runtime.lock import DataDirLock
from mock_server.store.sqlite import SqliteStore
from mock_server.tasks.audio_fetch import AudioFetcher
from mock_server.tasks.background import spawn
from mock_server.tasks.callbacks import CallbackSender
from mock_server.tasks.characters import Characters
from mock_server.tasks.egress import HostPolicy
from mock_server.tasks.render import LocalRenderPool
from mock_server.tasks.replay import Replay
from mock_server.tasks.runner import TaskRunner
from mock_server.tasks.samples import Samples
from mock_server.tasks.video_objects import VideoViews, video_file

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable

    from a2v_spec import Limits, Spec
    from mock_server.api.scenario import ScenarioControl
    from mock_server.config import Settings
    from mock_server.files import FileStore
    from mock_server.http.faults import FaultInjector
    from mock_server.scale.celery_queue import CeleryQueue
    from mock_server.store import Store
    from mock_server.tasks.audio_fetch import LocalAudio
    from mock_server.tasks.protocols import CallbackDelivery, TaskRunning
    from mock_server.tasks.render import RenderQueue

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    spec: Spec
    limits: Limits
    errors: Errors
    table: OperationTable
    validator: Validator
    store: Store
    auth: Authenticator
    signer: Signer
    files: FileStore
    characters: Characters
    fetcher: AudioFetcher
    queue: RenderQueue
    #: `CallbackSender`, or with PostgreSQL the outbox's `OutboxDeliverer`.
    callbacks: CallbackDelivery
    limiter: Limiter
    journal: Journal
    scenario: Scenario
    #: Where `scenario` lives: this process (`LocalScenario`), or PostgreSQL for every replica
    #: (`SharedScenario`).
    control: ScenarioControl
    #: What takes the scenario's values and what a reset makes this process forget (the control's).
    holder: ScenarioValues
    memory: ProcessMemory
    #: `TaskRunner`, or with a broker the `RemoteRunner` that publishes to workers.
    runner: TaskRunning
    views: VideoViews
    injector: FaultInjector
    #: Test mode: every response that did not match the spec (also raised and logged).
    violations: list[Exception] = field(default_factory=list)
    #: Small per-second caches of read-only answers (the character list).
    cache: dict[str, Any] = field(default_factory=dict)
    #: The recording `--replay` reproduces, if any.
    replay: Replay | None = None
    #: The render queue's broker side (publisher, depth, health) when `queue` is set.
    broker: CeleryQueue | None = None
    #: Prometheus metrics (`/metrics`) and liveness/readiness (`/healthz`, `/readyz`).
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)
    _background: set[asyncio.Task[Any]] = field(default_factory=set)
    lock: DataDirLock | None = None

    async def start(self) -> None:
        if self.lock is not None:
            self.lock.acquire()  # before touching any task: a second server must not resume ours
        await self.files.sweep_staging()  # partial downloads and renders of a crashed run
        if self.settings.signing_secret is None:
            self.signer.use_secret(await self.store.secret())
        await self.control.sync()  # a replica starting after a PUT applies it before its first request
        await self.runner.recover()
        await self.callbacks.resume()
        deadline = self.settings.task_deadline_seconds
        if isinstance(self.runner, TaskRunner):  # a remote runner's workers watch their own tasks
            self._keep(spawn(self.runner.watch(min(5.0, max(0.1, deadline / 10))), "task-watchdog"))
        if self.settings.prewarm:
            self._keep(spawn(self.queue.prewarm(), "prewarm"))

    def take_sections(self) -> None:
        """Hand each consumer its section of `settings` again, after `--reload` changed the settings in
        place: each holds its own section (a copy), never the whole settings."""
        self.auth.settings = self.settings.auth
        self.callbacks.settings = self.settings.callbacks
        self.control.settings = self.settings.scenario
        for runner in (self.runner, getattr(self.runner, "placeholder", None)):
            if isinstance(runner, TaskRunner):
                runner.settings = self.settings.tasks

    def _keep(self, job: asyncio.Task[Any]) -> None:
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        self.health.draining = True
        for job in list(self._background):
            job.cancel()
        await self.runner.stop()
        await self.callbacks.aclose()
        await self.fetcher.aclose()
        await self.queue.aclose()
        if self.broker is not None:
            self.broker.close()
        await self.store.aclose()
        if self.lock is not None:
            self.lock.release()

    async def reload_characters(self) -> None:
        """Read the characters file again and render with it from now on (`--reload`)."""
        path = self.settings.characters_file
        await self.characters.reload(path)
        restart = getattr(self.queue, "restart", None)
        if restart is not None:
            restart(None if path is None else str(path))
        self.cache.clear()  # the cached character list

    async def reset(self, tenant: str | None = None) -> None:
        """Forget one tenant's tasks, files, keys, deliveries, journal and counters (all when None).

        The store, files and rate windows are reset here; what each process keeps (journal, token
        cache, and for everything the scenario) through the control, which with a shared scenario
        replays the reset on every replica (its `memory`)."""
        if tenant is None:
            await self.runner.cancel_all()
        for video_id in await self.store.delete_tenant(tenant):
            await self.runner.cancel(video_id)
            await self.files.delete(video_file(video_id))
            await self.files.delete(video_file(video_id, mask=True))
        await self.limiter.areset(tenant)
        if tenant is None:
            await self.files.clear("videos")
        await self.control.reset(tenant)


@dataclass
class ScenarioValues:
    """The parts that hold the scenario's values: the rate limiter, the URL signer, the answer cache."""

    limiter: Limiter
    signer: Signer
    default_ttl: int
    cache: dict[str, Any]

    def take(self, scenario: Scenario) -> None:
        self.limiter.configure(scenario.rate_limit)
        ttl = scenario.url_ttl_seconds
        self.signer.ttl = self.default_ttl if ttl is None else ttl
        self.cache.clear()  # cached answers hold URLs signed with the old lifetime


@dataclass
class ProcessMemory:
    """What this process keeps per tenant, dropped on a reset: journal, token cache, violations, cache."""

    journal: Journal
    auth: Authenticator
    violations: list[Exception]
    cache: dict[str, Any]

    def forget(self, tenant: str | None) -> None:
        self.journal.reset(tenant)
        self.auth.forget()
        if tenant is None:
            self.violations.clear()
            self.cache.clear()


def own_audio(signer: Signer, files: FileStore) -> LocalAudio:
    """The mock's own audio a task may name: a built-in sample, or an upload under a valid signature."""
    samples = Samples()

    async def read(path: str, query: str) -> bytes | None:
        if path.startswith("/samples/"):
            try:
                return samples.bytes_of(path.removeprefix("/samples/"))
            except KeyError:
                return None
        root = getattr(files, "root", None)  # uploads are read in-process from a local file store only
        name = path.removeprefix("/files/")
        if not path.startswith("/files/uploads/") or root is None or "/" in name.removeprefix("uploads/"):
            return None
        q = dict(parse_qsl(query))
        try:
            signer.verify(path, q.get("Expires"), q.get("Signature"))
            return (root / name).read_bytes()
        except (ApiError, OSError):
            return None

    return read


def build_services(settings: Settings, spec: Spec) -> Services:
    """Build every service of one server from its settings (the only place that chooses implementations).

    Embedded (the default): SQLite, render processes of this machine, the data directory. Scaled out
    (docs/deploy.md): `store` PostgreSQL (shared rate windows, callbacks from its outbox), `files` S3,
    `queue` RabbitMQ (tasks run on `a2v-mock worker`s; this server only publishes them).
    """
    limits = dataclasses.replace(spec.limits, **settings.limits)
    errors = Errors(spec.errors)
    data_dir = settings.data_dir.resolve()
    store: Store
    local_files = LocalFileStore(data_dir / "files")
    files: FileStore = local_files
    if settings.files is not None:
        from mock_server.scale.s3 import S3FileStore

        files = S3FileStore(
            settings.files,
            endpoint_url=settings.s3_endpoint_url,
            presign=settings.presign_urls,
            local=local_files,
            staging_dir=data_dir / "tmp",
            url_ttl=limits.url_ttl_seconds,
        )
    signer = Signer(settings.signing_secret, limits.url_ttl_seconds)
    views = VideoViews(signer, errors)
    characters_file = None if settings.characters_file is None else str(settings.characters_file)
    queue = LocalRenderPool(
        1 if settings.queue else settings.render_workers,  # with a broker: placeholders only
        nice=settings.render_nice,
        characters_file=characters_file,
    )

    def policy(hosts: list[str] | None) -> HostPolicy:
        return HostPolicy.build(
            open_mode=settings.open_mode, allowed=hosts, listen_host=settings.host, port=settings.port
        )

    fetcher = AudioFetcher(limits, policy(settings.audio_hosts), own_audio(signer, files), spec.url_rule)
    scenario = Scenario.from_settings(settings)
    callbacks: CallbackDelivery
    limiter: Limiter
    if settings.store is not None:
        from mock_server.scale.outbox import OutboxDeliverer
        from mock_server.scale.postgres.store import PostgresStore
        from mock_server.scale.shared_limits import SharedRateLimiter

        pg = PostgresStore(settings.store, max_size=settings.store_pool_size)
        store = pg
        callbacks = OutboxDeliverer(settings.callbacks, pg, views, policy(settings.callback_hosts))
        limiter = SharedRateLimiter(pg, scenario.rate_limit)
    else:
        store = SqliteStore(data_dir, tenant_of=tenant_id)
        callbacks = CallbackSender(settings.callbacks, store, views, policy(settings.callback_hosts))
        limiter = RateLimiter(scenario.rate_limit)
    local_runner = TaskRunner(
        tasks=settings.tasks,
        limits=limits,
        store=store,
        errors=errors,
        fetcher=fetcher,
        queue=queue,
        files=files,
        on_end=callbacks.schedule,
    )
    runner: TaskRunning = local_runner
    broker = None
    if settings.queue is not None:
        from mock_server.scale.celery_queue import CeleryQueue, RemoteRunner, make_celery

        assert isinstance(store, PostgresStore)  # Settings refuses a queue without `store`
        broker = CeleryQueue(make_celery(settings.queue, settings.queue_name), store)
        runner = RemoteRunner(broker, store, local_runner, deadline_seconds=settings.task_deadline_seconds)
    cache: dict[str, Any] = {}
    violations: list[Exception] = []
    journal = Journal(settings.journal_size)
    auth = Authenticator(settings.auth, store, limits.access_token_ttl_seconds)
    holder = ScenarioValues(limiter, signer, limits.url_ttl_seconds, cache)
    memory = ProcessMemory(journal, auth, violations, cache)
    control: ScenarioControl
    if settings.store is not None:
        from mock_server.scale.shared_scenario import SharedScenario

        control = SharedScenario(pg, scenario, settings.scenario, holder, memory)
    else:
        control = LocalScenario(scenario, settings.scenario, holder, memory)
    services = Services(
        settings=settings,
        spec=spec,
        limits=limits,
        errors=errors,
        table=OperationTable(spec),
        validator=Validator(spec, limits.max_request_bytes),
        store=store,
        auth=auth,
        signer=signer,
        files=files,
        characters=Characters(settings.characters_file, files, limits.video_size),
        fetcher=fetcher,
        queue=queue,
        callbacks=callbacks,
        limiter=limiter,
        journal=journal,
        scenario=scenario,
        control=control,
        holder=holder,
        memory=memory,
        violations=violations,
        cache=cache,
        runner=runner,
        views=views,
        injector=UvicornFaultInjector(),
        lock=DataDirLock(data_dir) if settings.store is None else None,
        replay=None
        if settings.replay_dir is None
        else Replay.load(settings.replay_dir, settings.replay_speed),
    )
    services.broker = broker
    _observe(services, store, files, broker)
    holder.take(scenario)
    return services


def _observe(services: Services, store: Any, files: FileStore, broker: CeleryQueue | None) -> None:
    """What `/readyz` checks and `/metrics` reads, for the implementations chosen."""
    checks: dict[str, Callable[[], Awaitable[None]]] = {}
    counters: dict[str, tuple[str, Callable[[], float]]] = {}

    async def store_ready() -> None:
        await store.count_unfinished()

    checks["store"] = getattr(store, "ping", store_ready)  # SQLite: also the file on disk is intact
    if hasattr(store, "round_trips"):
        counters["a2v_store_round_trips"] = ("Statements sent to PostgreSQL", lambda: store.round_trips)
    if broker is not None:
        checks["queue"] = lambda: anyio.to_thread.run_sync(broker.ping)
        counters["a2v_queue_published"] = ("Render messages published", lambda: broker.published)
    ping = getattr(files, "ping", None)
    if ping is not None:
        checks["files"] = lambda: anyio.to_thread.run_sync(ping)
    services.health.checks.update(checks)
    services.metrics.identify(replica_name(services.settings.replica_name, services.settings.port), "api")
    services.metrics.watch(
        tasks=store.count_by_status, depth=None if broker is None else broker.depth, counters=counters
    )
