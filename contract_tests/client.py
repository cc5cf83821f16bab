"""A small typed client for the A2V API, sync and async, on httpx.

The kit drives every implementation through it, and partners can use it as a reference for their own
clients: it takes each operation's method and path from the spec, branches on the envelope's `code`
(not on messages), raises catalog-backed exceptions (`contract_tests.errors`), polls with back-off and
honours `Retry-After` on 429 and 503.

Built like httpx's `BaseClient`: `BaseClient` holds every pure step — building an operation's request
(`Call`), reading its answer, the retry and polling decisions (`Polling`) — and `A2VClient` /
`AsyncA2VClient` only do the I/O (send, sleep), so the two cannot drift apart.

A generate always carries an `Idempotency-Key` (a fresh one unless the caller gives one) and is sent
again with the same key when it may have been lost on the way: a proxy's 502 or 504 (the replica that
had it died, or took too long), a busy 429 or 503, or a dropped connection. The service answers the
same `video_id` to every copy it receives, so a client never makes two tasks of one intent nor loses
the id of the task it made (`generate_retry_delay`: bounded attempts, back-off, `Retry-After` first).

Example:
    >>> client = A2VClient("http://127.0.0.1:8000", "my-api-key")      # doctest: +SKIP
    >>> video_id = client.generate_video("eva_a0008", "https://example.com/hello.wav")  # doctest: +SKIP
    >>> video = client.wait_for_video(video_id, timeout=60)               # doctest: +SKIP
    >>> mp4 = client.download(video.video_url)                            # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypedDict, TypeVar, Unpack

import httpx

from a2v_spec import ErrorCode, Spec, Status, load_spec
from contract_tests.errors import (
    A2VError,
    A2VProtocolError,
    A2VRateLimited,
    A2VTimeout,
    A2VUnavailable,
    error_class_for,
)
from contract_tests.models import Character, Pong, Tokens, Video, VideoPage, error_code

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "A2VClient",
    "AsyncA2VClient",
    "BaseClient",
    "Call",
    "Polling",
    "RequestOptions",
    "generate_retry_delay",
    "raise_for_envelope",
]

DEFAULT_TIMEOUT = 30.0
#: HTTP statuses a request is retried on, after the answer's `Retry-After`.
RETRY_STATUSES = frozenset({429, 503})
#: HTTP statuses a generate is sent again on, with its Idempotency-Key: busy (429, 503) and a
#: proxy's answer when the replica it chose died or timed out (502, 504), which may have made the task.
GENERATE_RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Sends of one generate at most (the first and three more), and the back-off between them.
GENERATE_ATTEMPTS = 4
GENERATE_BACKOFF = 0.5
#: Failures after which a sent generate may or may not have reached the service: sent again.
RESENDABLE_ERRORS = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
#: The spec's Polling section: no more than once a second, backing off x1.5 up to 10 s.
POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 10.0

T = TypeVar("T")
Busy = A2VRateLimited | A2VUnavailable
#: A generate's key: the caller's, None for a fresh one, False for none at all.
IdempotencyKey = str | None | Literal[False]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def retry_delay(response: httpx.Response, attempt: int, retries: int, cap: float = 30.0) -> float | None:
    """Seconds to wait before sending again (429/503 with tries left: its `Retry-After`, else 1 s, at
    most `cap`), or None when this answer is the one to return."""
    if response.status_code not in RETRY_STATUSES or attempt >= retries:
        return None
    retry_after = _retry_after(response)
    return min(1.0 if retry_after is None else retry_after, cap)


def generate_retry_delay(
    outcome: httpx.Response | Exception,
    attempt: int,
    attempts: int = GENERATE_ATTEMPTS,
    cap: float = 30.0,
) -> float | None:
    """Seconds to wait before sending a generate again with the same key (`attempt` counts from 0), or
    None when `outcome` (the answer, or the transport error) is final: a success or another status, an
    error that cannot have been a lost request, or the last attempt. `Retry-After` wins over the
    back-off (0.5 s, doubled each time, at most `cap`)."""
    if attempt + 1 >= attempts:
        return None
    if isinstance(outcome, httpx.Response):
        if outcome.status_code not in GENERATE_RETRY_STATUSES:
            return None
        retry_after = _retry_after(outcome)
        if retry_after is not None:
            return min(retry_after, cap)
    elif not isinstance(outcome, RESENDABLE_ERRORS):
        return None
    return min(GENERATE_BACKOFF * 2**attempt, cap)


def raise_for_envelope(response: httpx.Response, spec: Spec | None = None) -> Any:
    """Return the envelope's `data`, or raise the catalog's exception for its `code`."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise A2VProtocolError(
            f"the answer is not JSON ({response.headers.get('content-type')!r})",
            status_code=response.status_code,
            request=response.request,
            response=response,
        ) from err
    if not isinstance(body, dict) or not isinstance(body.get("code"), int) or isinstance(body["code"], bool):
        raise A2VProtocolError(
            f"the answer is not an envelope with an integer 'code': {str(body)[:200]}",
            status_code=response.status_code,
            request=response.request,
            response=response,
        )
    code = body["code"]
    if code == ErrorCode.SUCCESS and response.status_code < 400:
        return body.get("data")
    cls = error_class_for(code, response.status_code, spec)
    kwargs: dict[str, Any] = {
        "code": error_code(code),
        "status_code": response.status_code,
        "request": response.request,
        "response": response,
    }
    if issubclass(cls, Busy):
        kwargs["retry_after"] = _retry_after(response)
    raise cls(str(body.get("message", "")), **kwargs)


