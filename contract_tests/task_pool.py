"""The tasks a run waits for, submitted together at its start and polled in parallel.

A real service renders for minutes. Taking the shared finished task, the failed task and the tasks of
the documented audio errors one after the other would cost their waits end to end; submitted together
at the start they wait in parallel, in background threads, while the realtime checks (fuzzing, errors,
auth) go on in the main thread. A check that needs a task asks the pool for it (`result`), which waits
only for what is left and re-raises what the task's run found (a violation, a stall).

Progress is printed while a check waits (`waiting for 2 tasks: finished-task in_progressing 40%`), so a
slow run says what it is doing.
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from contract_tests.requirement_ids import Req
from contract_tests.task_run import run_task

if TYPE_CHECKING:
    from contract_tests.client import A2VClient
    from contract_tests.models import Video
    from contract_tests.task_run import Stalls, TaskRun

__all__ = ["TASKS_FOR", "TaskPool", "tasks_for"]

#: The shared tasks, by name, and the requirements that need each: only the tasks some selected
#: requirement needs are submitted at the start. "finished" is the WAV fixture (with the callback
#: receiver), "speech.mp3" the MP3 one ("WAV and MP3 always"), "missing" the 404 audio (with the
#: receiver that fails once); the rest end in the documented audio errors.
TASKS_FOR: dict[str, tuple[str, ...]] = {
    "finished": (
        "A2V-LIFECYCLE-*",
        "A2V-FILE-*",
        Req.URLS_ANSWER,
        Req.CALLBACK_DELIVERY,
        Req.CALLBACK_SIGNATURE,
    ),
    "speech.mp3": (Req.LIFECYCLE_FINISHES,),
    "missing": (Req.ERROR_AUDIO_404, Req.CALLBACK_RETRY, Req.LIFECYCLE_SHAPE),
    "unreachable": (Req.ERROR_AUDIO_UNREACHABLE,),
    "not_audio.wav": (Req.ERROR_NOT_AUDIO,),
    "too_long.wav": (Req.ERROR_AUDIO_TOO_LONG,),
}


def tasks_for(selected: set[str]) -> list[str]:
    """The names of `TASKS_FOR` whose requirements some selected id matches."""
    import fnmatch

    return [
        name
        for name, patterns in TASKS_FOR.items()
        if any(fnmatch.fnmatchcase(rid, pattern) for rid in selected for pattern in patterns)
    ]


@dataclass(frozen=True)
class _Job:
    model_id: str
    audio_url: str
    audio_seconds: float | None
    callback_url: str | None


class TaskPool:
    """Named tasks, each generated and polled to its end in a thread of its own."""

    def __init__(
        self, client: A2VClient, stalls: Stalls, timeout: float, *, out: TextIO | None = None
    ) -> None:
        self.client = client
        self.stalls = stalls
        self.timeout = timeout
        self.out = out if out is not None else sys.stderr
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="a2v-task")
        self._futures: dict[str, Future[TaskRun]] = {}
        self._latest: dict[str, str] = {}
        self._lock = threading.Lock()
        #: The callback receiver key each task was given (the callback checks wait for it).
        self.callback_keys: dict[str, str] = {}

    def submit(
        self,
        name: str,
        model_id: str,
        audio_url: str,
        *,
        audio_seconds: float | None = None,
        callback_url: str | None = None,
    ) -> None:
        """Start `name` now (once); its run records evidence like any check (the context is copied)."""
        if name in self._futures:
            return
        job = _Job(model_id, audio_url, audio_seconds, callback_url)
        context = contextvars.copy_context()
        self._latest[name] = "submitted"
        self._futures[name] = self._executor.submit(context.run, self._run, name, job)

    def submitted(self, name: str) -> bool:
        return name in self._futures

    def _run(self, name: str, job: _Job) -> TaskRun:
        # Its own client object (its own last_response), sharing the connection pool and the hooks.
        client = self.client.with_token(self.client.token)

        def progress(video: Video) -> None:
            with self._lock:
                percent = f" {video.progress}%" if video.progress is not None else ""
                self._latest[name] = f"{video.status}{percent}"

        return run_task(
            client,
            job.model_id,
            job.audio_url,
            timeout=self.timeout,
            audio_seconds=job.audio_seconds,
            callback_url=job.callback_url,
            stalls=self.stalls,
            on_progress=progress,
        )

    def result(self, name: str) -> TaskRun:
        """The task's run once it ended (printing progress while waiting); re-raises what it found."""
        future = self._futures[name]
        started = time.monotonic()
        while True:
            try:
                return future.result(timeout=15)
            except FutureTimeout:
                waiting = [n for n, f in self._futures.items() if not f.done()]
                with self._lock:
                    states = ", ".join(f"{n} {self._latest.get(n, '')}".strip() for n in waiting)
                print(
                    f"a2v-contract: waited {time.monotonic() - started:.0f} s for {name}; "
                    f"{len(waiting)} task(s) running: {states}",
                    file=self.out,
                    flush=True,
                )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
