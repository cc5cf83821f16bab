"""A small typed client for the A2V API, sync and async, on httpx.

The kit drives every implementation through it, and partners can use it as a reference for their own
clients: it branches on the envelope's `code` (not on messages), raises catalog-backed exceptions
(`contract_tests.errors`), polls with back-off and honours `Retry-After` on 429 and 503.

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
from typing import TYPE_CHECKING, Any

import httpx

from a2v_spec import Spec, load_spec
from contract_tests.errors import (
    A2VError,
    A2VProtocolError,
    A2VRateLimited,
    A2VTimeout,
    A2VUnavailable,
    error_class_for,
)
from contract_tests.models import Character, Pong, Tokens, Video, VideoPage

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["A2VClient", "AsyncA2VClient", "raise_for_envelope"]

DEFAULT_TIMEOUT = 30.0
PATHS = {
    "ping": "/v1/ping",
    "login": "/v1/auth/account.login",
    "listCharacters": "/v1/a2v/character.list",
    "generateVideo": "/v1/a2v/video.generate",
    "getVideo": "/v1/a2v/video.get",
    "listVideos": "/v1/a2v/video.list",
}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _wait_for(response: httpx.Response, default: float = 1.0, cap: float = 30.0) -> float:
    """Seconds to wait before retrying a 429/503: its `Retry-After`, else `default`; at most `cap`."""
    retry_after = _retry_after(response)
    return min(default if retry_after is None else retry_after, cap)


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
    if code == 0 and response.status_code < 400:
        return body.get("data")
    cls = error_class_for(code, response.status_code, spec)
    kwargs: dict[str, Any] = {
        "code": code,
        "status_code": response.status_code,
        "request": response.request,
        "response": response,
    }
    if issubclass(cls, A2VRateLimited | A2VUnavailable):
        kwargs["retry_after"] = _retry_after(response)
    raise cls(str(body.get("message", "")), **kwargs)


class _Base:
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

    @staticmethod
    def _generate_body(model_id: str, audio_url: str, callback_url: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model_id": model_id, "audio_url": audio_url}
        if callback_url is not None:
            body["callback_url"] = callback_url
        return body

    @staticmethod
    def _list_params(page: int, page_size: int, status: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if status is not None:
            params["status"] = status
        return params

    @staticmethod
    def _video_id(data: Any) -> str:
        if not isinstance(data, dict) or not isinstance(data.get("video_id"), str):
            raise A2VProtocolError(f"video.generate answered no video_id: {str(data)[:200]}")
        return str(data["video_id"])


class A2VClient(_Base):
    """Synchronous client. `transport` lets tests reach an app in-process (any `httpx.BaseTransport`)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        spec: Spec | None = None,
    ) -> None:
        super().__init__(base_url, token, spec)
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> A2VClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_token(self, token: str | None) -> A2VClient:
        """A client sharing this one's connection pool but sending another token (None: no header)."""
        other = A2VClient.__new__(A2VClient)
        _Base.__init__(other, self.base_url, token, self.spec)
        other._http = self._http
        return other

    # -- raw access, used by the kit's checks -------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        retries: int = 2,
    ) -> httpx.Response:
        """Send one request and return the raw answer; 429/503 are retried after `Retry-After`."""
        for attempt in range(retries + 1):
            response = self._http.request(
                method,
                path,
                params=params,
                json=json_body if content is None else None,
                content=content,
                headers=self._headers(auth, headers),
            )
            self.last_response = response
            if response.status_code not in (429, 503) or attempt == retries:
                return response
            time.sleep(_wait_for(response))
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, operation: str, method: str = "GET", **kwargs: Any) -> Any:
        return raise_for_envelope(self.request(method, PATHS[operation], **kwargs), self.spec)

    # -- the API ----------------------------------------------------------------------------------------
    def ping(self) -> Pong:
        return Pong.from_dict(self._call("ping", auth=False) or {})

    def login(self, username: str, password: str) -> Tokens:
        data = self._call("login", "POST", json_body={"username": username, "password": password}, auth=False)
        return Tokens.from_dict(data)

    def list_characters(self) -> list[Character]:
        return [Character.from_dict(item) for item in self._call("listCharacters") or []]

    def generate_video(
        self,
        model_id: str,
        audio_url: str,
        *,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        body = self._generate_body(model_id, audio_url, callback_url)
        return self._video_id(self._call("generateVideo", "POST", json_body=body, headers=headers))

    def get_video(self, video_id: str) -> Video:
        return Video.from_dict(self._call("getVideo", params={"video_id": video_id}))

    def list_videos(self, page: int = 1, page_size: int = 20, status: str | None = None) -> VideoPage:
        return VideoPage.from_dict(
            self._call("listVideos", params=self._list_params(page, page_size, status))
        )

    def wait_for_video(
        self,
        video_id: str,
        *,
        timeout: float = 120,
        poll_interval: float = 0.5,
        max_interval: float = 5,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        """Poll until the task is `finished` or `error`, backing off x1.5 up to `max_interval`."""
        deadline = time.monotonic() + timeout
        interval = poll_interval
        last: Video | None = None
        while True:
            try:
                last = self.get_video(video_id)
            except (A2VRateLimited, A2VUnavailable) as err:
                wait = err.retry_after if err.retry_after is not None else interval
            else:
                if on_progress is not None:
                    on_progress(last)
                if last.is_terminal:
                    return last
                wait = interval
                interval = min(interval * 1.5, max_interval)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                status = last.status if last else None
                raise A2VTimeout(
                    f"video {video_id} did not end within {timeout:g} s (last status: {status})",
                    video_id=video_id,
                    last_status=status,
                )
            time.sleep(min(wait, remaining))

    def download(self, url: str, *, range: str | None = None) -> bytes:
        """Fetch a result file (no Authorization header: the URL is signed). Raises A2VError on non-2xx."""
        headers = {"Range": range} if range else {}
        response = self._http.get(url, headers=headers)
        self.last_response = response
        if response.status_code >= 400:
            raise A2VError(
                f"download failed: HTTP {response.status_code}",
                status_code=response.status_code,
                request=response.request,
                response=response,
            )
        return response.content


class AsyncA2VClient(_Base):
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

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        retries: int = 2,
    ) -> httpx.Response:
        for attempt in range(retries + 1):
            response = await self._http.request(
                method,
                path,
                params=params,
                json=json_body if content is None else None,
                content=content,
                headers=self._headers(auth, headers),
            )
            self.last_response = response
            if response.status_code not in (429, 503) or attempt == retries:
                return response
            await asyncio.sleep(_wait_for(response))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, operation: str, method: str = "GET", **kwargs: Any) -> Any:
        return raise_for_envelope(await self.request(method, PATHS[operation], **kwargs), self.spec)

    async def ping(self) -> Pong:
        return Pong.from_dict(await self._call("ping", auth=False) or {})

    async def login(self, username: str, password: str) -> Tokens:
        body = {"username": username, "password": password}
        return Tokens.from_dict(await self._call("login", "POST", json_body=body, auth=False))

    async def list_characters(self) -> list[Character]:
        return [Character.from_dict(item) for item in await self._call("listCharacters") or []]

    async def generate_video(
        self,
        model_id: str,
        audio_url: str,
        *,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        body = self._generate_body(model_id, audio_url, callback_url)
        return self._video_id(await self._call("generateVideo", "POST", json_body=body, headers=headers))

    async def get_video(self, video_id: str) -> Video:
        return Video.from_dict(await self._call("getVideo", params={"video_id": video_id}))

    async def list_videos(self, page: int = 1, page_size: int = 20, status: str | None = None) -> VideoPage:
        data = await self._call("listVideos", params=self._list_params(page, page_size, status))
        return VideoPage.from_dict(data)

    async def wait_for_video(
        self,
        video_id: str,
        *,
        timeout: float = 120,
        poll_interval: float = 0.5,
        max_interval: float = 5,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        deadline = time.monotonic() + timeout
        interval = poll_interval
        last: Video | None = None
        while True:
            try:
                last = await self.get_video(video_id)
            except (A2VRateLimited, A2VUnavailable) as err:
                wait = err.retry_after if err.retry_after is not None else interval
            else:
                if on_progress is not None:
                    on_progress(last)
                if last.is_terminal:
                    return last
                wait = interval
                interval = min(interval * 1.5, max_interval)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                status = last.status if last else None
                raise A2VTimeout(
                    f"video {video_id} did not end within {timeout:g} s (last status: {status})",
                    video_id=video_id,
                    last_status=status,
                )
            await asyncio.sleep(min(wait, remaining))

    async def download(self, url: str, *, range: str | None = None) -> bytes:
        headers = {"Range": range} if range else {}
        response = await self._http.get(url, headers=headers)
        self.last_response = response
        if response.status_code >= 400:
            raise A2VError(
                f"download failed: HTTP {response.status_code}",
                status_code=response.status_code,
                request=response.request,
                response=response,
            )
        return response.content
