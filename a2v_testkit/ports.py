"""A free TCP port on a loopback address.

Used where a port must be known before anything listens on it (a server whose settings carry its own
port, a subprocess told `--port`) and to build a URL nobody answers (the "unreachable host" cases).
Where a server can bind port 0 itself, prefer that: `ServerThread` reports the port it really got.
"""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nobody listens on right now (`::1` and other IPv6 literals work too).

    Example:
        >>> 0 < free_port() < 65536
        True
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
