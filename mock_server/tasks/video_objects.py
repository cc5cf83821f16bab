"""The `Video` object of the API, built from a stored task, with freshly signed URLs when finished.

Used by `video.get`, `video.list`, the admin task list and the callback body, so all four agree.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode, Status

if TYPE_CHECKING:
    from mock_server.errors import Errors
    from mock_server.files import Signer
    from mock_server.store import Task

__all__ = ["VideoViews", "video_file"]


def video_file(video_id: str, mask: bool = False) -> str:
    """The file-store name of a task's video (or its mask)."""
    return f"videos/{video_id}.mask.mp4" if mask else f"videos/{video_id}.mp4"


class VideoViews:
    def __init__(self, signer: Signer, errors: Errors) -> None:
        self.signer = signer
        self.errors = errors

    def video(self, task: Task, base_url: str) -> dict[str, Any]:
        view: dict[str, Any] = {
            "video_id": task.video_id,
            "model_id": task.model_id,
            "audio_url": task.audio_url,
            "status": str(task.status),
            "progress": task.progress,
            "created_at": task.created_at,
            "updated_at": task.updated_at,
        }
        if task.callback_url:
            view["callback_url"] = task.callback_url
        if task.status is Status.PENDING:
            view["progress"] = 0
        elif task.status is Status.IN_PROGRESSING:
            view["progress"] = min(99, max(1, task.progress))
        elif task.status is Status.FINISHED:
            now = time.time()
            view["progress"] = 100
            view["video_url"], expires = self.signer.url(base_url, f"/files/{video_file(task.video_id)}", now)
            view["mask_video_url"], _ = self.signer.url(
                base_url, f"/files/{video_file(task.video_id, True)}", now
            )
            view["url_expires_at"] = expires
            view["duration"] = task.duration if task.duration is not None else 0.0
        else:
            code = task.error_code or ErrorCode.INTERNAL_ERROR
            view["error"] = {"code": int(code), "message": task.error_message or self.errors.message(code)}
        return view
