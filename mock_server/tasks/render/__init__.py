"""Renders behind the `RenderQueue` protocol; `LocalRenderPool` (processes on this machine) is the default."""

from __future__ import annotations

from mock_server.tasks.render.process_pool import LocalRenderPool
from mock_server.tasks.render.protocol import RenderJob, RenderQueue

__all__ = ["LocalRenderPool", "RenderJob", "RenderQueue"]
