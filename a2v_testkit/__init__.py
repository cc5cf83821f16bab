"""The A2V project's test toolkit: the infrastructure every test suite here shares.

One module per concept, no dependency on the mock, the kit, the renderer or the partner fixtures (only
on starlette, uvicorn, httpx, numpy and PyAV), so each of them can use it, and the kit can ship it:

- `asgi`: an ASGI app in-process on its own loop thread with its lifespan, as httpx transports;
- `server`: a real uvicorn in a thread, for tests that need a socket;
- `ports`: a free loopback port;
- `hosts`: a loopback HTTP host serving chosen bytes and behaviours, recording what it receives;
- `speech`: deterministic speech-like audio in every container the tests use;
- `browser`: where Debian's Chromium is and the flags the browser tests launch it with.
"""

from __future__ import annotations

from a2v_testkit.asgi import AppThread, AppTransport, AsyncAppTransport, LifespanError, app_client, in_app
from a2v_testkit.hosts import DeclaredLength, FileHost, Recorded, Redirect, Replies, Reply, Stream
from a2v_testkit.ports import free_port
from a2v_testkit.processes import serving, stop
from a2v_testkit.server import ServerThread, url_host
from a2v_testkit.speech import (
    FORMATS,
    AudioFormat,
    Segment,
    encode,
    encode_audio,
    speech,
    speech_like,
    speech_wav,
)

__all__ = [
    "FORMATS",
    "AppThread",
    "AppTransport",
    "AsyncAppTransport",
    "AudioFormat",
    "DeclaredLength",
    "FileHost",
    "LifespanError",
    "Recorded",
    "Redirect",
    "Replies",
    "Reply",
    "Segment",
    "ServerThread",
    "Stream",
    "app_client",
    "encode",
    "encode_audio",
    "free_port",
    "in_app",
    "serving",
    "speech",
    "speech_like",
    "speech_wav",
    "stop",
    "url_host",
]
