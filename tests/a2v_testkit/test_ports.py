"""a2v_testkit.ports: a free port is bindable right away, on IPv4 and (where present) IPv6 loopback."""

from __future__ import annotations

import socket

import pytest

from a2v_testkit.ports import free_port


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("host", "family"),
    [
        ("127.0.0.1", socket.AF_INET),
        pytest.param("::1", socket.AF_INET6, marks=pytest.mark.skipif(not _has_ipv6(), reason="no ::1")),
    ],
)
def test_the_port_is_free_to_bind(host: str, family: socket.AddressFamily) -> None:
    port = free_port(host)

    with socket.socket(family) as sock:
        sock.bind((host, port))
        assert sock.getsockname()[1] == port


def test_nobody_listens_on_it() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", free_port()))
