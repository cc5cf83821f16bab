"""The lifecycle rules the kit applies to every pair of successive reads of a task."""

from __future__ import annotations

import pytest

from a2v_spec import Status
from contract_tests.models import Video
from contract_tests.requirement_ids import Req
from contract_tests.task_run import forward_problem


def video(status: Status, progress: int | None = None) -> Video:
    return Video(video_id="v1", status=status, progress=progress)


@pytest.mark.parametrize(
    ("before", "after", "broken"),
    [
        (video(Status.PENDING, 0), video(Status.IN_PROGRESSING, 10), None),
        (video(Status.PENDING), video(Status.PENDING), None),
        (video(Status.IN_PROGRESSING, 10), video(Status.FINISHED, 100), None),
        (video(Status.IN_PROGRESSING), video(Status.ERROR), None),
        (video(Status.FINISHED, 100), video(Status.FINISHED, 100), None),
        (video(Status.IN_PROGRESSING), video(Status.PENDING), Req.LIFECYCLE_FORWARD),
        (video(Status.FINISHED), video(Status.ERROR), Req.LIFECYCLE_FORWARD),
        (video(Status.ERROR), video(Status.IN_PROGRESSING), Req.LIFECYCLE_FORWARD),
        (video(Status.IN_PROGRESSING, 50), video(Status.IN_PROGRESSING, 40), Req.LIFECYCLE_PROGRESS),
        (video(Status.IN_PROGRESSING, 50), video(Status.IN_PROGRESSING), None),
    ],
)
def test_forward_problem(before: Video, after: Video, broken: str | None) -> None:
    problem = forward_problem(before, after)
    assert (problem[0] if problem else None) == broken
