"""Test an A2V integration offline: pytest fixtures over the mock server, and helpers they use.

    a2v_server / A2VServer   a real mock server on 127.0.0.1 (`partner.live`)
    a2v_respx / A2VRespx     the mock in-process behind respx, for any base URL (`partner.inprocess`)
    Admin                    scenario control both give: failed, slow and rate-limited calls, expired URLs
    make_wav, AudioHost      audio the mock can download

The fixtures come from `partner.plugin` (the `pytest11` entry point `a2v_partner`). See docs/tutorial.md.
Names are imported on first use, so loading the plugin imports nothing heavy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partner.admin import Admin, AdminError, TaskOutcome
    from partner.audio import AudioHost, make_wav
    from partner.inprocess import A2VRespx, InProcessMock, default_base_url
    from partner.live import A2VServer, LiveMock

__all__ = [
    "A2VRespx",
    "A2VServer",
    "Admin",
    "AdminError",
    "AudioHost",
    "InProcessMock",
    "LiveMock",
    "TaskOutcome",
    "default_base_url",
    "make_wav",
]

_HOMES = {
    "Admin": "partner.admin",
    "AdminError": "partner.admin",
    "TaskOutcome": "partner.admin",
    "AudioHost": "partner.audio",
    "make_wav": "partner.audio",
    "A2VRespx": "partner.inprocess",
    "InProcessMock": "partner.inprocess",
    "default_base_url": "partner.inprocess",
    "A2VServer": "partner.live",
    "LiveMock": "partner.live",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'partner' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
