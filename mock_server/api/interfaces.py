"""`CoreServices`: what both the API's operations and the admin API use of the server.

Each side widens it with what only it needs (`handlers.ApiServices`, `admin.AdminServices`); the
composition root (`services.Services`) satisfies both, and neither side sees the whole server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from a2v_spec import Limits, Spec
    from mock_server.api.scenario import Scenario
    from mock_server.auth import Authenticator
    from mock_server.config import Settings
    from mock_server.store import Store
    from mock_server.tasks.protocols import TaskRunning
    from mock_server.tasks.video_objects import VideoViews

__all__ = ["CoreServices"]


class CoreServices(Protocol):
    """The settings and the spec, the task store, who is calling, and tasks as they run and are shown."""

    settings: Settings
    spec: Spec
    limits: Limits
    store: Store
    auth: Authenticator
    scenario: Scenario
    runner: TaskRunning
    views: VideoViews
