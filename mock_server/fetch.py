"""Downloading `audio_url` with httpx: streaming, bounded in size, time and redirects.

Every failure becomes the task code the catalog names: 404/410 -> 10001; other non-2xx, connection
errors, time-outs and too many redirects -> 10002; too large (by Content-Length or while streaming)
-> 10005. Whether the bytes are audio is decided later, by decoding (10003).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from a2v_spec import ErrorCode
from mock_server.errors import TaskFailure

if TYPE_CHECKING:
    from pathlib import Path

    from a2v_spec import Limits, UrlRule

__all__ = ["AudioFetcher"]


class AudioFetcher:
    def __init__(
        self, limits: Limits, allowed_hosts: list[str] | None = None, url_rule: UrlRule | None = None
    ) -> None:
        self.limits = limits
        #: The spec's `HttpUrl` rule, applied to the URL and to every redirect target (one source).
        self.url_rule = url_rule
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        self.client = httpx.AsyncClient(
            follow_redirects=True,
            max_redirects=limits.audio_max_redirects,
            timeout=httpx.Timeout(limits.audio_fetch_timeout_seconds),
            trust_env=False,
            headers={"User-Agent": "a2v-mock/1.0"},
            event_hooks={"request": [self._on_request]},
        )

    async def _on_request(self, request: httpx.Request) -> None:
        """Checked before every connection, redirects included, so a blocked host is never contacted."""
        self._check_url(str(request.url))

    async def aclose(self) -> None:
        await self.client.aclose()

    def _check_url(self, url: str) -> None:
        problem = self.url_rule.problem(url) if self.url_rule is not None else None
        if problem is not None:
            raise TaskFailure(ErrorCode.AUDIO_UNREACHABLE, f"audio_url is not a valid URL: {problem}")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise TaskFailure(ErrorCode.AUDIO_UNREACHABLE, f"audio_url is not an http or https URL: {url}")
        if self.allowed_hosts is not None and parts.hostname.lower() not in self.allowed_hosts:
            allowed = ", ".join(sorted(self.allowed_hosts))
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE,
                f"audio_url host {parts.hostname!r} is not allowed (audio_hosts: {allowed})",
            )

    async def fetch(self, url: str, dest: Path) -> int:
        """Download `url` into `dest`; returns the number of bytes."""
        self._check_url(url)
        limit = self.limits.max_audio_bytes
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code in (404, 410):
                    raise TaskFailure(
                        ErrorCode.FILE_NOT_FOUND, f"audio_url answered HTTP {response.status_code}: {url}"
                    )
                if not 200 <= response.status_code < 300:
                    raise TaskFailure(
                        ErrorCode.AUDIO_UNREACHABLE, f"audio_url answered HTTP {response.status_code}: {url}"
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise TaskFailure(
                        ErrorCode.AUDIO_TOO_LARGE,
                        f"audio is {int(declared)} bytes; the limit is {limit} bytes",
                    )
                size = 0
                with dest.open("wb") as handle:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise TaskFailure(
                                ErrorCode.AUDIO_TOO_LARGE, f"audio is over the limit of {limit} bytes"
                            )
                        handle.write(chunk)
                return size
        except TaskFailure:
            raise
        except httpx.TooManyRedirects as err:
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE,
                f"audio_url redirected more than {self.limits.audio_max_redirects} times: {url}",
            ) from err
        except httpx.TimeoutException as err:
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE,
                f"audio_url timed out after {self.limits.audio_fetch_timeout_seconds:g} s: {url}",
            ) from err
        except httpx.HTTPError as err:
            raise TaskFailure(
                ErrorCode.AUDIO_UNREACHABLE,
                f"audio_url could not be downloaded ({type(err).__name__}: {err}): {url}",
            ) from err
