"""The scenario handle both fixtures give a test: `a2v_server.admin` and `a2v_respx.admin`.

Each method is one line of the mock's admin API (`/__admin/...`, see docs/mock_server.md), named for
what a partner wants to test rather than for the knob it turns, and scoped to the fixture's token where
the API allows it (queued task fates, the journal, the task list), so a test sees only its own traffic.

Example:
    >>> def test_my_client_reports_a_failed_task(a2v_server):       # doctest: +SKIP
    ...     a2v_server.admin.fail_next_task(code=ErrorCode.AUDIO_NOT_DECODABLE)
    ...     ...
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode, Status

if TYPE_CHECKING:
    import httpx

__all__ = ["Admin", "AdminError", "TaskOutcome"]


class TaskOutcome(StrEnum):
    """The fate a test gives a task: `FINISH` renders the real audio, `ERROR` ends it with a code."""

    FINISH = "finish"
    ERROR = "error"


class AdminError(RuntimeError):
    """The mock's admin API refused a call (the message carries its answer)."""


class Admin:
    """Scenario control for one fixture's token.

    `http` is an httpx client whose base URL is the mock (for `a2v_respx` it bypasses respx, so admin
    calls never show up in `a2v_respx.calls`).
    """

    def __init__(self, http: httpx.Client, token: str) -> None:
        self._http = http
        self.token = token

    # -- plumbing --------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"/__admin/{path}", **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise AdminError(f"{method} /__admin/{path} answered HTTP {response.status_code}: {body}")
        if isinstance(body, dict) and "code" in body and "data" in body:
            return body["data"]
        return body

    # -- the scenario ----------------------------------------------------------------------------------

    def scenario(self, **changes: Any) -> dict[str, Any]:
        """Change scenario keys (`latency_ms`, `error_rate`, `drop_rate`, `rate_limit`, `timings`,
        `next_tasks`, `seed`, `url_ttl_seconds`) and return the whole scenario; with none, read it."""
        if not changes:
            return dict(self._call("GET", "scenario"))
        return dict(self._call("PUT", "scenario", json=changes))

    def reset(self) -> None:
        """Back to the server's start: no videos, an empty journal, the default scenario and URL TTL."""
        self._call("POST", "reset", json={})

    def next_task(
        self,
        outcome: TaskOutcome = TaskOutcome.FINISH,
        *,
        error_code: ErrorCode | None = None,
        duration: float | None = None,
    ) -> None:
        """Fix the fate of this token's next `video.generate`: `FINISH` (after `duration` seconds if
        given) or `ERROR` with `error_code`."""
        item: dict[str, Any] = {"tenant": self.token, "outcome": str(TaskOutcome(outcome))}
        if error_code is not None:
            item["error_code"] = int(error_code)
        if duration is not None:
            item["duration"] = duration
        queued = list(self.scenario().get("next_tasks") or [])
        self.scenario(next_tasks=[*queued, item])

    def fail_next_task(self, code: ErrorCode = ErrorCode.AUDIO_NOT_DECODABLE) -> None:
        """This token's next task ends in `error` with `code` (a code of the catalog, e.g.
        `ErrorCode.FILE_NOT_FOUND`)."""
        self.next_task(TaskOutcome.ERROR, error_code=code)

    def slow_tasks(self, seconds: float, *, pending_seconds: float | None = None) -> None:
        """Every task takes at least `seconds` to end: it stays `pending` for `pending_seconds` (default
        a quarter of it), then `in_progressing` for the rest, with progress growing."""
        pending = seconds / 4 if pending_seconds is None else pending_seconds
        self.scenario(
            timings={"pending_seconds": pending, "in_progress_seconds": max(0.0, seconds - pending)}
        )

    def rate_limit(self, requests: int, per_seconds: float = 60) -> None:
        """Allow each token `requests` calls per `per_seconds`; over it the API answers 429 / 1009."""
        self.scenario(rate_limit={"requests": requests, "per_seconds": per_seconds})

    def force_rate_limit(self, per_seconds: float = 60) -> None:
        """Every API call answers 429 / 1009 (with `Retry-After`) until `reset()` or `no_rate_limit()`."""
        self.rate_limit(0, per_seconds)

    def no_rate_limit(self) -> None:
        self.scenario(rate_limit=None)

    def url_ttl(self, seconds: int) -> None:
        """Result and preview URLs signed from now on expire `seconds` after the read that returns them."""
        self.scenario(url_ttl_seconds=int(seconds))

    def expire_urls(self) -> None:
        """Every URL the mock signs from now on is already expired (downloads answer 403) until
        `reset()`: a client must cope by reading the video again, later."""
        self.url_ttl(-60)

    # -- what happened ---------------------------------------------------------------------------------

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """This token's requests the mock answered, oldest first (filters of `GET /__admin/requests`:
        method, path, status, code, contains, since, limit = the newest N). The endpoint lists them
        newest first (WireMock's order); a test reads what happened in the order it happened."""
        params = {"tenant": self.token, **{k: v for k, v in filters.items() if v is not None}}
        return list(reversed(self._call("GET", "requests", params=params)["requests"]))

    def tasks(self) -> list[dict[str, Any]]:
        """This token's tasks as the mock stores them (with their planned fate)."""
        return list(self._call("GET", "tasks", params={"tenant": self.token}))

    def set_task(
        self, video_id: str, status: Status, *, error_code: ErrorCode | None = None
    ) -> dict[str, Any]:
        """Move a task to `status` now (forward only, as the lifecycle allows)."""
        body: dict[str, Any] = {"status": str(Status(status))}
        if error_code is not None:
            body["error_code"] = int(error_code)
        return dict(self._call("POST", f"tasks/{video_id}", json=body))

    def callbacks(self) -> list[dict[str, Any]]:
        """The callback deliveries the mock attempted for this token's tasks."""
        return list(self._call("GET", "callbacks", params={"tenant": self.token}))
