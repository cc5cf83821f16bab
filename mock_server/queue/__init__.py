"""Renders behind the `RenderQueue` protocol; `LocalRenderPool` (processes on this machine) is the default."""

from __future__ import annotations

from mock_server.queue.local import LocalRenderPool
from mock_server.queue.protocol import RenderJob, RenderQueue

__all__ = ["LocalRenderPool", "RenderJob", "RenderQueue"]
