"""Following tasks across exchanges: per `video_id`, who created it, what it went through.

What one answer cannot show and a sequence can: the task is readable at once, its status only moves
forward (`a2v_spec.Status`), its progress never decreases, another token never sees it, an
`Idempotency-Key` replays or conflicts as documented, and a model that `character.list` did not return
is refused. Observations are compared only when causally ordered (the later request started after the
earlier answer ended), so concurrent polls answered out of order are not blamed on the server.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode, Status
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation

if TYPE_CHECKING:
    from collections.abc import Iterator

    from contract_tests.proxy.exchange import Exchange

__all__ = ["Task", "Tasks"]

_MAX_TASKS = 100_000


@dataclass
class Task:
    video_id: str
    tenant: str | None
    audio_url: str | None
    created: float
    status: Status | None = None
    progress: int | None = None
    observed_end: float = 0.0
    duration: float | None = None


def _status(value: Any) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


class Tasks:
    def __init__(self) -> None:
        self.tasks: OrderedDict[str, Task] = OrderedDict()
        self._models: dict[str | None, set[str]] = {}
        self._keys: dict[tuple[str | None, str], tuple[str, str]] = {}

    def get(self, video_id: str | None) -> Task | None:
        return self.tasks.get(video_id) if video_id else None

    # -- one answer ------------------------------------------------------------------------------------
    def judge(self, exchange: Exchange, operation_id: str) -> Iterator[ContractViolation]:
        if not exchange.response_complete or exchange.upstream_error:
            return
        body = exchange.json()
        data = body.get("data") if isinstance(body, dict) else None
        if operation_id == "listCharacters" and exchange.status == 200 and isinstance(data, list):
            self._models[exchange.tenant] = {c["model_id"] for c in data if isinstance(c, dict)}
        elif operation_id == "generateVideo":
            yield from self._generate(exchange, data)
        elif operation_id == "getVideo":
            yield from self._get(exchange, data)
        elif operation_id == "listVideos" and exchange.status == 200 and isinstance(data, list):
            yield from self._list(exchange, data)

    def _generate(self, exchange: Exchange, data: Any) -> Iterator[ContractViolation]:
        request = exchange.request_json()
        if not isinstance(request, dict):
            return
        response = exchange.as_response()
        model = request.get("model_id")
        known = self._models.get(exchange.tenant)
        video_id = data.get("video_id") if isinstance(data, dict) else None
        if known is not None and isinstance(model, str):
            if exchange.status == 200 and model not in known:
                yield ContractViolation(
                    Req.ERROR_UNKNOWN_MODEL,
                    f"model_id {model!r}, which character.list did not return, was accepted",
                    expected=f"HTTP 404 / {int(ErrorCode.MODEL_NOT_FOUND)}",
                    response=response,
                )
            elif exchange.status == 404 and model in known:
                yield ContractViolation(
                    Req.ERROR_UNKNOWN_MODEL,
                    f"model_id {model!r}, which character.list returned, was refused as unknown",
                    expected="HTTP 200 with a video_id",
                    response=response,
                )
        key = exchange.header("idempotency-key")
        canonical = json.dumps(request, sort_keys=True)
        if key:
            yield from self._idempotency(exchange, (exchange.tenant, key), canonical, video_id)
        if exchange.status == 200 and isinstance(video_id, str) and video_id not in self.tasks:
            audio = request.get("audio_url")
            self.tasks[video_id] = Task(
                video_id, exchange.tenant, audio if isinstance(audio, str) else None, exchange.ended
            )
            while len(self.tasks) > _MAX_TASKS:
                self.tasks.popitem(last=False)

    def _idempotency(
        self, exchange: Exchange, slot: tuple[str | None, str], canonical: str, video_id: Any
    ) -> Iterator[ContractViolation]:
        earlier = self._keys.get(slot)
        response = exchange.as_response()
        if earlier is None:
            if exchange.status == 200 and isinstance(video_id, str):
                self._keys[slot] = (canonical, video_id)
            return
        body, first_id = earlier
        if body == canonical and exchange.status == 200 and video_id != first_id:
            yield ContractViolation(
                Req.IDEMPOTENCY_REPLAY,
                f"the same Idempotency-Key and body gave a second task {video_id} (first {first_id})",
                expected=f"video_id {first_id} again",
                response=response,
            )
        elif body != canonical and exchange.status != 409:
            yield ContractViolation(
                Req.IDEMPOTENCY_CONFLICT,
                f"Idempotency-Key {slot[1]!r} reused with another body answered HTTP {exchange.status}",
                expected=f"HTTP 409 / {int(ErrorCode.IDEMPOTENCY_CONFLICT)}",
                response=response,
            )

    def _get(self, exchange: Exchange, data: Any) -> Iterator[ContractViolation]:
        video_id = dict(exchange.params).get("video_id")
        task = self.get(video_id)
        if task is None:
            return
        response = exchange.as_response()
        if task.tenant != exchange.tenant:
            if exchange.status == 200:
                yield ContractViolation(
                    Req.AUTH_TENANT_ISOLATION,
                    f"another token's video {video_id} was shown to {exchange.tenant}",
                    expected=f"HTTP 404 / {int(ErrorCode.VIDEO_NOT_FOUND)}, as for an unknown id",
                    response=response,
                )
            return
        if exchange.status == 404:
            yield ContractViolation(
                Req.GENERATE_READABLE,
                f"video.get of {video_id}, which video.generate returned to this token, answered 404",
                expected="HTTP 200 with the task",
                response=response,
            )
        elif exchange.status == 200 and isinstance(data, dict):
            yield from self._observe(task, exchange, data)

    def _list(self, exchange: Exchange, data: list[Any]) -> Iterator[ContractViolation]:
        items = [i for i in data if isinstance(i, dict)]
        response = exchange.as_response()
        wanted = dict(exchange.params).get("status")
        if wanted and any(i.get("status") != wanted for i in items):
            yield ContractViolation(
                Req.LIFECYCLE_LIST,
                f"status={wanted} listed a task in another status",
                expected=f"only tasks in status {wanted}",
                response=response,
            )
        created = [int(i["created_at"]) for i in items if isinstance(i.get("created_at"), int)]
        if created != sorted(created, reverse=True):
            yield ContractViolation(
                Req.LIFECYCLE_LIST, "items are not newest first", expected="newest first", response=response
            )
        for item in items:
            task = self.get(item.get("video_id"))
            if task is None:
                continue
            if task.tenant != exchange.tenant:
                yield ContractViolation(
                    Req.AUTH_TENANT_ISOLATION,
                    f"another token's video {task.video_id} is in {exchange.tenant}'s video.list",
                    response=response,
                )
            else:
                yield from self._observe(task, exchange, item)

    def _observe(self, task: Task, exchange: Exchange, data: dict[str, Any]) -> Iterator[ContractViolation]:
        status = _status(data.get("status"))
        progress = data.get("progress") if isinstance(data.get("progress"), int) else None
        response = exchange.as_response()
        ordered = exchange.started >= task.observed_end
        if ordered and status is not None and task.status is not None:
            if task.status.is_terminal and status != task.status:
                yield ContractViolation(
                    Req.LIFECYCLE_FORWARD,
                    f"video {task.video_id} left terminal status {str(task.status)!r} for {str(status)!r}",
                    expected=f"status stays {str(task.status)!r}",
                    response=response,
                )
            elif status.rank < task.status.rank:
                yield ContractViolation(
                    Req.LIFECYCLE_FORWARD,
                    f"video {task.video_id} moved backwards from {str(task.status)!r} to {str(status)!r}",
                    expected="pending -> in_progressing -> finished | error",
                    response=response,
                )
        if ordered and progress is not None and task.progress is not None and progress < task.progress:
            yield ContractViolation(
                Req.LIFECYCLE_PROGRESS,
                f"video {task.video_id} progress decreased from {task.progress} to {progress}",
                expected=f"progress >= {task.progress}",
                response=response,
            )
        if ordered:
            task.status = status or task.status
            task.progress = progress if progress is not None else task.progress
            task.observed_end = exchange.ended
            if isinstance(data.get("duration"), int | float):
                task.duration = float(data["duration"])
