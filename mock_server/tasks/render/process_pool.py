"""The embedded render queue: a pool of processes on this machine, never the event loop.

`LocalRenderPool.render()` submits `render_job` (a top-level function, so it pickles) to a
`ProcessPoolExecutor` made with the `spawn` start method (safe beside threads). Progress comes back
through a multiprocessing queue that a thread of this process drains into the job's `progress`
callback on the event loop. Renderer errors are mapped to catalog codes inside the child and returned
as data, so no custom exception has to cross the process boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from a2v_spec import ErrorCode
from mock_server.errors import STORAGE_FAILED, TaskFailure, public_message

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.tasks.render.protocol import RenderJob

__all__ = ["LocalRenderPool", "Rendered", "render_job", "report_progress_to", "warm"]

log = logging.getLogger("mock_server")

#: In each worker process: the queue progress goes to (set by the pool's initializer) and the
#: renderer's layer cache (made by the first job), so each character is drawn once per worker.
_worker: dict[str, Any] = {}


#: `prctl` option: the signal a process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Exit when `parent` dies: SIGKILL from the kernel on Linux, else a thread watching the parent.

    A `kill -9` of the server gives it no chance to stop its workers; without this they would go on
    rendering (and writing into the data directory) for as long as their jobs last.
    """
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl failed")
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), name="a2v-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def report_progress_to(queue: Any) -> None:
    """Where `render_job` puts `(job_id, done, total)` in this process: the pool's queue in its worker
    processes, or a scaled-out worker's own sink (`scale.worker.InlineRenderQueue`)."""
    _worker["queue"] = queue


def _init_worker(queue: Any, nice: int, parent: int | None = None) -> None:
    if parent is not None:
        _die_with(parent)
    report_progress_to(queue)
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)  # renders yield the CPU to the API's event loop


