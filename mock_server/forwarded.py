"""The address a client used, behind a reverse proxy: `X-Forwarded-*` from trusted peers, or `public_url`.

Every URL the mock hands out (signed `video_url`s, `preview_url`s, callback bodies, the console's links)
is built from the request's scheme and `Host`. Behind nginx those name the upstream block
(`http://a2v_replicas/files/...`), which no client can reach. So, before anything else sees the
request:

- `public_url` (a setting: `https://sandbox.example.com`) wins over everything: scheme and host are
  its own, whoever asked and whatever they sent;
- else, when the connection comes from a peer in `forwarded_allow_ips` (default: loopback, the usual
  place of a proxy on the same machine), `X-Forwarded-Proto`, `X-Forwarded-Host` and
  `X-Forwarded-Port` replace the scheme, host and port, and `X-Forwarded-For` names the client;
- else the request is left as it came: a client that talks to the mock directly cannot make it hand
  out URLs naming another host than the one it addressed.

uvicorn's own `ProxyHeadersMiddleware` applies the protocol and client only, with the same kind of
trust list; the server is started without it (`http.protocol.server_options`) so that one decision,
made here, covers all four headers.

Example:
    >>> trusted = TrustedProxies.parse(["127.0.0.1"])
    >>> headers = [(b"host", b"a2v_replicas"), (b"x-forwarded-host", b"sandbox.example.com"),
    ...            (b"x-forwarded-proto", b"https")]
    >>> origin = forwarded_origin(headers, "127.0.0.1", "http", trusted)
    >>> (origin.scheme, origin.host)
    ('https', 'sandbox.example.com')
    >>> forwarded_origin(headers, "203.0.113.9", "http", trusted).host
    'a2v_replicas'
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.types import Scope

__all__ = ["Origin", "TrustedProxies", "apply_forwarded", "check_public_url", "forwarded_origin"]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: A host as a `Host` header may carry it: a DNS name, an IPv4 address or a bracketed IPv6 one,
#: with an optional port. Anything else in `X-Forwarded-Host` is ignored (never copied into URLs).
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: A websocket's scheme read as its HTTP one (the layer turns it back).
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


@dataclass(frozen=True)
class TrustedProxies:
    """The peers whose `X-Forwarded-*` headers are believed: addresses and networks, or `*` for all."""

    networks: tuple[IpNetwork, ...] = ()
    everyone: bool = False
    _seen: dict[str, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def parse(cls, items: Iterable[str]) -> TrustedProxies:
        """From `["127.0.0.1", "10.0.0.0/8", "::1"]` or `["*"]`; a bad entry is refused, named."""
        networks: list[IpNetwork] = []
        for item in items:
            text = item.strip()
            if text == "*":
                return cls((), everyone=True)
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ValueError(
                    f"forwarded_allow_ips: {item!r} is not an IP address or network (e.g. 10.0.0.0/8) or *"
                ) from None
        return cls(tuple(networks))

    def __contains__(self, peer: str | None) -> bool:
        if self.everyone:
            return True
        if not peer:
            return False
        known = self._seen.get(peer)
        if known is None:
            # Remembered: every request asks it of its peer (and of each `X-Forwarded-For` hop), parsing
            # an address costs more than routing the request, and the peers a server has repeat.
            if len(self._seen) >= _SEEN_MAX:
                self._seen.clear()
            known = self._seen[peer] = _within(peer, self.networks)
        return known


#: Peers `TrustedProxies` remembers at most (forgotten all at once past it).
_SEEN_MAX: Final = 4096


def _within(peer: str, networks: tuple[IpNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)


@dataclass(frozen=True)
class Origin:
    """Scheme and host (with its port when not the scheme's default) the client used, and its address."""

    scheme: str
    host: str | None
    client: str | None


def _first(value: str | None) -> str | None:
    """The first of a comma-separated list (the one the outermost proxy wrote), stripped."""
    if value is None:
        return None
    first = value.split(",", 1)[0].strip()
    return first or None


def _with_port(host: str, port: str | None, scheme: str) -> str:
    if port is None or not port.isdigit() or not 0 < int(port) < 65536:
        return host
    bare = host if host.endswith("]") or ":" not in host else host.rsplit(":", 1)[0]
    return bare if _DEFAULT_PORTS.get(scheme) == int(port) else f"{bare}:{int(port)}"


def _client(forwarded_for: str | None, trusted: TrustedProxies) -> str | None:
    """The last address in `X-Forwarded-For` that is not a trusted proxy (each proxy appends)."""
    if not forwarded_for:
        return None
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else None


def forwarded_origin(
    headers: Iterable[tuple[bytes, bytes]],
    peer: str | None,
    scheme: str,
    trusted: TrustedProxies,
    public_url: str | None = None,
) -> Origin:
    """Where the client addressed the mock (pure: the request's raw headers, the connection's peer
    address and scheme, the trust list and the `public_url` setting in; the answer out)."""
    seen: dict[bytes, str] = {}
    for name, value in headers:
        if name in (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-port"):
            seen.setdefault(name, value.decode("latin-1"))
        elif name == b"x-forwarded-for":
            text = value.decode("latin-1")
            seen[name] = f"{seen[name]}, {text}" if name in seen else text
    host = seen.get(b"host")
    client = None
    if peer in trusted:
        client = _client(seen.get(b"x-forwarded-for"), trusted)
        proto = (_first(seen.get(b"x-forwarded-proto")) or "").lower()
        if proto in _DEFAULT_PORTS:
            scheme = proto
        forwarded_host = _first(seen.get(b"x-forwarded-host"))
        if forwarded_host is not None and _HOST.match(forwarded_host):
            host = forwarded_host
        port = _first(seen.get(b"x-forwarded-port"))
        if (
            host is not None
            and port is not None
            and (forwarded_host is None or not _has_port(forwarded_host))
        ):
            host = _with_port(host, port, scheme)
    if public_url is not None:
        parts = urlsplit(public_url)
        scheme, host = parts.scheme, parts.netloc
    return Origin(_HTTP_SCHEMES.get(scheme, scheme), host, client)


def _has_port(host: str) -> bool:
    return (":" in host and not host.endswith("]")) if not host.startswith("[") else "]:" in host


def check_public_url(value: str) -> str:
    """`value` without a trailing slash, or ValueError naming what is wrong with it."""
    parts = urlsplit(value)
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc or not _HOST.match(parts.netloc):
        raise ValueError(
            "public_url must be http:// or https:// and a host (e.g. https://sandbox.example.com), "
            f"got {value!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            "public_url must be an origin without a path, query or fragment (the API lives at /v1/), "
            f"got {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


_FORWARDED: Final = frozenset(
    (b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-port")
)


def _any_forwarded(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(name in _FORWARDED for name, _ in headers)


def apply_forwarded(scope: Scope, trusted: TrustedProxies, public_url: str | None = None) -> None:
    """Set an HTTP or websocket scope's scheme, `Host` header and client as `forwarded_origin` says,
    first thing in the request path, so every URL built further in (`request.base_url`, the API's
    `base_url`) names the public address. A direct client's request is left as it came."""
    peer = scope.get("client")
    address = peer[0] if peer else None
    if public_url is None and (address not in trusted or not _any_forwarded(scope["headers"])):
        return
    headers = scope["headers"]
    origin = forwarded_origin(headers, address, scope["scheme"], trusted, public_url)
    websocket = scope["type"] == "websocket"
    scope["scheme"] = origin.scheme.replace("http", "ws") if websocket else origin.scheme
    if origin.client is not None:
        scope["client"] = (origin.client, 0)
    if origin.host is not None:
        host = origin.host.encode("latin-1")
        if (b"host", host) not in headers:
            scope["headers"] = [(k, v) for k, v in headers if k != b"host"] + [(b"host", host)]
