"""mock_server/logs.py: one line per request and per task event, text or JSON, uvicorn included."""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import threading
from typing import TYPE_CHECKING

import pytest

from mock_server import logs
from mock_server.redact import tenant_label

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A StringIO for `logs.configure` to write to; the root logger is restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    captured = io.StringIO()
    yield captured
    for handler in root.handlers:
        if handler not in saved[0]:
            getattr(handler, "stop", handler.close)()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _lines(stream: io.StringIO) -> list[str]:
    logs.flush()  # lines are written on the log's own thread
    return [line for line in stream.getvalue().splitlines() if line]


class _Writes(io.StringIO):
    """A stream that notes the thread of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def write(self, text: str) -> int:
        self.threads.add(threading.current_thread().name)
        return super().write(text)


def test_a_request_line_is_formatted_and_written_off_the_callers_thread(stream: io.StringIO) -> None:
    writes = _Writes()
    logs.configure("json", "info", stream=writes)
    formatted: list[str] = []
    handler = logging.getLogger().handlers[-1]
    assert isinstance(handler, logging.handlers.QueueHandler)
    target = handler.writer.target  # type: ignore[attr-defined]
    original = target.format

    def noting(record: logging.LogRecord) -> str:
        formatted.append(threading.current_thread().name)
        return original(record)

    target.format = noting
    logs.request_line(method="GET", path="/v1/ping", status=200, code=0, duration_ms=0.2, tenant=None)
    logs.flush()
    here = threading.current_thread().name
    assert formatted
    assert here not in formatted
    assert writes.threads
    assert here not in writes.threads


def test_the_log_stays_complete_and_ordered_and_is_flushed_when_closed(stream: io.StringIO) -> None:
    handler = logs.configure("text", "info", stream=stream)
    for n in range(2000):
        logs.request_line(method="GET", path=f"/v1/n{n}", status=200, code=0, duration_ms=0.1, tenant=None)
    handler.close()  # as at shutdown: what is queued is written first
    paths = [line.split()[4] for line in stream.getvalue().splitlines()]
    assert paths == [f"/v1/n{n}" for n in range(2000)]


class _CountedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_a_burst_of_lines_is_written_in_a_few_writes_not_one_per_line(stream: io.StringIO) -> None:
    """The writer lets lines gather (`LINGER_SECONDS`) and writes each batch at once: under load its
    thread takes the GIL and the stream once per batch instead of once per request."""
    writes = _CountedWrites()
    logs.configure("text", "info", stream=writes)
    for n in range(500):
        logs.request_line(method="GET", path=f"/v1/n{n}", status=200, code=0, duration_ms=0.1, tenant=None)
    logs.flush()
    assert len(writes.getvalue().splitlines()) == 500
    assert writes.writes <= 10, writes.writes


def test_a_line_that_cannot_be_formatted_loses_only_itself(stream: io.StringIO) -> None:
    logs.configure("text", "info", stream=stream)

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    logging.getLogger("mock_server.other").info("broken", extra={"a2v": {"field": Unprintable()}})
    logs.request_line(method="GET", path="/v1/after", status=200, code=0, duration_ms=0.1, tenant=None)
    assert [line.split()[4] for line in _lines(stream)] == ["/v1/after"]


def test_json_request_line_has_every_field_and_no_token(stream: io.StringIO) -> None:
    logs.configure("json", "info", stream=stream)

    logs.request_line(
        method="POST",
        path="/v1/a2v/video.generate",
        status=200,
        code=0,
        duration_ms=4.123,
        tenant="secret-token",
        validation="ok",
    )

    (line,) = _lines(stream)
    data = json.loads(line)
    assert data["event"] == "request"
    assert (data["method"], data["path"], data["status"], data["code"]) == (
        "POST",
        "/v1/a2v/video.generate",
        200,
        0,
    )
    assert data["duration_ms"] == 4.1
    assert data["tenant"] == tenant_label("secret-token")
    assert data["validation"] == "ok"
    assert "secret-token" not in line


def test_text_request_line_reads_like_an_access_log(stream: io.StringIO) -> None:
    logs.configure("text", "info", stream=stream)

    logs.request_line(
        method="GET", path="/v1/ping", status=200, code=0, duration_ms=0.44, tenant=None, validation=None
    )

    (line,) = _lines(stream)
    assert line.endswith(" INFO  request GET /v1/ping 200 code=0 0.4ms")


def test_at_level_warning_only_failed_and_mismatched_requests_are_logged(stream: io.StringIO) -> None:
    logs.configure("text", "warning", stream=stream)

    for status, validation in ((200, "ok"), (503, None), (200, "mismatch")):
        logs.request_line(
            method="GET", path="/v1/ping", status=status, code=0, duration_ms=1.0, tenant=None,
            validation=validation,
        )  # fmt: skip

    lines = _lines(stream)
    assert [line.split(" WARNING ")[1] for line in lines] == [
        "request GET /v1/ping 503 code=0 1.0ms",
        "request GET /v1/ping 200 code=0 1.0ms validation=mismatch",
    ]


@pytest.mark.parametrize(
    ("event", "details", "level", "expected"),
    [
        ("created", {}, "info", "task created video_id=v_1"),
        ("error", {"code": 10003}, "warning", "task error video_id=v_1"),
        ("callback_failed", {"attempt": 2, "error": "refused"}, "warning", "attempt=2 error=refused"),
    ],
)
def test_task_events(stream: io.StringIO, event: str, details: dict, level: str, expected: str) -> None:
    logs.configure("text", "info", stream=stream)

    logs.task_event(event, "v_1", "user:dev", **details)

    (line,) = _lines(stream)
    assert expected in line
    assert f" {level.upper():<5} " in line
    assert "tenant=user:dev" in line


def test_unknown_task_event_and_format_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown task event 'exploded'"):
        logs.task_event("exploded", "v_1", None)
    with pytest.raises(ValueError, match="log format must be one of text, json, got 'xml'"):
        logs.configure("xml")


def test_uvicorn_lines_come_out_in_the_same_format(stream: io.StringIO) -> None:
    logs.configure("json", "info", stream=stream)

    logging.getLogger("uvicorn.error").info("Uvicorn running on %s", "http://127.0.0.1:1")

    data = json.loads(_lines(stream)[-1])
    assert data["logger"] == "uvicorn.error"
    assert data["message"] == "Uvicorn running on http://127.0.0.1:1"


def test_the_log_goes_on_after_a_dict_config_closes_every_handler(stream: io.StringIO) -> None:
    """uvicorn's start-up runs `logging.config.dictConfig`, which closes every handler it finds."""
    import logging.config

    logs.configure("text", "info", stream=stream)
    logging.config.dictConfig(logs.uvicorn_log_config())
    logs.request_line(method="GET", path="/v1/after", status=200, code=0, duration_ms=0.1, tenant=None)
    assert "/v1/after" in _lines(stream)[-1]