class RequestOptions(TypedDict, total=False):
    """What `request()` takes besides the method and path."""

    params: dict[str, Any] | None
    json_body: Any
    content: bytes | None
    headers: dict[str, str] | None
    auth: bool
    #: How often a 429/503 is sent again (after its `Retry-After`) before it is returned; default 2.
    retries: int


@dataclass(frozen=True)
class Call(Generic[T]):
    """One operation's request, ready to send, and how to read its envelope's `data`."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, Any] | None = None
    json_body: Any = None
    headers: dict[str, str] | None = None
    auth: bool = True

    @property
    def options(self) -> RequestOptions:
        return {
            "params": self.params,
            "json_body": self.json_body,
            "headers": self.headers,
            "auth": self.auth,
        }


@dataclass
class Polling:
    """The polling decision of `wait_for_video`, without I/O: after each read, done or how long to wait.

    Back-off: x1.5 per read, from `interval` up to `max_interval`; a busy answer (429/503) waits its
    `Retry-After` instead. Past the deadline, `A2VTimeout` names the last status seen.
    """

    video_id: str
    timeout: float
    interval: float
    max_interval: float
    on_progress: Callable[[Video], None] | None = None
    clock: Callable[[], float] = time.monotonic
    last: Video | None = None
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = self.clock() + self.timeout

    def after(self, read: Video | Busy) -> float | None:
        """None when `read` is a terminal video (it is `last`), else the seconds to sleep."""
        if isinstance(read, Busy):
            wait = read.retry_after if read.retry_after is not None else self.interval
        else:
            self.last = read
            if self.on_progress is not None:
                self.on_progress(read)
            if read.status.is_terminal:
                return None
            wait = self.interval
            self.interval = min(self.interval * 1.5, self.max_interval)
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            status = self.last.status if self.last else None
            raise A2VTimeout(
                f"video {self.video_id} did not end within {self.timeout:g} s (last status: {status})",
                video_id=self.video_id,
                last_status=status,
            )
        return min(wait, remaining)

    @property
    def result(self) -> Video:
        assert self.last is not None, "after() returned None only for a read video"
        return self.last


class BaseClient:
    """What the sync and async clients share: the spec, the token, and every step that does no I/O."""

    def __init__(self, base_url: str, token: str | None, spec: Spec | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.spec = spec if spec is not None else load_spec()
        self.last_response: httpx.Response | None = None

    def _headers(self, auth: bool, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def _request_kwargs(self, options: RequestOptions) -> tuple[dict[str, Any], int]:
        """httpx's keyword arguments for `options`, and how many retries they allow."""
        content = options.get("content")
        kwargs = {
            "params": options.get("params"),
            "json": options.get("json_body") if content is None else None,
            "content": content,
            "headers": self._headers(options.get("auth", True), options.get("headers")),
        }
        return kwargs, options.get("retries", 2)

    def _call(self, operation_id: str, parse: Callable[[Any], T], **kwargs: Any) -> Call[T]:
        """The request for `operation_id`, with the method and path the spec gives it."""
        operation = self.spec.operation(operation_id)
        return Call(operation.method.upper(), operation.path, parse, **kwargs)

    def _read(self, call: Call[T], response: httpx.Response) -> T:
        data = raise_for_envelope(response, self.spec)
        try:
            return call.parse(data)
        except (KeyError, TypeError, ValueError) as err:
            raise A2VProtocolError(
                f"{call.method} {call.path} answered data the client cannot read: {err}",
                status_code=response.status_code,
                request=response.request,
                response=response,
            ) from err

    @staticmethod
    def _file_error(response: httpx.Response) -> A2VError | None:
        if response.status_code < 400:
            return None
        return A2VError(
            f"download failed: HTTP {response.status_code}",
            status_code=response.status_code,
            request=response.request,
            response=response,
        )

    # -- the operations, as calls -------------------------------------------------------------------
    def _ping(self) -> Call[Pong]:
        return self._call("ping", lambda data: Pong.from_dict(data or {}), auth=False)

    def _login(self, username: str, password: str) -> Call[Tokens]:
        body = {"username": username, "password": password}
        return self._call("login", Tokens.from_dict, json_body=body, auth=False)

    def _list_characters(self) -> Call[list[Character]]:
        return self._call("listCharacters", lambda data: [Character.from_dict(item) for item in data or []])

    def _generate_video(
        self, model_id: str, audio_url: str, callback_url: str | None, idempotency_key: IdempotencyKey
    ) -> Call[str]:
        """The generate call, always with an `Idempotency-Key` (a fresh one for None) unless the caller
        asks for none with `False` (a check of how a service treats keyless generates)."""
        body: dict[str, Any] = {"model_id": model_id, "audio_url": audio_url}
        if callback_url is not None:
            body["callback_url"] = callback_url
        if idempotency_key is None:
            idempotency_key = f"a2v-{uuid.uuid4().hex}"
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not False else None
        return self._call("generateVideo", _video_id, json_body=body, headers=headers)

    def _get_video(self, video_id: str) -> Call[Video]:
        return self._call("getVideo", Video.from_dict, params={"video_id": video_id})

    def _list_videos(self, page: int, page_size: int, status: Status | str | None) -> Call[VideoPage]:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if status is not None:
            params["status"] = str(status)
        return self._call(
            "listVideos", lambda data: VideoPage.from_list(data, page, page_size), params=params
        )

    def _read_page(self, call: Call[VideoPage], response: httpx.Response) -> VideoPage:
        """`video.list`'s page (`data` is the plain array), with the total over every page from the
        optional `X-Total-Count` header when the service sends it."""
        listed = self._read(call, response)
        total = response.headers.get("X-Total-Count")
        if total is None:
            return listed
        if not total.isdigit():
            raise A2VProtocolError(
                f"{call.method} {call.path} answered X-Total-Count {total!r}, not a non-negative integer",
                status_code=response.status_code,
                request=response.request,
                response=response,
            )
        return replace(listed, total=int(total))


