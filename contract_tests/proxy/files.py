"""Judging downloads of result files: signatures and expiry, Range, and what the MP4s really are.

A download is judged against the URL the proxy handed out for it (`urls.FileUrls`): an altered URL must
be refused (A2V-FILE-TAMPER), an expired one too (A2V-FILE-EXPIRES), a Range answer must be the right
bytes (A2V-FILE-RANGE). Full downloads of `video_url` and `mask_video_url` are decoded with PyAV off the
event loop (`contract_tests.media.probe`); when the proxy saw the task's `audio_url`, it fetches the
audio itself to hold the video's duration to it (A2V-FILE-DURATION, the kit's `check_duration`).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode
from contract_tests.audio import decoded_duration
from contract_tests.checks.support import check_audio_stream, check_duration, check_mask, check_mp4
from contract_tests.media import MediaInfo, probe
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation, check

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import httpx

    from contract_tests.proxy.exchange import Exchange
    from contract_tests.proxy.lifecycle import Tasks
    from contract_tests.proxy.urls import HandedOut

__all__ = ["FileJudge"]

#: Seconds of clock difference forgiven between the proxy and the server around `url_expires_at`.
EXPIRY_GRACE = 1.0
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)$")
_KEEP_FILES = 8
_KEEP_TASKS = 10_000


class FileJudge:
    def __init__(self, tasks: Tasks, fetch_audio: Callable[[str], Any] | None) -> None:
        self.tasks = tasks
        self._fetch_audio = fetch_audio
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._probes: dict[str, MediaInfo | str] = {}
        self._media: dict[str, dict[str, MediaInfo]] = {}
        self._audio: dict[str, asyncio.Task[float | None]] = {}
        self._compared: set[tuple[int, int]] = set()

    # -- signatures, expiry and Range (synchronous) ------------------------------------------------------
    def judge(
        self, exchange: Exchange, known_path: bool, handed: HandedOut | None, now: float
    ) -> Iterator[ContractViolation]:
        if not known_path or exchange.upstream_error or exchange.status == 0 or exchange.method != "GET":
            return
        response = exchange.as_response()
        refused = exchange.status == 403 and _code(exchange) == ErrorCode.FORBIDDEN
        if handed is None:
            if not refused:
                yield ContractViolation(
                    Req.FILE_TAMPER,
                    f"an altered file URL answered HTTP {exchange.status}",
                    expected=f"HTTP 403 with code {int(ErrorCode.FORBIDDEN)} in the envelope",
                    response=response,
                )
            return
        if handed.expires_at is not None and now > handed.expires_at + EXPIRY_GRACE:
            if not refused:
                yield ContractViolation(
                    Req.FILE_EXPIRES,
                    f"the URL answered HTTP {exchange.status} after its url_expires_at ({handed.expires_at})",
                    expected=f"HTTP 403 with code {int(ErrorCode.FORBIDDEN)} after url_expires_at",
                    response=response,
                )
            return
        if handed.expires_at is not None and now > handed.expires_at:
            return  # within the grace: either answer is fine
        wanted = exchange.header("range")
        if wanted:
            yield from self._range(exchange, wanted, response)

    def _range(
        self, exchange: Exchange, wanted: str, response: httpx.Response
    ) -> Iterator[ContractViolation]:
        match = _RANGE.match(wanted.strip())
        if match is None or not exchange.response_complete:
            return
        if exchange.status != 206:
            yield ContractViolation(
                Req.FILE_RANGE,
                f"Range {wanted} answered HTTP {exchange.status}",
                expected="HTTP 206",
                response=response,
            )
            return
        got = _CONTENT_RANGE.match(exchange.header("content-range", response=True) or "")
        full = self._bodies.get(exchange.file_path or "")
        start = int(match.group(1))
        if got is None:
            yield ContractViolation(
                Req.FILE_RANGE,
                f"Content-Range is {exchange.header('content-range', response=True)!r}",
                expected="bytes <first>-<last>/<size>",
                response=response,
            )
            return
        first, last, size = (int(g) for g in got.groups())
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        try:
            check(
                (first, last) == (start, end),
                Req.FILE_RANGE,
                f"Range {wanted} answered bytes {first}-{last}",
                expected=f"bytes {start}-{end}/{size}",
                response=response,
            )
            check(
                len(exchange.response_body) == last - first + 1,
                Req.FILE_RANGE,
                f"Content-Range says {last - first + 1} bytes, the body has {len(exchange.response_body)}",
                response=response,
            )
            if full is not None:
                check(
                    len(full) == size and exchange.response_body == full[first : last + 1],
                    Req.FILE_RANGE,
                    f"Range {wanted} returned bytes that differ from the whole file",
                    expected=f"bytes {first}-{last} of the {len(full)}-byte file",
                    response=response,
                )
        except ContractViolation as err:
            yield err

    # -- the media themselves (asynchronous: decoding takes a while) -------------------------------------
    def wants_media(self, exchange: Exchange, handed: HandedOut | None) -> bool:
        return (
            handed is not None
            and handed.kind in ("video_url", "mask_video_url")
            and exchange.method == "GET"
            and exchange.status == 200
            and exchange.response_complete
            and not exchange.header("range")
        )

    async def judge_media(self, exchange: Exchange, handed: HandedOut) -> list[ContractViolation]:
        body = exchange.response_body
        if exchange.file_path:
            self._bodies[exchange.file_path] = body
            while len(self._bodies) > _KEEP_FILES:
                self._bodies.popitem(last=False)
        digest = hashlib.sha256(body).hexdigest()
        response = exchange.as_response()
        what = "video" if handed.kind == "video_url" else "mask video"
        found: list[ContractViolation] = []
        info = self._probes.get(digest)
        if info is None:
            try:
                info = await asyncio.to_thread(probe, body)
            except ValueError as err:
                info = str(err)
            self._probes[digest] = info
            while len(self._probes) > 64:
                self._probes.pop(next(iter(self._probes)))
        if isinstance(info, str):
            rid = Req.FILE_VIDEO_MP4 if handed.kind == "video_url" else Req.FILE_MASK
            found.append(
                ContractViolation(rid, f"the {what} is not a readable MP4: {info}", response=response)
            )
            task = self.tasks.get(handed.video_id)
            if handed.kind == "video_url" and task is not None and task.audio_url is not None:
                # Its length cannot be measured either (the kit's duration check fails the same way).
                found.append(
                    ContractViolation(
                        Req.FILE_DURATION,
                        f"the video's duration cannot be measured: {info}",
                        expected="a video as long as the submitted audio",
                        response=response,
                    )
                )
            return found
        video_id = handed.video_id or ""
        if handed.kind == "video_url":
            found += _collect(check_mp4, info, response)
            found += await self._duration(video_id, info, response)
        # The two downloads are decoded concurrently: compare them once both are known, in either order.
        seen = self._media.setdefault(video_id, {})
        seen[handed.kind] = info
        while len(self._media) > _KEEP_TASKS:
            self._media.pop(next(iter(self._media)))
        video, mask = seen.get("video_url"), seen.get("mask_video_url")
        if video is not None and mask is not None and (id(video), id(mask)) not in self._compared:
            self._compared.add((id(video), id(mask)))
            found += _collect(check_mask, video, mask, response)
        return found

    async def _duration(
        self, video_id: str, info: MediaInfo, response: httpx.Response
    ) -> list[ContractViolation]:
        found: list[ContractViolation] = []
        task = self.tasks.get(video_id)
        if task is None:
            return found
        if task.duration is not None:
            found += _collect(
                check_duration,
                task.duration,
                info.video_seconds,
                info.fps,
                "the API's duration field",
                response,
            )
        seconds = await self._audio_seconds(task.audio_url)
        if seconds is None:
            return found
        found += _collect(check_duration, info.video_seconds, seconds, info.fps, "the video stream", response)
        found += _collect(check_audio_stream, info, seconds, response)
        return found

    async def _audio_seconds(self, url: str | None) -> float | None:
        """The decoded length of the task's audio, fetched once per URL; None when it cannot be had."""
        if url is None or self._fetch_audio is None:
            return None
        if url not in self._audio:
            self._audio[url] = asyncio.ensure_future(self._decode(url))
        return await self._audio[url]

    async def _decode(self, url: str) -> float | None:
        assert self._fetch_audio is not None
        try:
            data = await self._fetch_audio(url)
            return None if data is None else await asyncio.to_thread(decoded_duration, data)
        except Exception:  # unreachable or not audio: the task's own error says so, not a file fault
            return None


def _code(exchange: Exchange) -> Any:
    body = exchange.json()
    return body.get("code") if isinstance(body, dict) else None


def _collect(kit_check: Callable[..., None], *args: Any) -> list[ContractViolation]:
    """Run one of the kit's check functions; its violation, if any, as a list."""
    try:
        kit_check(*args)
    except ContractViolation as err:
        return [err]
    return []
