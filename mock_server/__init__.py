"""a2v-mock: a stateful local stand-in for the A2V API, with real renders.

Example:
    >>> from mock_server import Settings, create_app
    >>> app = create_app(Settings(data_dir="/tmp/a2v-data"))  # run it with uvicorn, or in-process

See docs/mock_server.md for running it, the config file, `Prefer` and the admin API.
"""

from __future__ import annotations

from mock_server.config import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> object:
    # create_app pulls in Starlette and the spec; keep `import mock_server` light for render workers.
    if name == "create_app":
        from mock_server.runtime.app import create_app

        return create_app
    raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
