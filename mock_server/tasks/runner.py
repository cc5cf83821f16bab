"""The task state machine: accept, run (wait, fetch, render), end; recover after a restart.

    pending --(pending_seconds)--> in_progressing --(fetch, render)--> finished | error

Each accepted task runs as one asyncio task; renders go to the render queue, and the number of
unfinished tasks is bounded by `queue_capacity` (the caller answers 1010 over it). Every task has a
deadline (`task_deadline_seconds` after creation) that ends it with 10007 whatever it is waiting for.
Statuses only move forward (the store refuses anything else), so a forced status from the admin API and
the worker can race safely. Renders are written to the file store's staging paths and `put` when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from typing import TYPE_CHECKING

from a2v_spec import ErrorCode, Status
from mock_server.errors import STORAGE_FAILED, TaskFailure
from mock_server.logs import task_event
from mock_server.scenario_values import Outcome
from mock_server.tasks.background import observe, spawn
from mock_server.tasks.fairness import FairGate
from mock_server.tasks.render import RenderJob
from mock_server.tasks.replay import install_media
from mock_server.tasks.video_objects import video_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from a2v_spec import Limits
    from mock_server.config import TaskSettings
    from mock_server.errors import Errors
    from mock_server.files import FileStore
    from mock_server.store import Store, Task
    from mock_server.tasks.audio_fetch import AudioFetcher
    from mock_server.tasks.render import RenderQueue

__all__ = ["TaskRunner"]

log = logging.getLogger("mock_server")

#: Progress when the download is done; the render fills the rest up to 99.
_FETCHED = 5


class _Gone(Exception):
    """The task ended or was deleted while its runner waited (forced through the admin API, a reset)."""


class TaskRunner:
    def __init__(
        self,
        *,
        tasks: TaskSettings,
        limits: Limits,
        store: Store,
        errors: Errors,
        fetcher: AudioFetcher,
        queue: RenderQueue,
        files: FileStore,
        on_end: Callable[[Task], None],
        watch_seconds: float | None = None,
    ) -> None:
        #: Its section of the settings only (workers, deadline, characters): `--reload` hands it a new one.
        self.settings = tasks
        self.limits = limits
        self.store = store
        self.errors = errors
        self.fetcher = fetcher
        self.queue = queue
        self.files = files
        self.on_end = on_end
        #: How often a planned wait checks that its task is still unfinished. A worker's runner needs it:
        #: nobody can `cancel()` it from the API, and without it a task forced to end (or deleted by a
        #: reset) held the worker until its planned time passed. None: `cancel()` stops the wait.
        self.watch_seconds = watch_seconds
        self.running: dict[str, asyncio.Task[None]] = {}
        #: Endings the store could not record (a full disk): the watchdog records them when it can.
        self._unended: dict[str, tuple[Status, tuple[ErrorCode, str] | None, float | None]] = {}
        #: Render workers shared round-robin between tenants.
        self.gate = FairGate(tasks.render_workers)
        #: Downloads too: a tenant's slow audio hosts hold its own turns, not everyone's, and at most half
        #: the slots (the mock's own samples and uploads need none).
        self.downloads = FairGate(tasks.download_workers, per_tenant=max(1, tasks.download_workers // 2))

    # --- life cycle ---
    async def recover(self) -> int:
        """Start every task a previous run left unfinished; returns how many."""
        tasks = await self.store.unfinished()
        for task in tasks:
            self.start(task.video_id)
        if tasks:
            log.info("recovered %d unfinished task(s)", len(tasks))
        return len(tasks)

    def start(self, video_id: str) -> None:
        """Run the task (once: a task already running is left alone)."""
        current = self.running.get(video_id)
        if current is not None and not current.done():
            return
        runner = spawn(self._run(video_id), f"task-{video_id}")
        self.running[video_id] = runner

        def forget(done: asyncio.Task[None]) -> None:
            if self.running.get(video_id) is done:
                del self.running[video_id]

        runner.add_done_callback(forget)

    # --- watchdog ---
    async def watch(self, interval: float) -> None:
        """Every `interval` seconds: record endings the store refused, end tasks past their deadline
        (whatever they wait for, while the server runs), restart tasks whose runner is gone."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception as err:  # the store is unavailable: try again next round
                log.warning("task watchdog could not sweep: %r", err)

    async def sweep(self) -> None:
        for video_id, (status, error, duration) in list(self._unended.items()):
            await self.end(video_id, status, error, duration)
            self._unended.pop(video_id, None)
        now = time.time()
        deadline = self.settings.task_deadline_seconds
        for task in await self.store.unfinished():
            if now >= task.created_at + deadline:
                await self.cancel(task.video_id)
                await self._finish(
                    task.video_id, Status.ERROR, (ErrorCode.TASK_TIMED_OUT, _timed_out(deadline))
                )
            elif task.video_id not in self.running:
                self.start(task.video_id)

    async def _finish(
        self,
        video_id: str,
        status: Status,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> None:
        """End the task; when the store cannot record it now, leave it to the watchdog (never raise)."""
        try:
            await self.end(video_id, status, error, duration)
        except Exception as err:
            log.error("could not end task %s now (%r); the watchdog will", video_id, err)
            self._unended[video_id] = (status, error, duration)

    async def stop(self) -> None:
        """Cancel running tasks (they stay unfinished in the store and resume on the next start)."""
        await self.cancel_all()

    async def cancel_all(self) -> None:
        """Cancel every running task (a reset deletes them); the watchdog keeps running."""
        runners = list(self.running.values())
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        self.running.clear()

    async def cancel(self, video_id: str) -> None:
        runner = self.running.pop(video_id, None)
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner

    # --- ending ---
    async def end(
        self,
        video_id: str,
        status: Status,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> Task | None:
        task = await self.store.advance(video_id, status, error=error, duration=duration)
        if task is not None and task.terminal:
            if task.status is Status.FINISHED:
                task_event("finished", video_id, task.tenant, duration=task.duration)
            else:
                task_event("error", video_id, task.tenant, code=task.error_code, error=task.error_message)
            self.on_end(task)
        return task

    async def has_files(self, video_id: str) -> bool:
        return await self.files.exists(video_file(video_id)) and await self.files.exists(
            video_file(video_id, True)
        )

    async def _render(self, task: Task, audio: Path, min_duration: float, max_duration: float) -> float:
        """Render into staging files, then hand both to the file store."""
        names = video_file(task.video_id), video_file(task.video_id, True)
        staged = [self.files.staging(name) for name in names]
        extra = self.settings.characters_file
        job = RenderJob(
            job_id=task.video_id,
            audio=str(audio),
            model_id=task.model_id,
            output=str(staged[0]),
            mask_output=str(staged[1]),
            size=self.limits.video_size,
            fps=self.limits.video_fps,
            min_duration=min_duration,
            max_duration=max_duration,
            characters_file=None if extra is None else str(extra),
        )
        try:
            async with self.gate.slot(task.tenant):
                duration = await self.queue.render(
                    job, lambda done, total: self._progress(task.video_id, done, total)
                )
            for name, path in zip(names, staged, strict=True):
                await self.files.put(name, path)
        finally:
            for path in staged:
                path.unlink(missing_ok=True)
        return duration

    async def render_placeholder(self, video_id: str, seconds: float) -> float:
        """Render `seconds` of silence as the task's video (for a status forced to `finished`)."""
        task = await self.store.get_task(video_id)
        if task is None:
            raise TaskFailure(ErrorCode.INTERNAL_ERROR, f"unknown task {video_id}")
        audio = self.files.staging(f"{video_id}.silence.wav")
        seconds = max(0.2, seconds)
        with wave.open(str(audio), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes(b"\0\0" * int(16000 * seconds))
        try:
            return round(await self._render(task, audio, 0.0, 3600.0), 3)
        finally:
            audio.unlink(missing_ok=True)

    def _progress(self, video_id: str, done: int, total: int) -> None:
        if total > 0:
            progress = min(99, _FETCHED + int((99 - _FETCHED) * done / total))
            observe(asyncio.ensure_future(self.store.set_progress(video_id, progress)), "progress update")

    # --- running ---
    async def _run(self, video_id: str) -> None:
        task = await self.store.get_task(video_id)
        if task is None or task.terminal:
            return
        remaining = task.created_at + self.settings.task_deadline_seconds - time.time()
        try:
            if remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                await self._process(task)
        except _Gone:
            log.info("task %s ended or was deleted while it waited; dropped", video_id)
        except TimeoutError:
            error = (ErrorCode.TASK_TIMED_OUT, _timed_out(self.settings.task_deadline_seconds))
            await self._finish(video_id, Status.ERROR, error)
        except TaskFailure as failure:
            await self._finish(video_id, Status.ERROR, (failure.code, failure.message))
        except asyncio.CancelledError:
            raise
        except OSError as err:  # the data directory: a full or failing disk
            log.error("task %s: storage error: %r", video_id, err)
            error = (ErrorCode.INTERNAL_ERROR, STORAGE_FAILED)
            await self._finish(video_id, Status.ERROR, error)
        except Exception as err:
            log.exception("task %s failed", video_id)
            message = f"internal error while running the task ({type(err).__name__})"
            await self._finish(video_id, Status.ERROR, (ErrorCode.INTERNAL_ERROR, message))
        finally:
            self.files.staging(f"{video_id}.audio").unlink(missing_ok=True)

    async def _wait_until(self, deadline: float, video_id: str, p0: int = 1, p1: int = 1) -> None:
        """Sleep until `deadline` (wall clock), moving the video's progress from p0 towards p1; with
        `watch_seconds`, raise `_Gone` once the task has ended or is deleted."""
        start = checked = time.time()
        span = max(deadline - start, 1e-9)
        while (now := time.time()) < deadline:
            if p1 > p0:
                await self.store.set_progress(video_id, p0 + int((p1 - p0) * (now - start) / span))
            if self.watch_seconds is not None and now - checked >= self.watch_seconds:
                checked = now
                current = await self.store.get_task(video_id)
                if current is None or current.terminal:
                    raise _Gone(video_id)
            await asyncio.sleep(min(0.1, deadline - now))

    async def _process(self, task: Task) -> None:
        plan = task.plan
        if task.status is Status.PENDING:
            await self._wait_until(plan.accepted_at + plan.timings.pending_seconds, task.video_id)
            moved = await self.store.advance(task.video_id, Status.IN_PROGRESSING, progress=1)
            if moved is not None:
                task_event("started", task.video_id, task.tenant)
            else:  # forced forward meanwhile: go on unless it already ended
                current = await self.store.get_task(task.video_id)
                if current is None or current.terminal:
                    return
        started = time.time()
        in_progress = plan.timings.in_progress_seconds
        replayed = plan.replayed
        if plan.outcome is Outcome.ERROR:
            await self._wait_until(started + in_progress, task.video_id, 1, 95)
            code = plan.error_code
            message = replayed.error_message if replayed is not None else None
            raise TaskFailure(
                code, message or f"{self.errors.message(code)} (forced by the mock's test control)"
            )
        if replayed is not None and (duration := await install_media(replayed, self.files, task.video_id)):
            await self._wait_until(started + in_progress, task.video_id, 1, 99)  # a recording's own files
            await self.end(task.video_id, Status.FINISHED, duration=duration)
            return
        audio = self.files.staging(f"{task.video_id}.audio")
        if await self.fetcher.read_own(task.audio_url, audio) is None:  # a sample, an upload: no slot
            async with self.downloads.slot(task.tenant):
                await self.fetcher.fetch(task.audio_url, audio, remote=True)
        await self.store.set_progress(task.video_id, _FETCHED)
        duration = await self._render(
            task, audio, self.limits.min_audio_seconds, self.limits.max_audio_seconds
        )
        current = await self.store.get_task(task.video_id)
        await self._wait_until(
            started + in_progress, task.video_id, current.progress if current else _FETCHED, 99
        )
        await self._finish(task.video_id, Status.FINISHED, duration=round(duration, 3))


def _timed_out(deadline: float) -> str:
    return f"task did not end within {deadline:g} s and was stopped"
