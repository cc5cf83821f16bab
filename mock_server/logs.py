"""The mock's log: one line per request and one per task event, in one format for every logger.

`configure("text" | "json", level)` installs a single handler on the root logger, so uvicorn's own
lines (start-up, errors) come out in the same format as ours. That handler only queues the record
(stdlib `QueueHandler`): one thread formats and writes every line, in the order they were logged, so a
request line costs the event loop no formatting and no write; the thread writes in batches (lines gather
for `LINGER_SECONDS`), so under load it wakes, takes the GIL and writes once per batch, not per request.
`flush()` waits until every queued line is written; the lifespan's end and the interpreter's exit
(`logging.shutdown`) do.
Records carry their fields in `record.a2v` (a dict), which the JSON formatter writes as keys and the
text formatter as `key=value`:

    2026-11-29T18:00:00.123Z INFO  request POST /v1/a2v/video.generate 200 code=0 4.1ms tenant=tok-930bbdc51b
    2026-11-29T18:00:02.456Z INFO  task finished video_id=v_1 tenant=tok-930bbdc51b duration=2.5

A tenant is always shown by its label (`mock_server.redact.tenant_label`), never by its token.

Example:
    >>> import logging
    >>> configure("json", "info", stream=None)  # doctest: +SKIP
    >>> request_line(method="GET", path="/v1/ping", status=200, code=0, duration_ms=0.4, tenant=None)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import logging.handlers
import queue
import sys
import threading
import time
from typing import IO, Any, Final, Literal

from mock_server.redact import tenant_label

__all__ = [
    "FORMATS",
    "JsonFormatter",
    "TextFormatter",
    "configure",
    "flush",
    "request_line",
    "task_event",
    "uvicorn_log_config",
]

FORMATS: Final = ("text", "json")
LogFormat = Literal["text", "json"]

#: Loggers: requests, task events, and everything else the server says.
REQUESTS: Final = logging.getLogger("mock_server.requests")
TASKS: Final = logging.getLogger("mock_server.tasks")

#: The task events that get a line (each a verb of the message).
TASK_EVENTS: Final = ("created", "started", "finished", "error", "callback_delivered", "callback_failed")


#: The last second `_time` formatted, and its text up to the milliseconds: a busy log writes hundreds
#: of lines a second, and `strftime` was half of a line's formatting. One tuple, replaced whole.
_second: tuple[int, str] = (-1, "")


def _time(record: logging.LogRecord) -> str:
    global _second
    whole = int(record.created)
    if _second[0] != whole:
        _second = (whole, _dt.datetime.fromtimestamp(whole, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{_second[1]}{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "a2v", None)
    return dict(fields) if isinstance(fields, dict) else {}


#: Fields the text format leaves out because the message already says them.
_IN_MESSAGE: Final = frozenset({"event", "method", "path", "status"})


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <message> key=value ...` with None fields left out."""

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _fields(record).items():
            if value is None or key in _IN_MESSAGE:
                continue
            parts.append(f"{value}ms" if key == "duration_ms" else f"{key}={_text(value)}")
        extras = " ".join(parts)
        line = f"{_time(record)} {record.levelname:<5} {record.getMessage()}"
        if extras:
            line += " " + extras
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time`, `level`, `logger`, `message`, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(_fields(record))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, separators=(",", ":"), default=str)


def _text(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text


def formatter(fmt: str) -> logging.Formatter:
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return JsonFormatter() if fmt == "json" else TextFormatter()


#: How long the writer lets lines gather after the first of a batch: under load one write then carries
#: hundreds of lines, instead of the writer's thread waking, taking the GIL and writing once per request.
LINGER_SECONDS: Final = 0.02
#: Lines formatted per write at most. The writer holds the GIL while it formats (a line takes about
#: 2 us) and lets it go in the write: a batch this size keeps the event loop waiting well under a
#: millisecond, with no forced switch of the GIL per few lines (each cost the loop more than a line).
_LINES_PER_WRITE: Final = 256

#: What the writer's queue carries: a record, a flush marker (set once everything before it is
#: written), or None (stop).
_Queued = logging.LogRecord | threading.Event | None


class _BatchWriter:
    """The log's own thread: takes the queued records in batches, formats them with the target's
    formatter and writes each batch in one write and one flush, in the order they were logged."""

    def __init__(self, records: queue.SimpleQueue[_Queued], target: logging.StreamHandler[IO[str]]):
        self.records = records
        self.target = target
        #: Set while someone waits in `flush()`: no lingering then.
        self.hurry = threading.Event()
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="a2v-log", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            first = self.records.get()
            if isinstance(first, logging.LogRecord):
                self.hurry.wait(LINGER_SECONDS)
            batch = [first]
            with contextlib.suppress(queue.Empty):
                while len(batch) < _LINES_PER_WRITE:
                    batch.append(self.records.get_nowait())
            records: list[logging.LogRecord] = []
            for item in batch:
                if isinstance(item, logging.LogRecord):
                    records.append(item)
                    continue
                self._write(records)  # what came before the marker (or the stop) is written first
                records = []
                if item is None:
                    return
                item.set()
            self._write(records)

    def _write(self, batch: list[logging.LogRecord]) -> None:
        lines = []
        for record in batch:
            try:
                lines.append(self.target.format(record) + self.target.terminator)
            except Exception:
                self.target.handleError(record)
        if not lines:
            return
        try:
            self.target.stream.write("".join(lines))
            self.target.flush()
        except Exception:
            self.target.handleError(batch[-1])

    def flush(self) -> None:
        """Wait until every record queued before this call is written."""
        if self._thread is None:
            return
        done = threading.Event()
        self.hurry.set()
        try:
            self.records.put(done)
            done.wait()
        finally:
            self.hurry.clear()

    def stop(self) -> None:
        if self._thread is not None:
            self.records.put(None)
            self.hurry.set()
            self._thread.join()
            self._thread = None


class _Handler(logging.handlers.QueueHandler):
    """The mock's handler (told apart from others so `configure` can replace it): records go to a
    queue as they are, and the writer's thread formats and writes them through `target`."""

    def __init__(self, target: logging.StreamHandler[IO[str]]) -> None:
        #: A `SimpleQueue`: a put costs the caller a twelfth of `queue.Queue`'s (no lock, no condition).
        self.records: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        super().__init__(self.records)
        self.writer = _BatchWriter(self.records, target)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record as it is: formatting is the writer's job (the queue never leaves the process)."""
        return record

    def flush(self) -> None:
        """Wait until every record queued so far is written."""
        self.writer.flush()

    def close(self) -> None:
        """Write what is queued. The writer keeps running: `logging.config.dictConfig` (uvicorn's
        start-up) closes every handler it finds, yet ours stays on the root logger and must go on
        writing; `stop()` ends it for good."""
        self.flush()
        super().close()

    def stop(self) -> None:
        """Write what is queued, then stop the writer's thread."""
        self.writer.stop()
        super().close()


def configure(fmt: str = "text", level: str = "info", *, stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger for every logger (ours and uvicorn's); returns it."""
    target = logging.StreamHandler(stream or sys.stderr)
    target.setFormatter(formatter(fmt))
    handler = _Handler(target)
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, _Handler):
            root.removeHandler(old)
            old.stop()
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
        uv.disabled = False  # a dictConfig elsewhere (an in-process server) may have disabled it
        uv.setLevel(logging.NOTSET)
    for name in ("httpx", "httpcore"):  # the mock's own downloads and callbacks have task events
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def flush() -> None:
    """Wait until every line logged so far is written (the mock's handler writes on its own thread)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            handler.flush()


def uvicorn_log_config() -> dict[str, Any]:
    """For `uvicorn.Config(log_config=...)`: keep uvicorn from installing its own handlers (ours apply)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


class _RequestRecord(logging.LogRecord):
    """A request line's record, made in a fraction of `LogRecord`'s time: `Logger.log` walks the stack
    for the caller's file and line and `LogRecord` looks up the thread and process, none of which a
    request line shows, on every request. It has every attribute a formatter or handler reads."""

    def __init__(self, level: int, args: tuple[str, str, str], fields: dict[str, Any]) -> None:
        self.created = now = time.time()
        self.msecs = (now - int(now)) * 1000
        self.relativeCreated = (now - logging._startTime) * 1000  # type: ignore[attr-defined]
        self.name = REQUESTS.name
        self.levelno, self.levelname = level, logging.getLevelName(level)
        self.msg, self.args = "request %s %s %s", args
        self.a2v = fields
        self.pathname, self.filename, self.module, self.lineno, self.funcName = (
            __file__,
            "logs.py",
            "logs",
            0,
            "",
        )
        self.exc_info = self.exc_text = self.stack_info = None
        self.thread = self.threadName = self.process = self.processName = self.taskName = None


def request_line(
    *,
    method: str,
    path: str,
    status: int,
    code: int | None,
    duration_ms: float,
    tenant: str | None,
    validation: str | None = None,
) -> None:
    """Log one answered request. `status` 0 means the connection was dropped without an answer;
    `validation` is the test-mode verdict ("ok", "mismatch", "exempt"), None outside test mode."""
    level = logging.WARNING if validation == "mismatch" or status >= 500 else logging.INFO
    if not REQUESTS.isEnabledFor(level):
        return
    fields = {
        "event": "request",
        "method": method,
        "path": path,
        "status": status,
        "code": code,
        "duration_ms": round(duration_ms, 1),
        "tenant": tenant_label(tenant),
        "validation": validation,
    }
    answer = "dropped" if status == 0 else str(status)
    REQUESTS.handle(_RequestRecord(level, (method, path, answer), fields))


def task_event(event: str, video_id: str, tenant: str | None, **details: Any) -> None:
    """Log one task event: created, started, finished, error (with `code` and `error`, its message),
    callback_delivered or callback_failed (with `url`, `attempt`, `http_status` or `error`, `retry`).
    No detail may be called `message`: the JSON line's `message` is the event's own."""
    if event not in TASK_EVENTS:
        raise ValueError(f"unknown task event {event!r}; the events are {', '.join(TASK_EVENTS)}")
    if "message" in details:
        raise ValueError("a task event's detail may not be called 'message' (the line's own); use 'error'")
    fields: dict[str, Any] = {"event": f"task.{event}", "video_id": video_id, "tenant": tenant_label(tenant)}
    fields.update(details)
    level = logging.WARNING if event in ("error", "callback_failed") else logging.INFO
    TASKS.log(level, "task %s", event, extra={"a2v": fields})