def warm(characters_file: str | None) -> bool:
    """Import the renderer, load the characters and render 0.3 s of silence, so the first real job
    pays for none of it."""
    import tempfile
    import wave
    from pathlib import Path

    from reference_renderer import RenderOptions, render

    characters = _characters(characters_file)
    with tempfile.TemporaryDirectory(prefix="a2v-warm-") as tmp:
        audio = Path(tmp) / "warm.wav"
        with wave.open(str(audio), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes(b"\0\0" * 4800)
        character = next(iter(characters.values()))
        options = RenderOptions(size=64, fps=25, min_duration=0.0, max_duration=None)
        render(
            str(audio),
            character,
            str(Path(tmp) / "w.mp4"),
            mask_output=str(Path(tmp) / "m.mp4"),
            options=options,
        )
    return True


@cache
def _characters(extra: str | None) -> dict[str, Any]:
    from reference_renderer import load_characters

    return dict(load_characters(extra))


def _code_for(err: BaseException) -> ErrorCode:
    from reference_renderer import (
        AudioTooLongError,
        AudioTooShortError,
        EmptyAudioError,
        UndecodableAudioError,
    )

    if isinstance(err, EmptyAudioError | AudioTooShortError):
        return ErrorCode.AUDIO_TOO_SHORT
    if isinstance(err, UndecodableAudioError):
        return ErrorCode.AUDIO_NOT_DECODABLE
    if isinstance(err, AudioTooLongError):
        return ErrorCode.AUDIO_TOO_LONG
    return ErrorCode.INTERNAL_ERROR


@dataclass(frozen=True)
class Rendered:
    """What a worker process sends back: the video's duration, or the catalog code of its failure."""

    duration: float = 0.0
    failure: ErrorCode | None = None
    message: str = ""


def render_job(job: RenderJob) -> Rendered:
    """Run in a worker process (never raises: an error crosses the process boundary as data)."""
    try:
        from reference_renderer import LayerCache, RenderError, RenderOptions, render

        queue = _worker.get("queue")
        layers = _worker.get("layers")
        if layers is None:
            layers = _worker["layers"] = LayerCache()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if queue is not None and (now - last[0] > 0.05 or done >= total):
                last[0] = now
                queue.put((job.job_id, done, total))

        character = _characters(job.characters_file)[job.model_id]
        options = RenderOptions(
            size=job.size, fps=job.fps, min_duration=job.min_duration, max_duration=job.max_duration
        )
        result = render(
            job.audio,
            character,
            job.output,
            mask_output=job.mask_output,
            options=options,
            progress=progress,
            layer_cache=layers,
        )
        return Rendered(duration=float(result.duration))
    except OSError as err:  # reading or writing the task's files (a full disk), not its audio's content
        log.error("render %s: storage error: %r", job.job_id, err)
        return Rendered(failure=ErrorCode.INTERNAL_ERROR, message=STORAGE_FAILED)  # not the OS's text
    except Exception as err:
        try:
            code = _code_for(err) if isinstance(err, RenderError) else ErrorCode.INTERNAL_ERROR
        except Exception:
            code = ErrorCode.INTERNAL_ERROR
        named = {f"audio file {job.audio!r}": "the audio", job.audio: "the audio"}
        return Rendered(failure=code, message=public_message(f"{err}" or type(err).__name__, named))


def _remove_partials(job: RenderJob) -> None:
    """Delete what a killed worker was writing: the outputs and the renderer's `.<name>.*` temp files."""
    for output in (job.output, job.mask_output):
        if output:
            target = Path(output)
            target.unlink(missing_ok=True)
            for partial in target.parent.glob(f".{target.name}.*"):
                partial.unlink(missing_ok=True)


class LocalRenderPool:
    """A bounded pool of render processes (the `RenderQueue` of one machine)."""

    def __init__(self, workers: int, *, nice: int = 19, characters_file: str | None = None) -> None:
        self.workers = workers
        self.nice = nice
        self.characters_file = characters_file
        #: job id -> its progress callback, while the job runs.
        self._progress: dict[str, Callable[[int, int], None]] = {}
        self._ctx = multiprocessing.get_context("spawn")
        self._queue: Any = None
        self._executor: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._queue is None:  # one progress queue and drain thread for every pool this one makes
            self._loop = asyncio.get_running_loop()
            self._queue = self._ctx.Queue()
            self._thread = threading.Thread(target=self._drain, name="a2v-render-progress", daemon=True)
            self._thread.start()
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._ctx,
                initializer=_init_worker,
                initargs=(self._queue, self.nice, os.getpid()),
            )
        return self._executor

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get()
            except (EOFError, OSError):
                return
            if item is None:
                return
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed while shutting down
                    self._loop.call_soon_threadsafe(self._report, *item)

    def _report(self, job_id: str, done: int, total: int) -> None:
        callback = self._progress.get(job_id)
        if callback is not None:
            callback(done, total)

    async def prewarm(self) -> None:
        """Start every worker process and warm it up (imports, characters, encoder)."""
        executor = self._ensure()
        loop = asyncio.get_running_loop()
        try:
            jobs = [loop.run_in_executor(executor, warm, self.characters_file) for _ in range(self.workers)]
            await asyncio.gather(*jobs)
        except Exception as err:  # the renderer is missing or broken: tasks will report it
            log.warning("render workers could not import the renderer: %s", err)

    async def render(self, job: RenderJob, progress: Callable[[int, int], None] | None = None) -> float:
        """Render in a worker process; returns the video duration or raises TaskFailure.

        A worker that dies (killed, out of memory) breaks the whole `ProcessPoolExecutor`, failing every
        job submitted to it. Each of those jobs is retried once on a fresh pool, so a job that was only
        waiting loses nothing; a job that breaks the fresh pool too fails with 1500.
        """
        loop = asyncio.get_running_loop()
        if progress is not None:
            self._progress[job.job_id] = progress
        try:
            for attempt in (1, 2):
                executor = self._ensure()
                try:
                    rendered = await loop.run_in_executor(executor, render_job, job)
                    break
                except BrokenProcessPool as err:
                    self._replace(executor)
                    _remove_partials(job)
                    if attempt == 2:
                        raise TaskFailure(
                            ErrorCode.INTERNAL_ERROR, "the render process stopped unexpectedly"
                        ) from err
                    log.warning("a render process died; retrying %s on a fresh pool", job.job_id)
        finally:
            self._progress.pop(job.job_id, None)
        if rendered.failure is not None:
            raise TaskFailure(rendered.failure, rendered.message)
        return rendered.duration

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Forget a broken pool (once, however many of its jobs report it); the next job starts a new one."""
        if self._executor is broken:
            self._executor = None
            broken.shutdown(wait=False, cancel_futures=True)

    def restart(self, characters_file: str | None) -> None:
        """Later jobs go to fresh processes, which read `characters_file` again (`--reload`); jobs
        already running finish in the old ones, which then exit."""
        self.characters_file = characters_file
        old, queue, thread = self._executor, self._queue, self._thread
        self._executor, self._queue, self._thread = None, None, None
        if old is None:
            return

        def retire() -> None:
            old.shutdown(wait=True)
            queue.put(None)
            if thread is not None:
                thread.join(timeout=5)

        threading.Thread(target=retire, name="a2v-render-retire", daemon=True).start()

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self._shutdown)

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._queue is not None:
            self._queue.put(None)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._queue.close()
            # Never wait for the feeder to flush: after a worker was killed nobody may read the pipe
            # again, and what is left in it (the stop sentinel, stale progress) is not needed.
            self._queue.cancel_join_thread()
            self._queue = None
