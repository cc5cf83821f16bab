"""Which hosts the mock's own HTTP requests (audio downloads, callbacks) may reach, enforced where
connections are made.

A tenant chooses `audio_url` and `callback_url`, so every outgoing request is a request the tenant makes
with the mock's network position. The policy, decided on the addresses a name resolves to (so every
spelling of an address, `0x7f.1`, `[::ffff:127.0.0.1]`, `localhost.`, is judged by what it means):

- never the mock itself: a loopback, unspecified or local address on the port the mock listens on;
- never link-local (`169.254.0.0/16`, `fe80::/10`, cloud metadata endpoints), whatever is listed;
- with an allow-list (`audio_hosts`, `callback_hosts`), only the listed names or addresses, loopback and
  private ones included (that is how a shared sandbox lets a tenant use a host on its own network);
- without a list: in open mode (one developer's machine) loopback and private hosts are fine; in keyed
  mode (a shared sandbox) only public addresses are.

`GuardedBackend` wraps httpcore's network backend: it resolves the name once, checks every address and
connects to a checked address (no second lookup for a rebinding DNS server to answer differently). A
redirect opens its connection through the same backend, so it is checked too. A refusal raises
`HostRefused`, whose message never says why (which would make the mock a port scanner). A name that
does not resolve raises `HostUnresolved`, a `HostRefused` with the same message: a tenant cannot tell
a refused address from a name the operator's resolver does not know.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

__all__ = ["GuardedBackend", "HostPolicy", "HostRefused", "HostUnresolved", "guarded_transport", "resolve"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Addresses of cloud metadata services outside the link-local ranges (Alibaba, AWS over IPv6).
_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}


class HostRefused(Exception):
    """An outgoing request to a host the policy refuses; the message is the same for every reason."""

    def __init__(self) -> None:
        super().__init__("host is not allowed")


class HostUnresolved(HostRefused):
    """A name that did not resolve. Worded as a refusal, so what the resolver knows never shows; unlike
    a refusal it may resolve later, so a callback delivery retries it."""


async def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (the one seam tests stub to keep traffic on loopback)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_link_local(address: IPAddress) -> bool:
    return address.is_link_local or address in _METADATA


def _is_internal(address: IPAddress) -> bool:
    """Not a public address: loopback, private, shared, reserved, multicast or unspecified."""
    return not address.is_global or address.is_multicast


def _local_addresses(listen_host: str) -> set[IPAddress]:
    """Addresses that reach this machine: loopback, unspecified, the listening address, the host name's."""
    found: set[IPAddress] = set()
    names = {listen_host, socket.gethostname()}
    for name in names:
        try:
            for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM):
                found.add(_address(str(info[4][0])))
        except (OSError, ValueError):
            continue
    return found


@dataclass
class HostPolicy:
    """Decides, address by address, whether an outgoing connection may be made.

    Example:
        >>> policy = HostPolicy(open_mode=False, allowed=None, self_ports={8000})
        >>> policy.permits("example.com", ipaddress.ip_address("93.184.215.14"), 443)
        True
        >>> policy.permits("metadata", ipaddress.ip_address("169.254.169.254"), 80)
        False
    """

    open_mode: bool
    #: Names or addresses allowed (lower case); None = the mode's default.
    allowed: frozenset[str] | None
    #: Ports the mock listens on: any local address on these is the mock itself.
    self_ports: set[int]
    listen_host: str = "127.0.0.1"
    _local: set[IPAddress] = field(default_factory=set, init=False, repr=False)

    @classmethod
    def build(
        cls, *, open_mode: bool, allowed: Iterable[str] | None, listen_host: str, port: int
    ) -> HostPolicy:
        listed = None if allowed is None else frozenset(h.lower().strip("[]") for h in allowed)
        return cls(open_mode, listed, {port} if port else set(), listen_host)

    def _is_self(self, address: IPAddress, port: int) -> bool:
        if port not in self.self_ports:
            return False
        if address.is_loopback or address.is_unspecified:
            return True
        if not self._local:
            self._local = _local_addresses(self.listen_host)
        return address in self._local

    async def targets_self(self, host: str, port: int) -> bool:
        """Whether `host:port` is this mock (every address of the name is one of its own)."""
        if port not in self.self_ports:
            return False
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError):
            return False
        return bool(addresses) and all(self._is_self(_address(text), port) for text in addresses)

    def lists(self, host: str) -> bool:
        """Whether the allow-list names `host` as written (a name, or an address literal)."""
        return self.allowed is None or host.lower().strip("[]").rstrip(".") in self.allowed

    def permits(self, host: str, address: IPAddress, port: int) -> bool:
        if _is_link_local(address) or self._is_self(address, port):
            return False
        if self.allowed is not None:
            return self.lists(host)
        return self.open_mode or not _is_internal(address)

    async def admit(
        self, host: str, port: int, resolver: Callable[[str, int], Awaitable[list[str]]] | None = None
    ) -> list[str]:
        """The addresses of `host` a connection may use; raises `HostRefused` unless all are allowed."""
        if not self.lists(host):
            raise HostRefused  # decided by name: an unlisted host is not even looked up
        try:
            addresses = await (resolver or resolve)(host, port)
        except (OSError, UnicodeError) as err:
            raise HostUnresolved from err
        if not addresses:
            raise HostUnresolved
        # One refused address refuses the host: a name must not mix an allowed and a refused address.
        for text in addresses:
            if not self.permits(host, _address(text), port):
                raise HostRefused
        return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with `HostPolicy.admit` before every TCP connection."""

    def __init__(self, policy: HostPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.policy.admit(host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as err:
                error = err
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise HostRefused

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(policy: HostPolicy) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection passes `policy` (no retries: one attempt per call)."""
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx builds its httpcore pool without a backend argument; the pool reads this attribute at each
    # connection, so swapping it is the one seam that covers redirects and keep-alive alike.
    pool: Any = transport._pool
    pool._network_backend = GuardedBackend(policy, pool._network_backend)
    return transport
