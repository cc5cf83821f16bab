"""Exceptions the reference client raises, chosen from the spec's error catalog.

    A2VError                      an answer with a non-zero envelope `code` (or no envelope at all)
    ├── A2VAuthError              catalog rows answered with HTTP 401 (1001, 1002, 1011)
    ├── A2VRequestError           other 4xx request errors (1003 ... 1008)
    │   └── A2VNotFound           HTTP 404 rows (1007, 20001, 20002)
    ├── A2VRateLimited            HTTP 429 (1009); `retry_after` seconds
    ├── A2VUnavailable            HTTP 503 (1010); `retry_after` seconds
    ├── A2VServerError            HTTP 5xx (1500)
    ├── A2VProtocolError          the answer is not the documented envelope
    └── A2VTimeout                `wait_for_video` gave up; `last_status` says where the task was

The class of an error is found from the catalog row of its code (its `http_status`), not from a list
of codes copied here, so a code added to `x-a2v-error-catalog` lands in the right class by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from a2v_spec import ErrorCode, Spec

__all__ = [
    "A2VAuthError",
    "A2VError",
    "A2VNotFound",
    "A2VProtocolError",
    "A2VRateLimited",
    "A2VRequestError",
    "A2VServerError",
    "A2VTimeout",
    "A2VUnavailable",
    "error_class_for",
]


class A2VError(Exception):
    """An error answer. `code` (an `ErrorCode` when the catalog has it) and `message` come from the
    envelope; `status_code` is the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | int | None = None,
        status_code: int | None = None,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        where = f" for {request.method} {request.url}" if request is not None else ""
        label = f"{code} " if code is not None else ""
        super().__init__(f"A2V error {label}(HTTP {status_code}){where}: {message}")
        self.code = code
        self.message = message
        self.status_code = status_code
        self.request = request
        self.response = response


class A2VAuthError(A2VError):
    """The token is missing, malformed, unknown or expired, or the login failed."""


class A2VRequestError(A2VError):
    """The request itself was rejected (a bad parameter, body, media type, method or key reuse)."""


class A2VNotFound(A2VRequestError):
    """An unknown model, video or path."""


class _RetryableError(A2VError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class A2VRateLimited(_RetryableError):
    """Over the rate limit; wait `retry_after` seconds."""


class A2VUnavailable(_RetryableError):
    """The service cannot take the request now (queue full); wait `retry_after` seconds."""


class A2VServerError(A2VError):
    """The service failed (HTTP 5xx)."""


class A2VProtocolError(A2VError):
    """The answer is not the documented envelope (not JSON, wrong types, ...)."""


class A2VTimeout(A2VError, TimeoutError):
    """A task did not end within the caller's timeout."""

    def __init__(self, message: str, *, video_id: str, last_status: str | None) -> None:
        super().__init__(message)
        self.video_id = video_id
        self.last_status = last_status


def _class_for_status(status: int | None) -> type[A2VError]:
    if status is None:
        return A2VError
    if status == 401:
        return A2VAuthError
    if status == 404:
        return A2VNotFound
    if status == 429:
        return A2VRateLimited
    if status == 503:
        return A2VUnavailable
    if status >= 500:
        return A2VServerError
    if status >= 400:
        return A2VRequestError
    return A2VError


def error_class_for(code: int | None, http_status: int | None, spec: Spec | None = None) -> type[A2VError]:
    """The exception class for an error `code`: the catalog row's HTTP status decides, else the answer's."""
    if spec is not None and code is not None and code in spec.errors:
        row = spec.errors[code]
        if row.http_status is not None:
            return _class_for_status(row.http_status)
    return _class_for_status(http_status)
