"""Result files: real MP4s read with PyAV, Range support, signed URLs that resist tampering and expire."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from a2v_spec import ErrorCode
from contract_tests.checks.support import (
    check_audio_stream,
    check_duration,
    check_mask,
    check_mp4,
    envelope_code,
)
from contract_tests.clocks import ping_clock_at, seconds_until
from contract_tests.evidence import observe as record
from contract_tests.evidence import unobserved
from contract_tests.media import MediaInfo, probe
from contract_tests.requirement_ids import Req
from contract_tests.requirements import kinds
from contract_tests.violations import ContractViolation, check

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from a2v_spec import Spec
    from contract_tests.client import A2VClient
    from contract_tests.config import Profile
    from contract_tests.task_run import TaskRun

requirement = pytest.mark.a2v_requirement


class _Files:
    """The finished task's files, downloaded once per session: the video, and its mask when the service
    gives one (`mask_video_url` is optional)."""

    def __init__(self, client: A2VClient, run: TaskRun) -> None:
        self.video = client.get_video(run.video_id)
        assert self.video.video_url
        self.video_response = self._get(client, self.video.video_url)
        mask = self.video.mask_video_url
        self.mask_response = self._get(client, mask) if mask else None

    def mask(self, requirement_id: str) -> httpx.Response:
        """The mask's download; a requirement about it is not judged when the video has none."""
        if self.mask_response is None:
            raise unobserved(
                requirement_id,
                f"the finished video {self.video.video_id} has no mask_video_url (an optional field)",
            )
        return self.mask_response

    @staticmethod
    def _get(client: A2VClient, url: str) -> httpx.Response:
        response = client.fetch(url)
        check(
            response.status_code == 200,
            Req.FILE_VIDEO_MP4,
            f"downloading a freshly signed URL answered HTTP {response.status_code}",
            expected="HTTP 200",
            response=response,
        )
        return response

    def info(self, response: httpx.Response, requirement_id: str, what: str) -> MediaInfo:
        try:
            return probe(response.content)
        except ValueError as err:
            raise ContractViolation(
                requirement_id, f"the {what} is not a readable MP4: {err}", response=response
            ) from err


@pytest.fixture(scope="session")
def files(a2v_client: A2VClient, a2v_finished_task: TaskRun) -> _Files:
    return _Files(a2v_client, a2v_finished_task)


@requirement(Req.FILE_VIDEO_MP4)
def test_video_is_h264_aac_mp4(files: _Files, a2v_spec: Spec) -> None:
    response = files.video_response
    check_mp4(files.info(response, Req.FILE_VIDEO_MP4, "video"), response)


@requirement(Req.FILE_DURATION)
def test_video_lasts_as_long_as_the_audio(files: _Files, a2v_finished_task: TaskRun) -> None:
    info = files.info(files.video_response, Req.FILE_DURATION, "video")
    seconds = a2v_finished_task.audio_seconds
    assert seconds is not None
    check_duration(info.video_seconds, seconds, info.fps, "the video stream", files.video_response)
    check_audio_stream(info, seconds, files.video_response)
    if files.video.duration is not None:
        check_duration(files.video.duration, seconds, info.fps, "the API's duration field")


@requirement(Req.FILE_MASK)
def test_mask_matches_video(files: _Files) -> None:
    mask_response = files.mask(Req.FILE_MASK)
    video = files.info(files.video_response, Req.FILE_VIDEO_MP4, "video")
    mask = files.info(mask_response, Req.FILE_MASK, "mask video")
    check_mask(video, mask, mask_response)


@requirement(Req.FILE_RANGE)
@pytest.mark.parametrize("which", ["video", "mask"])
def test_range_requests(files: _Files, a2v_client: A2VClient, which: str) -> None:
    if which == "mask" and files.mask_response is None:
        pytest.skip("the finished video has no mask_video_url (optional); Range is checked on the video")
    full = (files.video_response if which == "video" else files.mask(Req.FILE_RANGE)).content
    url = files.video.video_url if which == "video" else files.video.mask_video_url
    assert url is not None
    for start, end in ((0, 99), (100, 1123), (len(full) - 10, len(full) - 1)):
        response = a2v_client.fetch(url, range=f"bytes={start}-{end}")
        check(
            response.status_code == 206,
            Req.FILE_RANGE,
            f"Range bytes={start}-{end} answered HTTP {response.status_code}",
            expected="HTTP 206",
            response=response,
        )
        check(
            response.content == full[start : end + 1],
            Req.FILE_RANGE,
            f"Range bytes={start}-{end} returned {len(response.content)} bytes that differ from the file",
            expected=f"bytes {start}-{end} of the {len(full)}-byte file",
            response=response,
        )
        expected_range = f"bytes {start}-{end}/{len(full)}"
        check(
            response.headers.get("content-range") == expected_range,
            Req.FILE_RANGE,
            f"Content-Range is {response.headers.get('content-range')!r}",
            expected=expected_range,
            response=response,
        )


