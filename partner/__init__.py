"""Test an A2V integration offline: pytest fixtures over the mock server, and helpers they use.

    a2v_server / A2VServer   a real mock server on 127.0.0.1 (`partner.live`)
    a2v_respx / A2VRespx     the mock in-process behind respx, for any base URL (`partner.inprocess`)
    Admin                    scenario control both give: failed, slow and rate-limited calls, expired URLs
    make_wav, AudioHost      audio the mock can download

The fixtures come from `partner.plugin` (the `pytest11` entry point `a2v_partner`). See docs/tutorial.md.
"""

from __future__ import annotations

from partner.admin import Admin, AdminError
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
    "default_base_url",
    "make_wav",
]
