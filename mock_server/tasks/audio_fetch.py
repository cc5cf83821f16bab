"""Downloading `audio_url` with httpx: streaming, bounded in size, total time and redirects, and only
from hosts the `egress.HostPolicy` allows.

Every failure becomes the task code the catalog names: 404/410 -> 10001; other non-2xx, connection
errors, time-outs, too many redirects and refused hosts -> 10002; too large (by Content-Length, while
streaming, or once inflated) -> 10005. Whether the bytes are audio is decided later, by decoding (10003).
Messages never carry the URL, an address or an errno: a tenant learns that a host is not allowed and
nothing more. `audio_fetch_timeout_seconds` bounds the whole download, not each read, so a host
dripping a byte at a time cannot hold a task.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from a2v_spec import ErrorCode
from mock_server.errors import TaskFailure
from mock_server.tasks.egress import HostRefused, guarded_transport

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from a2v_spec import Limits, UrlRule
    from mock_server.tasks.egress import HostPolicy

__all__ = ["AudioFetcher", "bounded_body"]

#: zlib `wbits` per Content-Encoding (gzip header, zlib header); anything else is refused.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_STEP = 65536


async def bounded_body(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """The response body, inflated in steps of at most 64 KiB whatever a compressed block expands to;
    raises `TaskFailure` (10005) as soon as more than `limit` bytes came out."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity") and encoding not in _WBITS:
        raise TaskFailure(
            ErrorCode.AUDIO_UNREACHABLE, f"audio_url answered in an unsupported encoding {encoding!r}"
        )
    inflater = zlib.decompressobj(_WBITS[encoding]) if encoding in _WBITS else None
    size = 0

    def count(block: bytes) -> bytes:
        nonlocal size
        size += len(block)
        if size > limit:
            raise TaskFailure(ErrorCode.AUDIO_TOO_LARGE, f"audio is over the limit of {limit} bytes")
        return block

    async for raw in response.aiter_raw():
        if inflater is None:
            yield count(raw)
            continue
        data = raw
        while data:
            try:
                block = inflater.decompress(data, _STEP)
            except zlib.error as err:
                raise TaskFailure(
                    ErrorCode.AUDIO_NOT_DECODABLE, "audio_url answered a corrupt compressed body"
                ) from err
            yield count(block)
            data = inflater.unconsumed_tail
    if inflater is not None:
        tail = inflater.flush(_STEP)
        if tail:
            yield count(tail)


#: Reads the mock's own read-only audio (a built-in sample, a signed upload) for a URL path and query;
#: None when the path is not such audio.
LocalAudio = Callable[[str, str], Awaitable[bytes | None]]


class AudioFetcher:
    """Downloads audio; an `audio_url` naming the mock's own sample or upload is read in-process (the
    mock never sends itself a request: every other URL of its own is refused like any other host)."""

    def __init__(
        self,
        limits: Limits,
        policy: HostPolicy,
        local: LocalAudio | None = None,
        url_rule: UrlRule | None = None,
    ) -> None:
        self.limits = limits
        self.policy = policy
        self.local = local
        #: The spec's `HttpUrl` rule, applied to the URL and to every redirect target (one source).
        self.url_rule = url_rule
        self.client = httpx.AsyncClient(
            transport=guarded_transport(policy),
            follow_redirects=True,
            max_redirects=limits.audio_max_redirects,
            timeout=httpx.Timeout(limits.audio_fetch_timeout_seconds),
            trust_env=False,
            # Identity: a compressed body is inflated by `bounded_body`, never by httpx in one go.
            headers={"User-Agent": "a2v-mock/1.0", "Accept-Encoding": "identity"},
            event_hooks={"request": [self._on_request]},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _on_request(self, request: httpx.Request) -> None:
        """The spec's URL rule on every request, redirect targets included (hosts: the policy)."""
        self._check_url(str(request.url))

    def _check_url(self, url: str) -> None:
        problem = self.url_rule.problem(url) if self.url_rule is not None else None
        if problem is not None:
            raise TaskFailure(ErrorCode.AUDIO_UNREACHABLE, "audio_url (or a redirect) is not a valid URL")

    async def read_own(self, url: str, dest: Path) -> int | None:
        """When `url` names the mock's own audio (a built-in sample, a signed upload), write it to `dest`
        and return its size; None otherwise. Served from the mock itself, so a task whose audio this is
        needs no download slot (`TaskRunner` asks this first)."""
        seconds = self.limits.audio_fetch_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                own = await self._own(url)
        except TimeoutError:
            return None  # the name did not resolve in time: not ours; the download says what went wrong
        if own is None:
            return None
        limit = self.limits.max_audio_bytes
        if len(own) > limit:
            raise TaskFailure(
                ErrorCode.AUDIO_TOO_LARGE, f"audio is {len(own)} bytes; the limit is {limit} bytes"
            )
        dest.write_bytes(own)
        return len(own)

    async def fetch(self, url: str, dest: Path, *, remote: bool = False) -> int:
        """Download `url` into `dest` within the total time limit; returns the number of bytes. With
        `remote`, `read_own` was asked already: `url` is downloaded like any other."""
        seconds = self.limits.audio_fetch_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                return await self._fetch(url, dest, remote)
        except TimeoutError as err:
            dest.unlink(missing_ok=True)
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE, f"audio_url did not answer in full within {seconds:g} s"
            ) from err
        except BaseException:
            dest.unlink(missing_ok=True)
            raise

    async def _own(self, url: str) -> bytes | None:
        if self.local is None:
            return None
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        if not parts.hostname or not await self.policy.targets_self(parts.hostname, port):
            return None
        return await self.local(parts.path, parts.query)

    async def _fetch(self, url: str, dest: Path, remote: bool) -> int:
        limit = self.limits.max_audio_bytes
        own = None if remote else await self._own(url)
        if own is not None:
            if len(own) > limit:
                raise TaskFailure(
                    ErrorCode.AUDIO_TOO_LARGE, f"audio is {len(own)} bytes; the limit is {limit} bytes"
                )
            dest.write_bytes(own)
            return len(own)
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code in (404, 410):
                    raise TaskFailure(
                        ErrorCode.FILE_NOT_FOUND, f"audio_url answered HTTP {response.status_code}"
                    )
                if not 200 <= response.status_code < 300:
                    raise TaskFailure(
                        ErrorCode.AUDIO_UNREACHABLE, f"audio_url answered HTTP {response.status_code}"
                    )
                declared = response.headers.get("content-length", "")
                if declared.isascii() and declared.isdigit() and int(declared) > limit:
                    raise TaskFailure(
                        ErrorCode.AUDIO_TOO_LARGE,
                        f"audio is {int(declared)} bytes; the limit is {limit} bytes",
                    )
                size = 0
                with dest.open("wb") as handle:
                    async for block in bounded_body(response, limit):
                        size += len(block)
                        handle.write(block)
                return size
        except TaskFailure:
            raise
        except HostRefused as err:
            raise TaskFailure(ErrorCode.AUDIO_UNREACHABLE, "audio_url host is not allowed") from err
        except httpx.TooManyRedirects as err:
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE,
                f"audio_url redirected more than {self.limits.audio_max_redirects} times",
            ) from err
        except httpx.TimeoutException as err:
            seconds = self.limits.audio_fetch_timeout_seconds
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE, f"audio_url timed out after {seconds:g} s"
            ) from err
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as err:
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE, f"audio_url could not be downloaded ({type(err).__name__})"
            ) from err
