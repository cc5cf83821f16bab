"""Errors are data: every failure is a code of the spec's catalog, rendered as the API envelope.

    ApiError            a request answered with an error envelope (status from the catalog)
     +- NoOperation         no operation at this path (1007)
     +- MethodNotAllowed    the path exists, not with this method (1006, with `Allow`)
    ServiceUnavailable  a backing service is unreachable for a moment (503 / 1014, `Retry-After`)
    TaskFailure         why a task ended in `error` (a task code such as 10001, or 1500)
    ResponseMismatch    test mode: a response the server produced does not match the spec

The HTTP status of a code is never written here: `Errors.status(code)` reads it from `spec.errors`.
`Errors.response` is the one place an error becomes an HTTP answer.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from starlette.responses import Response

from a2v_spec import ErrorCode

if TYPE_CHECKING:
    from collections.abc import Iterable

    from a2v_spec import ErrorDef

__all__ = [
    "STORAGE_FAILED",
    "ApiError",
    "Errors",
    "MethodNotAllowed",
    "NoOperation",
    "ResponseMismatch",
    "ServiceUnavailable",
    "StorageUnavailable",
    "TaskFailure",
    "envelope_bytes",
    "public_message",
]


class ApiError(Exception):
    """Answer this request with catalog code `code`; `message` defaults to the catalog's."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or f"error {int(code)}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


class NoOperation(ApiError):
    """Nothing is served at this path."""

    def __init__(self, path: str, hint: str = "see /openapi.yaml") -> None:
        super().__init__(ErrorCode.NOT_FOUND, f"no operation at {path}; {hint}")


class MethodNotAllowed(ApiError):
    """The path is served, but not for this method; `Allow` lists the methods that are."""

    def __init__(self, method: str, path: str, allowed: Iterable[str]) -> None:
        allow = ", ".join(sorted(allowed))
        super().__init__(
            ErrorCode.METHOD_NOT_ALLOWED,
            f"method {method} is not allowed on {path}; use {allow}",
            headers={"Allow": allow},
        )


class ServiceUnavailable(RuntimeError):
    """A backing service (the database, the render queue) is unreachable for a moment: the request
    answers 503 / 1014 with `Retry-After`, and nothing was done."""

    retry_after = 1


class StorageUnavailable(ServiceUnavailable):
    """The embedded store could not read or write (a full or failing disk): like any unreachable
    backing service, the request answers 503 / 1014 with `Retry-After`, and nothing was changed."""

    #: A full disk is not freed in a second.
    retry_after = 30

    def __init__(self, what: str = "storage") -> None:
        super().__init__(f"{what} is unavailable (full or failing disk)")


#: How a task that could not write its files ends (with 1500), whatever the OS said (its text, a path
#: or an errno, is for the server's log, not for a tenant).
STORAGE_FAILED = "the server could not write the task's files (storage full or failing)"


class TaskFailure(Exception):
    """A task ends in `error` with this catalog code and message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ResponseMismatch(AssertionError):
    """Test mode found a response that the spec does not allow."""


def envelope_bytes(code: ErrorCode, message: str, data: object = None) -> bytes:
    return json.dumps({"code": int(code), "message": message, "data": data}, separators=(",", ":")).encode()


class Errors:
    """The catalog, with the status and default message of every code."""

    def __init__(self, catalog: dict[int, ErrorDef]) -> None:
        self.catalog = catalog

    def status(self, code: int) -> int:
        """HTTP status for `code`; task-only codes (no status in the catalog) answer 500."""
        entry = self.catalog.get(code)
        if entry is None:
            raise ValueError(f"error code {code} is not in the spec's x-a2v-error-catalog")
        return entry.http_status if entry.http_status is not None else 500

    def message(self, code: int) -> str:
        return self.catalog[code].message

    def response(self, err: ApiError) -> Response:
        status = err.status or self.status(err.code)
        body = envelope_bytes(err.code, err.message or self.message(err.code))
        return Response(body, status_code=status, headers=err.headers, media_type="application/json")

    @staticmethod
    def internal(err: BaseException) -> ApiError:
        """An unexpected exception, as the 1500 answer (its detail goes to the log, not the client);
        an unreachable backing service, as 503 / 1014 with `Retry-After`."""
        if isinstance(err, ServiceUnavailable):
            return ApiError(
                ErrorCode.SERVICE_UNAVAILABLE,
                f"{err}; retry in {err.retry_after} s",
                headers={"Retry-After": str(err.retry_after)},
            )
        return ApiError(ErrorCode.INTERNAL_ERROR, f"internal error: {type(err).__name__}")


_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
#: An absolute file path (not the path of a URL: no `/`, `:` or word character right before it).
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/])/(?:[\w.@+-]+/)+[\w.@+-]*")


def public_message(text: str, named: dict[str, str] | None = None) -> str:
    """`text` fit to show a client: each of `named` (a server path -> what to call it) replaced, any other
    absolute path hidden, errno numbers dropped. A task's message tells what went wrong, not where."""
    for path, name in (named or {}).items():
        text = text.replace(repr(path), name).replace(path, name)
    text = _ABSOLUTE_PATH.sub("<server path>", text)
    return _ERRNO.sub("", text).strip() or "failed"