def test_a_line_shows_its_own_second_and_millisecond_when_seconds_alternate() -> None:
    """The time's text up to the second is formatted once per second and reused: a line of another
    second (a record made before the last one, by another thread) still gets its own."""
    formatter = logs.TextFormatter()
    times = [1796600000.125, 1796600001.5, 1796600000.875, 1796600061.0625]
    shown = []
    for created in times:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        shown.append(formatter.format(record).split()[0])
    assert shown == [
        "2026-12-06T23:33:20.125Z",
        "2026-12-06T23:33:21.500Z",
        "2026-12-06T23:33:20.875Z",
        "2026-12-06T23:34:21.062Z",
    ]


def test_flush_waits_for_the_lines_logged_before_it_from_other_threads(stream: io.StringIO) -> None:
    logs.configure("text", "info", stream=stream)

    def burst(name: str) -> None:
        for n in range(300):
            logs.request_line(
                method="GET", path=f"/v1/{name}{n}", status=200, code=0, duration_ms=0.1, tenant=None
            )

    threads = [threading.Thread(target=burst, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logs.flush()
    paths = [line.split()[4] for line in stream.getvalue().splitlines()]
    assert len(paths) == 900
    for name in "abc":  # each thread's lines in its own order
        assert [p for p in paths if p.startswith(f"/v1/{name}")] == [f"/v1/{name}{n}" for n in range(300)]