def _video_id(data: Any) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("video_id"), str):
        raise ValueError(f"video.generate answered no video_id: {str(data)[:200]}")
    return str(data["video_id"])


class A2VClient(BaseClient):
    """Synchronous client. `transport` lets tests reach an app in-process (any `httpx.BaseTransport`)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        spec: Spec | None = None,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        super().__init__(base_url, token, spec)
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout, event_hooks=event_hooks
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> A2VClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_token(self, token: str | None) -> A2VClient:
        """A client sharing this one's connection pool but sending another token (None: no header)."""
        other = A2VClient.__new__(A2VClient)
        BaseClient.__init__(other, self.base_url, token, self.spec)
        other._http = self._http
        return other

    def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """Send one request and return the raw answer; 429/503 are retried after `Retry-After`."""
        kwargs, retries = self._request_kwargs(options)
        attempt = 0
        while True:
            response = self._http.request(method, path, **kwargs)
            self.last_response = response
            delay = retry_delay(response, attempt, retries)
            if delay is None:
                return response
            time.sleep(delay)
            attempt += 1

    def request_operation(self, operation_id: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """`request()` to the method and path the spec gives `operation_id`; the raw answer."""
        operation = self.spec.operation(operation_id)
        return self.request(operation.method.upper(), operation.path, **options)

    def send(self, call: Call[T]) -> T:
        """Send an operation's call and read its answer (the typed value, or the catalog's exception)."""
        return self._read(call, self.request(call.method, call.path, **call.options))

    # -- the API ----------------------------------------------------------------------------------------
    def ping(self) -> Pong:
        return self.send(self._ping())

    def login(self, username: str, password: str) -> Tokens:
        return self.send(self._login(username, password))

    def list_characters(self) -> list[Character]:
        return self.send(self._list_characters())

    def generate_video(
        self,
        model_id: str,
        audio_url: str,
        *,
        callback_url: str | None = None,
        idempotency_key: IdempotencyKey = None,
        attempts: int = GENERATE_ATTEMPTS,
    ) -> str:
        """Make a task; its `video_id`. Sent again with the same `Idempotency-Key` (a fresh one unless
        given) after a 429/502/503/504 or a dropped connection, up to `attempts` sends in all."""
        call = self._generate_video(model_id, audio_url, callback_url, idempotency_key)
        return self._read(call, self._resend(call, attempts))

    def _resend(self, call: Call[T], attempts: int) -> httpx.Response:
        kwargs, _ = self._request_kwargs(call.options)
        attempt = 0
        while True:
            outcome: httpx.Response | Exception
            try:
                outcome = self.last_response = self._http.request(call.method, call.path, **kwargs)
            except httpx.TransportError as err:
                outcome = err
            delay = generate_retry_delay(outcome, attempt, attempts)
            if delay is None:
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            time.sleep(delay)
            attempt += 1

    def get_video(self, video_id: str) -> Video:
        return self.send(self._get_video(video_id))

    def list_videos(
        self, page: int = 1, page_size: int = 20, status: Status | str | None = None
    ) -> VideoPage:
        call = self._list_videos(page, page_size, status)
        return self._read_page(call, self.request(call.method, call.path, **call.options))

    def wait_for_video(
        self,
        video_id: str,
        *,
        timeout: float = 120,
        poll_interval: float = POLL_INTERVAL,
        max_interval: float = MAX_POLL_INTERVAL,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        """Poll until the task is `finished` or `error`, backing off x1.5 up to `max_interval`.

        The defaults are what the spec's Polling section asks of every client; tests against a local
        mock may poll faster."""
        polling = Polling(video_id, timeout, poll_interval, max_interval, on_progress)
        while (wait := polling.after(self._poll(video_id))) is not None:
            time.sleep(wait)
        return polling.result

    def _poll(self, video_id: str) -> Video | Busy:
        try:
            return self.get_video(video_id)
        except (A2VRateLimited, A2VUnavailable) as err:
            return err

    def fetch(self, url: str, *, range: str | None = None) -> httpx.Response:
        """GET a result file as it answers (no Authorization header: the URL is signed)."""
        response = self._http.get(url, headers={"Range": range} if range else {})
        self.last_response = response
        return response

    def download(self, url: str, *, range: str | None = None) -> bytes:
        """Fetch a result file's bytes. Raises A2VError on non-2xx."""
        response = self.fetch(url, range=range)
        if (error := self._file_error(response)) is not None:
            raise error
        return response.content


class AsyncA2VClient(BaseClient):
    """The same API as `A2VClient`, with `async` methods."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        spec: Spec | None = None,
    ) -> None:
        super().__init__(base_url, token, spec)
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncA2VClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        kwargs, retries = self._request_kwargs(options)
        attempt = 0
        while True:
            response = await self._http.request(method, path, **kwargs)
            self.last_response = response
            delay = retry_delay(response, attempt, retries)
            if delay is None:
                return response
            await asyncio.sleep(delay)
            attempt += 1

    async def request_operation(self, operation_id: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        operation = self.spec.operation(operation_id)
        return await self.request(operation.method.upper(), operation.path, **options)

    async def send(self, call: Call[T]) -> T:
        return self._read(call, await self.request(call.method, call.path, **call.options))

    async def ping(self) -> Pong:
        return await self.send(self._ping())

    async def login(self, username: str, password: str) -> Tokens:
        return await self.send(self._login(username, password))

    async def list_characters(self) -> list[Character]:
        return await self.send(self._list_characters())

    async def generate_video(
        self,
        model_id: str,
        audio_url: str,
        *,
        callback_url: str | None = None,
        idempotency_key: IdempotencyKey = None,
        attempts: int = GENERATE_ATTEMPTS,
    ) -> str:
        call = self._generate_video(model_id, audio_url, callback_url, idempotency_key)
        return self._read(call, await self._resend(call, attempts))

    async def _resend(self, call: Call[T], attempts: int) -> httpx.Response:
        kwargs, _ = self._request_kwargs(call.options)
        attempt = 0
        while True:
            outcome: httpx.Response | Exception
            try:
                outcome = self.last_response = await self._http.request(call.method, call.path, **kwargs)
            except httpx.TransportError as err:
                outcome = err
            delay = generate_retry_delay(outcome, attempt, attempts)
            if delay is None:
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            await asyncio.sleep(delay)
            attempt += 1

    async def get_video(self, video_id: str) -> Video:
        return await self.send(self._get_video(video_id))

    async def list_videos(
        self, page: int = 1, page_size: int = 20, status: Status | str | None = None
    ) -> VideoPage:
        call = self._list_videos(page, page_size, status)
        return self._read_page(call, await self.request(call.method, call.path, **call.options))

    async def wait_for_video(
        self,
        video_id: str,
        *,
        timeout: float = 120,
        poll_interval: float = POLL_INTERVAL,
        max_interval: float = MAX_POLL_INTERVAL,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        polling = Polling(video_id, timeout, poll_interval, max_interval, on_progress)
        while (wait := polling.after(await self._poll(video_id))) is not None:
            await asyncio.sleep(wait)
        return polling.result

    async def _poll(self, video_id: str) -> Video | Busy:
        try:
            return await self.get_video(video_id)
        except (A2VRateLimited, A2VUnavailable) as err:
            return err

    async def fetch(self, url: str, *, range: str | None = None) -> httpx.Response:
        response = await self._http.get(url, headers={"Range": range} if range else {})
        self.last_response = response
        return response

    async def download(self, url: str, *, range: str | None = None) -> bytes:
        response = await self.fetch(url, range=range)
        if (error := self._file_error(response)) is not None:
            raise error
        return response.content