def _with_query(url: str, change: dict[str, str | None]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in change.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def _tampered(url: str) -> list[tuple[str, str]]:
    query = dict(parse_qsl(urlsplit(url).query))
    out = [("no query", urlunsplit(urlsplit(url)._replace(query="")))]
    for name, value in query.items():
        flipped = value[:-1] + ("A" if value[-1:] != "A" else "B") if value else "x"
        out.append((f"{name} altered", _with_query(url, {name: flipped})))
        if name.lower() == "expires" and value.isdigit():
            out.append(("Expires extended", _with_query(url, {name: str(int(value) + 86400)})))
    parts = urlsplit(url)
    out.append(("path altered", urlunsplit(parts._replace(path=parts.path.replace(".mp4", ".mask.mp4", 1)))))
    return out


@requirement(Req.FILE_TAMPER)
def test_altered_urls_are_refused(files: _Files, a2v_client: A2VClient) -> None:
    url = files.video.video_url
    assert url is not None
    for label, bad in _tampered(url):
        if bad == url or (label == "path altered" and bad == files.video.mask_video_url):
            continue
        response = a2v_client.fetch(bad)
        check(
            response.status_code == 403 and envelope_code(response) == ErrorCode.FORBIDDEN,
            Req.FILE_TAMPER,
            f"{label}: the altered URL answered HTTP {response.status_code}, code {envelope_code(response)}",
            expected=f"HTTP 403 with code {int(ErrorCode.FORBIDDEN)} in the envelope",
            response=response,
        )


@requirement(Req.FILE_EXPIRES)
@pytest.mark.a2v_waits
def test_urls_expire(a2v_client: A2VClient, a2v_profile: Profile, a2v_finished_task: TaskRun) -> None:
    """The video URL the finished task was read with answers 403 / FORBIDDEN once its `url_expires_at`
    passed on the server's clock. That read was made when the task ended, and this check runs last
    (`contract_tests.clocks`): it waits only for what is left of the URL's life."""
    video, clock = a2v_finished_task.final, ping_clock_at(a2v_client, a2v_finished_task.last_response)
    read_at = clock.at_answer
    if read_at is None or video.video_url is None:
        # No Date header to tell when that URL was handed out: read a fresh one, the server's clock first.
        read_at = clock.now
        video = a2v_client.get_video(a2v_finished_task.video_id)
    assert video.video_url is not None
    if video.url_expires_at is None:
        raise unobserved(
            Req.FILE_EXPIRES,
            f"the finished video {video.video_id} has no url_expires_at (an optional field): when its URLs "
            "expire cannot be told",
        )
    lifetime = video.url_expires_at - read_at
    check(lifetime > 0, Req.FILE_EXPIRES, f"a fresh URL already expired ({lifetime} s left)")
    if lifetime > a2v_profile.expiry_wait:
        pytest.skip(
            f"URLs live {lifetime} s, longer than the {a2v_profile.name} profile waits "
            f"({a2v_profile.expiry_wait:g} s); run the implementation with a short URL TTL to check expiry"
        )
    time.sleep(seconds_until(video.url_expires_at, clock.now))
    response = a2v_client.fetch(video.video_url)
    check(
        response.status_code == 403 and envelope_code(response) == ErrorCode.FORBIDDEN,
        Req.FILE_EXPIRES,
        f"the URL answered HTTP {response.status_code}, code {envelope_code(response)} after its "
        f"url_expires_at ({video.url_expires_at})",
        expected=f"HTTP 403 with code {int(ErrorCode.FORBIDDEN)} after url_expires_at",
        response=response,
    )


#: What each URL the API hands out must answer with: its field and the Content-Type it must have.
_URL_TYPES = {"preview_url": "image/", "video_url": "video/mp4", "mask_video_url": "video/mp4"}


def _handed_out(client: A2VClient, run: TaskRun) -> Iterator[tuple[str, str | None, str]]:
    """(field, URL, owner) of every URL the API hands out, each read again just before its download:
    URLs expire, and a slow download of one must not let the next one expire before it is fetched."""
    for model_id in [c.model_id for c in client.list_characters()]:
        fresh = {c.model_id: c.preview_url for c in client.list_characters()}
        yield "preview_url", fresh.get(model_id), model_id
    yield "video_url", client.get_video(run.video_id).video_url, run.video_id
    mask = client.get_video(run.video_id).mask_video_url
    if mask is not None:  # optional: fetched when given
        yield "mask_video_url", mask, run.video_id


@requirement(Req.URLS_ANSWER)
def test_every_url_the_api_hands_out_answers(a2v_client: A2VClient, a2v_finished_task: TaskRun) -> None:
    """Previews of every character and the finished video's files (its mask when given): 200, the right
    type, a body as long as its Content-Length and not empty."""
    rid = Req.URLS_ANSWER
    for name, url, owner in _handed_out(a2v_client, a2v_finished_task):
        check(url, rid, f"{owner} has no {name}")
        response = a2v_client.fetch(str(url))
        kind = response.headers.get("content-type", "")
        declared = response.headers.get("content-length")
        check(
            response.status_code == 200,
            rid,
            f"{name} of {owner} answered HTTP {response.status_code}",
            expected="HTTP 200",
            response=response,
        )
        check(
            kind.startswith(_URL_TYPES[name]),
            rid,
            f"{name} of {owner} is served as {kind!r}",
            expected=f"Content-Type {_URL_TYPES[name]}...",
            response=response,
        )
        check(
            response.content and (declared is None or int(declared) == len(response.content)),
            rid,
            f"{name} of {owner} has {len(response.content)} bytes (Content-Length {declared})",
            expected="a non-empty body as long as its Content-Length",
            response=response,
        )
        record(rid, kinds.URL_FETCHED)
