"""Typed values of the A2V API: what the client returns instead of raw envelopes.

Statuses are `a2v_spec.Status` and known error codes `a2v_spec.ErrorCode`; `from_dict` raises
ValueError (or KeyError) for data that is not the value at all, which the client reports as a
protocol error naming the operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from a2v_spec import ErrorCode, Status

__all__ = ["Character", "Pong", "TaskError", "Tokens", "Video", "VideoPage", "error_code"]


def error_code(value: int) -> ErrorCode | int:
    """The catalog's name for `value` when it has one; an implementation may answer other codes."""
    try:
        return ErrorCode(value)
    except ValueError:
        return value


def _status(value: Any) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise ValueError(f"status {value!r} is not one of {[str(s) for s in Status]}") from None


@dataclass(frozen=True)
class Pong:
    pong: bool
    time: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pong:
        return cls(pong=bool(data.get("pong")), time=int(data.get("time", 0)))


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expired_at: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        return cls(str(data["access_token"]), str(data["refresh_token"]), int(data["expired_at"]))


@dataclass(frozen=True)
class Character:
    model_id: str
    name: str
    display_name: str
    gender: str
    preview_url: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Character:
        return cls(
            model_id=str(data["model_id"]),
            name=str(data.get("name", "")),
            display_name=str(data.get("display_name", "")),
            gender=str(data.get("gender", "")),
            preview_url=str(data.get("preview_url", "")),
        )


@dataclass(frozen=True)
class TaskError:
    """Why a task ended in `error`: a task code of the catalog (or -1 when the answer gave none)."""

    code: ErrorCode | int
    message: str


@dataclass(frozen=True)
class Video:
    """One task as `video.get` answers it. `raw` keeps the exact `data` object for schema checks."""

    video_id: str
    status: Status
    progress: int | None = None
    model_id: str | None = None
    audio_url: str | None = None
    callback_url: str | None = None
    video_url: str | None = None
    mask_video_url: str | None = None
    url_expires_at: int | None = None
    duration: float | None = None
    error: TaskError | None = None
    created_at: int | None = None
    updated_at: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Video:
        error = data.get("error")
        return cls(
            video_id=str(data["video_id"]),
            status=_status(data["status"]),
            progress=data.get("progress"),
            model_id=data.get("model_id"),
            audio_url=data.get("audio_url"),
            callback_url=data.get("callback_url"),
            video_url=data.get("video_url"),
            mask_video_url=data.get("mask_video_url"),
            url_expires_at=data.get("url_expires_at"),
            duration=data.get("duration"),
            error=(
                TaskError(
                    code=error_code(error["code"]) if isinstance(error.get("code"), int) else -1,
                    message=str(error.get("message", "")),
                )
                if isinstance(error, dict)
                else None
            ),
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class VideoPage:
    """One page of `video.list`: its `data` (a plain array of videos), the page asked for, and the
    total over every page when the service sends it (`X-Total-Count`, optional: else None)."""

    items: list[Video]
    page: int
    page_size: int
    total: int | None = None

    @classmethod
    def from_list(cls, data: Any, page: int, page_size: int) -> VideoPage:
        if not isinstance(data, list):
            raise ValueError(f"video.list data is not an array: {str(data)[:200]}")
        return cls(items=[Video.from_dict(item) for item in data], page=page, page_size=page_size)
