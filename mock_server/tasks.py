"""The task state machine: accept, run (wait, fetch, render), end; recover after a restart.

    pending --(pending_seconds)--> in_progressing --(fetch, render)--> finished | error

Each accepted task runs as one asyncio task; renders are bounded by the process pool, and the number
of unfinished tasks by `queue_capacity` (the caller answers 1010 over it). Every task has a deadline
(`task_deadline_seconds` after creation) that ends it with 10007 whatever it is waiting for. Statuses
only move forward (the store refuses anything else), so a forced status from the admin API and the
worker can race safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from typing import TYPE_CHECKING, Any

from mock_server.errors import TaskFailure
from mock_server.renderpool import RenderJob
from mock_server.replay import install_media

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from a2v_spec import Limits
    from mock_server.config import Settings
    from mock_server.errors import Errors
    from mock_server.fetch import AudioFetcher
    from mock_server.renderpool import RenderPool
    from mock_server.store import Store, Task

__all__ = ["TaskRunner"]

log = logging.getLogger("mock_server")

#: Progress when the download is done; the render fills the rest up to 99.
_FETCHED = 5


class TaskRunner:
    def __init__(
        self,
        *,
        settings: Settings,
        limits: Limits,
        store: Store,
        errors: Errors,
        fetcher: AudioFetcher,
        pool: RenderPool,
        files_root: Path,
        on_end: Callable[[Task], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.limits = limits
        self.store = store
        self.errors = errors
        self.fetcher = fetcher
        self.pool = pool
        self.files_root = files_root
        self.on_end = on_end
        self.running: dict[str, asyncio.Task[None]] = {}
        (files_root / "videos").mkdir(parents=True, exist_ok=True)
        (files_root.parent / "tmp").mkdir(parents=True, exist_ok=True)

    # --- life cycle ---
    def recover(self) -> int:
        """Start every task a previous run left unfinished; returns how many."""
        tasks = self.store.unfinished()
        for task in tasks:
            self.start(task.video_id)
        if tasks:
            log.info("recovered %d unfinished task(s) from %s", len(tasks), self.store.path)
        return len(tasks)

    def start(self, video_id: str) -> None:
        runner = asyncio.create_task(self._run(video_id), name=f"a2v-task-{video_id}")
        self.running[video_id] = runner
        runner.add_done_callback(lambda _: self.running.pop(video_id, None))

    async def stop(self) -> None:
        """Cancel running tasks (they stay unfinished in the store and resume on the next start)."""
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
        self, video_id: str, status: str, error: tuple[int, str] | None = None, duration: float | None = None
    ) -> Task | None:
        task = self.store.advance(video_id, status, error=error, duration=duration)
        if task is not None and task.terminal and self.on_end is not None:
            await self.on_end(task)
        return task

    def has_files(self, video_id: str) -> bool:
        videos = self.files_root / "videos"
        return (videos / f"{video_id}.mp4").is_file() and (videos / f"{video_id}.mask.mp4").is_file()

    def _job(
        self, video_id: str, audio: Path, model_id: str, min_duration: float, max_duration: float
    ) -> RenderJob:
        videos = self.files_root / "videos"
        extra = self.settings.characters_file
        return RenderJob(
            job_id=video_id,
            audio=str(audio),
            model_id=model_id,
            output=str(videos / f"{video_id}.mp4"),
            mask_output=str(videos / f"{video_id}.mask.mp4"),
            size=self.limits.video_size,
            fps=self.limits.video_fps,
            min_duration=min_duration,
            max_duration=max_duration,
            characters_file=None if extra is None else str(extra),
        )

    async def render_placeholder(self, video_id: str, seconds: float) -> float:
        """Render `seconds` of silence as the task's video (for a status forced to `finished`)."""
        task = self.store.get_task(video_id)
        if task is None:
            raise TaskFailure(1500, f"unknown task {video_id}")
        audio = self.files_root.parent / "tmp" / f"{video_id}.silence.wav"
        seconds = max(0.2, seconds)
        with wave.open(str(audio), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes(b"\0\0" * int(16000 * seconds))
        try:
            return round(await self.pool.render(self._job(video_id, audio, task.model_id, 0.0, 3600.0)), 3)
        finally:
            audio.unlink(missing_ok=True)

    def on_progress(self, video_id: str, done: int, total: int) -> None:
        if total > 0:
            self.store.set_progress(video_id, min(99, _FETCHED + int((99 - _FETCHED) * done / total)))

    # --- running ---
    async def _run(self, video_id: str) -> None:
        task = self.store.get_task(video_id)
        if task is None or task.terminal:
            return
        remaining = task.created_at + self.settings.task_deadline_seconds - time.time()
        try:
            if remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                await self._process(task)
        except TimeoutError:
            await self.end(
                video_id,
                "error",
                (10007, f"task did not end within {self.settings.task_deadline_seconds:g} s and was stopped"),
            )
        except TaskFailure as failure:
            await self.end(video_id, "error", (failure.code, failure.message))
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.exception("task %s failed", video_id)
            await self.end(
                video_id,
                "error",
                (1500, f"internal error while running the task: {type(err).__name__}: {err}"),
            )
        finally:
            self._cleanup(video_id)

    def _cleanup(self, video_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.files_root.parent / "tmp" / f"{video_id}.audio").unlink()

    async def _wait_until(
        self, deadline: float, video_id: str | None = None, p0: int = 1, p1: int = 1
    ) -> None:
        """Sleep until `deadline` (wall clock); with a video, move its progress from p0 towards p1."""
        start = time.time()
        span = max(deadline - start, 1e-9)
        while (now := time.time()) < deadline:
            if video_id is not None and p1 > p0:
                self.store.set_progress(video_id, p0 + int((p1 - p0) * (now - start) / span))
            await asyncio.sleep(min(0.1, deadline - now))

    async def _process(self, task: Task) -> None:
        plan: dict[str, Any] = task.plan
        accepted = float(plan.get("accepted_at", task.created_at))
        pending_s = float(plan.get("pending_seconds", 0.0))
        progress_s = float(plan.get("in_progress_seconds", 0.0))
        if task.status == "pending":
            await self._wait_until(accepted + pending_s)
            moved = self.store.advance(task.video_id, "in_progressing", progress=1)
            if moved is None:  # forced forward meanwhile: go on unless it already ended
                current = self.store.get_task(task.video_id)
                if current is None or current.terminal:
                    return
        started = time.time()
        replay: dict[str, Any] = plan.get("replay") or {}
        if plan.get("outcome") == "error":
            await self._wait_until(started + progress_s, task.video_id, 1, 95)
            code = int(plan.get("error_code", 1500))
            message = (
                replay.get("error_message")
                or f"{self.errors.message(code)} (forced by the mock's test control)"
            )
            raise TaskFailure(code, message)
        videos = self.files_root / "videos"
        replayed = install_media(
            replay, videos / f"{task.video_id}.mp4", videos / f"{task.video_id}.mask.mp4"
        )
        if replayed is not None:  # a recording's own files (mock_server.replay)
            await self._wait_until(started + progress_s, task.video_id, 1, 99)
            await self.end(task.video_id, "finished", duration=replayed)
            return
        audio = self.files_root.parent / "tmp" / f"{task.video_id}.audio"
        await self.fetcher.fetch(task.audio_url, audio)
        self.store.set_progress(task.video_id, _FETCHED)
        job = self._job(
            task.video_id, audio, task.model_id, self.limits.min_audio_seconds, self.limits.max_audio_seconds
        )
        duration = await self.pool.render(job)
        current = self.store.get_task(task.video_id)
        await self._wait_until(
            started + progress_s, task.video_id, current.progress if current else _FETCHED, 99
        )
        await self.end(task.video_id, "finished", duration=round(duration, 3))
