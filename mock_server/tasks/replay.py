"""`a2v-mock --replay DIR`: reproduce the tasks of a recording made by `a2v-contract proxy --record DIR`.

A `video.generate` whose JSON body equals a recorded one gets a task that follows the recorded status
timeline: the same outcome and error code, the same durations relative to creation (divided by
`--replay-speed`), and, when the recording kept them (`--record-files`), the recorded video files
instead of a render of its own. Every other request behaves as the mock normally does.

A recording shows a task only when the client looked, so each status change is placed halfway between
the last poll that saw the old status and the first that saw the new one: a client polling on the same
schedule sees every change at the same poll as in the recording, whatever jitter either run has.

Bodies recorded several times are replayed in order, the last one again once they are used up. A task
whose end the recording does not show cannot be replayed; it is left out (and logged).

Example:
    >>> replay = Replay.load(Path("traffic"), speed=2.0)                       # doctest: +SKIP
    >>> replay.plan_for({"model_id": "eva_a0008", "audio_url": "https://..."}, time.time())  # doctest: +SKIP
    Plan(outcome=<Outcome.ERROR: 'error'>, error_code=<ErrorCode.AUDIO_NOT_DECODABLE: 10003>, ...)
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from a2v_spec import ErrorCode, Status, load_spec
from mock_server.scenario_values import Outcome, Plan, Replayed, Timings
from mock_server.tasks.video_objects import video_file

if TYPE_CHECKING:
    from mock_server.files import FileStore

__all__ = ["EXCHANGES", "Replay", "Timeline", "install_media"]

log = logging.getLogger("mock_server")

#: The recording's file of exchanges (`contract_tests.proxy.record` writes it).
EXCHANGES = "exchanges.jsonl"


@dataclass(frozen=True)
class Timeline:
    """One recorded task: when it left `pending`, when it ended, and how."""

    body: str  # the generate body, canonical JSON
    video_id: str
    in_progress_at: float  # seconds after creation
    ended_at: float
    outcome: str  # "finish" or "error"
    error_code: int | None = None
    error_message: str | None = None
    duration: float | None = None
    video_file: Path | None = None
    mask_file: Path | None = None


@dataclass
class _Seen:
    body: str
    created: float
    observations: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


def canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


class Replay:
    def __init__(self, timelines: list[Timeline], speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"--replay-speed must be above 0, got {speed!r}")
        self.speed = speed
        self.timelines = timelines
        self._queues: dict[str, deque[Timeline]] = {}
        for timeline in timelines:
            self._queues.setdefault(timeline.body, deque()).append(timeline)

    @classmethod
    def load(cls, directory: Path, speed: float = 1.0) -> Replay:
        """Read `DIR/exchanges.jsonl`; raises ValueError naming the file when it is missing or unreadable."""
        path = directory / EXCHANGES
        if not path.is_file():
            raise ValueError(
                f"--replay {directory}: no {EXCHANGES} there (record one with a2v-contract proxy)"
            )
        entries = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except ValueError as err:
                    raise ValueError(f"{path}:{number} is not a JSON line: {err}") from err
        return cls(timelines(entries, directory), speed)

    def plan_for(self, body: dict[str, Any], now: float, base_url: str = "") -> Plan | None:
        """The plan (see `tasks.runner`) of a task replaying the next recording of `body`, or None."""
        queue = self._queues.get(canonical(body))
        if not queue:
            return None
        timeline = queue.popleft() if len(queue) > 1 else queue[0]
        pending = timeline.in_progress_at / self.speed
        try:
            code = (
                ErrorCode(timeline.error_code)
                if timeline.error_code is not None
                else ErrorCode.INTERNAL_ERROR
            )
        except ValueError:  # a code the catalog does not have: kept in the message
            code = ErrorCode.INTERNAL_ERROR
        return Plan(
            outcome=Outcome.FINISH if timeline.outcome == "finish" else Outcome.ERROR,
            error_code=code,
            timings=Timings(pending, max(0.0, timeline.ended_at / self.speed - pending)),
            accepted_at=now,
            base_url=base_url,
            replayed=Replayed(
                error_message=timeline.error_message,
                duration=timeline.duration,
                video_file=str(timeline.video_file) if timeline.video_file else None,
                mask_file=str(timeline.mask_file) if timeline.mask_file else None,
            ),
        )


async def install_media(replayed: Replayed, files: FileStore, video_id: str) -> float | None:
    """Put a recording's two files where the mock serves the task's; their duration, or None when the
    recording has no files (the mock then renders its own)."""
    sources = [replayed.video_file, replayed.mask_file]
    if not all(source and Path(source).is_file() for source in sources):
        return None
    for source, name in zip(sources, (video_file(video_id), video_file(video_id, True)), strict=True):
        staged = files.staging(name)
        shutil.copyfile(str(source), staged)
        await files.put(name, staged)
    return replayed.duration if replayed.duration is not None else 0.0


def timelines(entries: list[dict[str, Any]], directory: Path) -> list[Timeline]:
    """Every replayable task of a recording, in the order they were created."""
    spec = load_spec()
    generate = spec.operation("generateVideo").path
    reads = {spec.operation("getVideo").path: "get", spec.operation("listVideos").path: "list"}
    seen: dict[str, _Seen] = {}
    files: dict[str, Path] = {}
    for entry in sorted(entries, key=lambda e: e.get("seq", 0)):
        request, response = entry.get("request") or {}, entry.get("response") or {}
        answered = float(entry.get("at", 0)) + float(entry.get("duration", 0))
        if entry.get("file"):
            files[PurePosixPath(urlsplit(entry.get("upstream_url", "")).path).name] = (
                directory / entry["file"]
            )
        if response.get("status") != 200 or not isinstance(response.get("body"), str):
            continue
        data = _data(response["body"])
        path = str(request.get("path", ""))
        if path == generate and request.get("method") == "POST" and isinstance(data, dict):
            body = _data_of_request(request)
            if body is not None and isinstance(data.get("video_id"), str):
                seen.setdefault(data["video_id"], _Seen(canonical(body), answered))
        elif reads.get(path) == "get" and isinstance(data, dict):
            _observe(seen, data, answered)
        elif reads.get(path) == "list":
            for item in _listed(data):
                _observe(seen, item, answered)
    found = []
    for video_id, task in seen.items():
        timeline = _timeline(video_id, task, files)
        if timeline is None:
            log.warning("replay: the recording does not show how task %s ended; it is not replayed", video_id)
        else:
            found.append(timeline)
    return found


def _data(text: str) -> Any:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body.get("data") if isinstance(body, dict) else None


def _listed(data: Any) -> list[dict[str, Any]]:
    """The videos of a `video.list` answer: its plain array (recordings made before the list was the
    documented array kept them under `items`)."""
    items = data.get("items") if isinstance(data, dict) else data
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _data_of_request(request: dict[str, Any]) -> dict[str, Any] | None:
    if request.get("truncated") or not isinstance(request.get("body"), str):
        return None
    try:
        body = json.loads(request["body"])
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _observe(seen: dict[str, _Seen], data: dict[str, Any], at: float) -> None:
    task = seen.get(str(data.get("video_id")))
    if task is not None and at >= task.created:
        task.observations.append((at - task.created, data))


def _status(data: dict[str, Any]) -> Status | None:
    try:
        return Status(str(data.get("status")))
    except ValueError:
        return None


def _timeline(video_id: str, task: _Seen, files: dict[str, Path]) -> Timeline | None:
    observed = sorted(
        ((t, s, d) for t, d in task.observations if (s := _status(d)) is not None), key=lambda o: o[0]
    )
    final = next(((t, s, d) for t, s, d in observed if s.is_terminal), None)
    if final is None:
        return None
    ended_seen, status, data = final
    before_end = [t for t, s, _ in observed if not s.is_terminal and t < ended_seen]
    ended_at = (max(before_end) + ended_seen) / 2 if before_end else ended_seen / 2
    last_pending = [t for t, s, _ in observed if s == Status.PENDING]
    first_moved = min(t for t, s, _ in observed if s != Status.PENDING)
    in_progress_at = (max(last_pending) + first_moved) / 2 if last_pending else first_moved / 2
    in_progress_at = min(in_progress_at, ended_at)
    error: dict[str, Any] = data["error"] if isinstance(data.get("error"), dict) else {}
    video = mask = None
    if status == Status.FINISHED:
        video = files.get(_file_name(data.get("video_url")))
        mask = files.get(_file_name(data.get("mask_video_url")))
    duration = data.get("duration")
    return Timeline(
        body=task.body,
        video_id=video_id,
        in_progress_at=round(in_progress_at, 3),
        ended_at=round(ended_at, 3),
        outcome="finish" if status == Status.FINISHED else "error",
        error_code=error.get("code") if isinstance(error.get("code"), int) else None,
        error_message=error.get("message") if isinstance(error.get("message"), str) else None,
        duration=float(duration) if isinstance(duration, int | float) else None,
        video_file=video,
        mask_file=mask,
    )


def _file_name(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url)
    path = parts.path
    if path.startswith("/__a2v_proxy/"):  # a URL the proxy rewrote: the file name is the same
        path = "/" + path.split("/", 3)[-1]
    return PurePosixPath(path).name
