"""The two seams between the API and a task's life, so the composition root can choose either side.

`TaskRunning` is what the API and the admin API ask of whatever runs tasks: the embedded
`tasks.runner.TaskRunner`, or, with a broker, `scale.celery_queue.RemoteRunner`, which publishes each
task to the workers. `CallbackDelivery` is what a task's end hands its callback to: the embedded
`tasks.callbacks.CallbackSender`, or, with PostgreSQL, `scale.outbox.OutboxDeliverer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from a2v_spec import ErrorCode, Status
    from mock_server.config import CallbackSettings
    from mock_server.store import Delivery, Task

__all__ = ["CallbackDelivery", "TaskRunning"]


class TaskRunning(Protocol):
    async def recover(self) -> int:
        """Pick up the tasks a previous run left unfinished; how many."""
        ...

    def start(self, video_id: str) -> None:
        """Run the task just committed to the store."""
        ...

    async def stop(self) -> None:
        """Stop running tasks (at shutdown); unfinished ones are recovered by the next start."""
        ...

    async def cancel(self, video_id: str) -> None:
        """Stop the task `video_id` (its rows were deleted by a reset)."""
        ...

    async def cancel_all(self) -> None:
        """Stop every task (a reset of everything)."""
        ...

    async def end(
        self,
        video_id: str,
        status: Status,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> Task | None:
        """Force the task to end with `status` (the admin API); the task, or None if it had ended."""
        ...

    async def has_files(self, video_id: str) -> bool:
        """Whether the task's video and mask are in the file store."""
        ...

    async def render_placeholder(self, video_id: str, seconds: float) -> float:
        """Render `seconds` of silence as the task's video (a status forced to `finished`)."""
        ...


class CallbackDelivery(Protocol):
    #: Its section of the settings (attempts, backoff, timeout), replaced by `--reload`.
    settings: CallbackSettings

    def schedule(self, task: Task, record: Delivery | None = None) -> None:
        """Deliver the callback of `task`, which has just ended."""
        ...

    def idle(self) -> bool:
        """Whether no delivery is in flight."""
        ...

    async def resume(self) -> int:
        """Resume the deliveries a previous run left pending; how many."""
        ...

    async def aclose(self) -> None:
        """Stop delivering (at shutdown); pending deliveries are resumed by the next start."""
        ...
