"""The deliberately faulty servers: each is the real mock with exactly one fault.

`FAULTS` is the table the tests run: the fault, the requirement ids the kit runs against it (a
targeted subset, so the whole table stays fast), the id that must catch it, and ids that must still
pass (the fault is not misattributed).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from a2v_spec import TERMINAL, ErrorCode, Status
from contract_tests.requirement_ids import Req
from tests.contract_tests.faulty.base import Exchange, Rewriter, is_video_file, json_api, mock_app
from tests.contract_tests.faulty.media import remux

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.config import Settings


def _api(rewrite: Callable[[Exchange, dict[str, Any]], None]) -> Callable[[Exchange], None]:
    def wrapped(exchange: Exchange) -> None:
        body = json_api(exchange)
        if body is not None:
            rewrite(exchange, body)
            exchange.set_json(body)

    return wrapped


def _video_get(rewrite: Callable[[Exchange, dict[str, Any]], None]) -> Callable[[Exchange], None]:
    def wrapped(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/a2v/video.get" and isinstance(body.get("data"), dict):
            rewrite(exchange, body["data"])

    return _api(wrapped)


def _strip_result(data: dict[str, Any]) -> None:
    for key in ("video_url", "mask_video_url", "url_expires_at", "duration", "error"):
        data.pop(key, None)


# -- the faults ---------------------------------------------------------------------------------------


def code_as_string(settings: Settings) -> Any:
    """The envelope's `code` is a string ("0") instead of an integer."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        body["code"] = str(body.get("code"))

    return Rewriter(mock_app(settings), _api(rewrite))


def envelope_without_message(settings: Settings) -> Any:
    """Every JSON envelope of the API lacks `message` (`code` and `data` are right)."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        body.pop("message", None)

    return Rewriter(mock_app(settings), _api(rewrite))


def never_pending(settings: Settings) -> Any:
    """No answer ever shows `pending`: video.get answers a pending task in_progressing (progress 1) and
    video.generate answers the bare `{video_id}` (as the reference page shows it), so the documented
    start of every task is never seen (nothing else is wrong)."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        data = body.get("data")
        if not isinstance(data, dict):
            return
        if exchange.path == "/v1/a2v/video.generate":
            data.pop("status", None)
        elif exchange.path == "/v1/a2v/video.get" and data.get("status") == Status.PENDING:
            data.update(status=Status.IN_PROGRESSING, progress=1)

    return Rewriter(mock_app(settings), _api(rewrite))


#: What a hostile service puts where a report shows the service's words: markup that would run.
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


def hostile_markup(settings: Settings) -> Any:
    """Answers carrying HTML and script: in video.get's status and message, in a header, in the
    message of every error. A report that renders them as markup runs the service's code."""

    def rewrite(exchange: Exchange) -> None:
        body = json_api(exchange)
        if body is None:
            return
        exchange.set_header("X-Hostile", HOSTILE)
        if body.get("code") != 0:
            body["message"] = HOSTILE
        if exchange.path == "/v1/a2v/video.get" and isinstance(body.get("data"), dict):
            body["data"]["status"] = HOSTILE
            body["message"] = HOSTILE
        exchange.set_json(body)

    return Rewriter(mock_app(settings), rewrite)


def character_missing_field(settings: Settings) -> Any:
    """character.list items lack the required `preview_url`."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/a2v/character.list" and isinstance(body.get("data"), list):
            for item in body["data"]:
                item.pop("preview_url", None)

    return Rewriter(mock_app(settings), _api(rewrite))


def missing_rate_limit_header(settings: Settings) -> Any:
    """video.get answers without `X-Ratelimit-Left`."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.path == "/v1/a2v/video.get":
            exchange.set_header("X-Ratelimit-Left", None)

    return Rewriter(mock_app(settings), rewrite)


def unknown_id_200(settings: Settings) -> Any:
    """An unknown video_id answers 200 with an invented pending task."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.path == "/v1/a2v/video.get" and exchange.status == 404:
            video_id = dict(parse_qsl(exchange.query)).get("video_id", "0" * 32)
            exchange.status = 200
            exchange.set_json(
                {
                    "code": 0,
                    "message": "success",
                    "data": {"video_id": video_id, "status": Status.PENDING, "progress": 0},
                }
            )

    return Rewriter(mock_app(settings), rewrite)


def malformed_json_500(settings: Settings) -> Any:
    """A POST body that is not JSON crashes the server (500) instead of answering 400/1004."""

    def before(scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        if scope["method"] == "POST" and body:
            try:
                json.loads(body)
            except ValueError:
                payload = json.dumps(
                    {"code": ErrorCode.INTERNAL_ERROR, "message": "Internal Error", "data": None}
                ).encode()
                return 500, [(b"content-type", b"application/json")], payload
        return None

    return Rewriter(mock_app(settings), before=before)


def auth_ignored(settings: Settings) -> Any:
    """Requests without a usable Bearer token are served as a default tenant."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
        original = dict(scope["headers"]).get(b"authorization", b"")
        token = original if original.startswith(b"Bearer ") and len(original) > 7 else b"Bearer anonymous"
        scope["headers"] = [*headers, (b"authorization", token)]

    return Rewriter(mock_app(settings), before=before)


def cross_tenant_leak(settings: Settings) -> Any:
    """Every token is served as the same tenant: tokens see each other's videos."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        headers = dict(scope["headers"])
        if headers.get(b"authorization", b"").startswith(b"Bearer ") and len(headers[b"authorization"]) > 7:
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            scope["headers"].append((b"authorization", b"Bearer shared-tenant"))

    return Rewriter(mock_app(settings), before=before)


def status_backwards(settings: Settings) -> Any:
    """A task is shown in progress, then pending again: its status moves backwards."""
    calls: dict[str, int] = {}

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        # The first read is left as it is (the pending start, which A2V-GENERATE-READABLE needs to see).
        n = calls[data["video_id"]] = calls.get(data["video_id"], 0) + 1
        if n == 2:
            _strip_result(data)
            data.update(status=Status.IN_PROGRESSING, progress=1)
        elif n == 3:
            _strip_result(data)
            data.update(status=Status.PENDING, progress=1)

    return Rewriter(mock_app(settings), _video_get(rewrite))


def never_ends(settings: Settings) -> Any:
    """No task ever leaves in_progressing (a job stuck forever)."""

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        if data.get("status") in TERMINAL:
            _strip_result(data)
            data.update(status=Status.IN_PROGRESSING, progress=99)

    return Rewriter(mock_app(settings), _video_get(rewrite))


def progress_decreasing(settings: Settings) -> Any:
    """progress goes 60 then 30 while the task is in progress."""
    calls: dict[str, int] = {}

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        n = calls[data["video_id"]] = calls.get(data["video_id"], 0) + 1
        if n <= 2:
            _strip_result(data)
            data.update(status=Status.IN_PROGRESSING, progress=60 if n == 1 else 30)

    return Rewriter(mock_app(settings), _video_get(rewrite))


def error_code_as_string(settings: Settings) -> Any:
    """Tasks in status error say why with an `error.code` that is a string ("10001"), not an integer.

    (A failed task without an `error` object is the upstream's documented answer: `error` is optional,
    and judged when present.)"""

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        error = data.get("error")
        if data.get("status") == Status.ERROR and isinstance(error, dict):
            error["code"] = str(error.get("code"))

    return Rewriter(mock_app(settings), _video_get(rewrite))


def created_at_as_string(settings: Settings) -> Any:
    """Videos carry `created_at` as an ISO date string: an optional field present with the wrong type."""

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        if isinstance(data.get("created_at"), int):
            data["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(data["created_at"]))

    return Rewriter(mock_app(settings), _video_get(rewrite))


def total_count_off_by_one(settings: Settings) -> Any:
    """video.list's `X-Total-Count` counts one video more than the caller has."""

    def rewrite(exchange: Exchange) -> None:
        total = exchange.header("X-Total-Count")
        if exchange.path == "/v1/a2v/video.list" and total is not None:
            exchange.set_header("X-Total-Count", str(int(total) + 1))

    return Rewriter(mock_app(settings), rewrite)


def list_as_page_object(settings: Settings) -> Any:
    """video.list wraps its videos in `{items, page, page_size, total}` instead of the documented array."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/a2v/video.list" and isinstance(body.get("data"), list):
            body["data"] = {"items": body["data"], "page": 1, "page_size": 20, "total": len(body["data"])}

    return Rewriter(mock_app(settings), _api(rewrite))


def not_readable_after_create(settings: Settings) -> Any:
    """video.get answers 404 for a task created less than 2 seconds ago (the classic 404-after-create)."""
    created: dict[str, float] = {}

    def rewrite(exchange: Exchange) -> None:
        body = json_api(exchange)
        if body is None:
            return
        if exchange.path == "/v1/a2v/video.generate" and body.get("code") == 0:
            created[body["data"]["video_id"]] = time.monotonic()
        if exchange.path == "/v1/a2v/video.get" and exchange.status == 200:
            video_id = body["data"]["video_id"]
            if time.monotonic() - created.get(video_id, 0.0) < 2.0:
                exchange.status = 404
                exchange.set_json(
                    {
                        "code": ErrorCode.VIDEO_NOT_FOUND,
                        "message": f"unknown video_id {video_id!r}",
                        "data": None,
                    }
                )

    return Rewriter(mock_app(settings), rewrite)


def wrong_model_error_code(settings: Settings) -> Any:
    """An unknown model_id answers 404 with the video code 20002 instead of 20001."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/a2v/video.generate" and body.get("code") == ErrorCode.MODEL_NOT_FOUND:
            body["code"] = ErrorCode.VIDEO_NOT_FOUND

    return Rewriter(mock_app(settings), _api(rewrite))


def wrong_content_type(settings: Settings) -> Any:
    """JSON answers are labelled text/plain."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.path.startswith("/v1/"):
            exchange.set_header("content-type", "text/plain; charset=utf-8")

    return Rewriter(mock_app(settings), rewrite)


def lenient_page_size(settings: Settings) -> Any:
    """video.list ignores an invalid page_size instead of rejecting it (negative data accepted)."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        if scope["path"] == "/v1/a2v/video.list":
            query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
            kept = [(k, v) for k, v in query if k in ("page", "status") and _valid_list_param(k, v)]
            scope["query_string"] = "&".join(f"{k}={v}" for k, v in kept).encode()

    return Rewriter(mock_app(settings), before=before)


def _valid_list_param(name: str, value: str) -> bool:
    if name == "page":
        return value.isdigit() and 1 <= int(value) <= 100000
    return value in set(Status)


def plain_404_for_unknown_path(settings: Settings) -> Any:
    """An unknown path answers the framework's plain-text 404, not the envelope with 1007."""

    def rewrite(exchange: Exchange) -> None:
        if (
            exchange.status == 404
            and exchange.path.startswith("/v1/")
            and (json_api(exchange) or {}).get("code") == ErrorCode.NOT_FOUND
        ):
            exchange.body = b"Not Found"
            exchange.set_header("content-type", "text/plain; charset=utf-8")

    return Rewriter(mock_app(settings), rewrite)


def video_without_audio(settings: Settings) -> Any:
    """The result MP4 has no audio stream."""

    def rewrite(exchange: Exchange) -> None:
        if is_video_file(exchange) and exchange.status == 200:
            exchange.body = remux(exchange.body, keep_audio=False)

    return Rewriter(mock_app(settings), rewrite)


def wrong_duration(settings: Settings) -> Any:
    """The result MP4 holds only the first half of the video and audio."""

    def rewrite(exchange: Exchange) -> None:
        if is_video_file(exchange) and exchange.status == 200:
            exchange.body = remux(exchange.body, keep_fraction=0.5)

    return Rewriter(mock_app(settings), rewrite)


def truncated_file(settings: Settings) -> Any:
    """The result MP4 is cut off after 60% of its bytes (the header still promises the whole file)."""

    def rewrite(exchange: Exchange) -> None:
        if is_video_file(exchange) and exchange.status == 200:
            exchange.body = exchange.body[: int(len(exchange.body) * 0.6)]

    return Rewriter(mock_app(settings), rewrite)


def urls_never_expire(settings: Settings) -> Any:
    """url_expires_at says the URLs expire in 2 s, but they keep working for an hour."""

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        if "url_expires_at" in data:
            data["url_expires_at"] = int(time.time()) + 2

    return Rewriter(mock_app(settings), _video_get(rewrite))


def tampered_signature_accepted(settings: Settings) -> Any:
    """File URLs are served whatever their signature (the server swaps in the last good one it issued)."""
    good: dict[str, bytes] = {}

    def remember(exchange: Exchange) -> None:
        body = json_api(exchange)
        data = body.get("data") if body else None
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                for key in ("video_url", "mask_video_url"):
                    if item.get(key):
                        parts = urlsplit(item[key])
                        good[parts.path] = parts.query.encode()

    def before(scope: dict[str, Any], body: bytes) -> None:
        if scope["path"] in good:
            scope["query_string"] = good[scope["path"]]

    return Rewriter(mock_app(settings), remember, before=before)


def callback_signed_with_wrong_key(settings: Settings) -> Any:
    """Callbacks are signed with a key other than the caller's token."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"")
        if auth.startswith(b"Bearer ") and len(auth) > 7:
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            scope["headers"].append((b"authorization", auth + b"-internal"))

    return Rewriter(mock_app(settings), before=before)


def no_body_limit(settings: Settings) -> Any:
    """Request bodies of any size are read and processed (no 64 KiB limit, no 413)."""
    return mock_app(settings.replace(limits={**settings.limits, "max_request_bytes": 1 << 30}))


def ping_needs_a_token(settings: Settings) -> Any:
    """ping refuses calls without a token (401 / 1001), though the spec says it needs none."""

    def before(scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        if scope["path"] == "/v1/ping" and b"authorization" not in dict(scope["headers"]):
            payload = {"code": ErrorCode.UNAUTHORIZED, "message": "Unauthorized", "data": None}
            return 401, [(b"content-type", b"application/json")], json.dumps(payload).encode()
        return None

    return Rewriter(mock_app(settings), before=before)


def login_answers_wrong_code(settings: Settings) -> Any:
    """Unknown credentials answer 401 with the token code 1001 instead of 1011."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/auth/account.login":
            exchange.status = 401
            body.update(code=ErrorCode.UNAUTHORIZED, message="Unauthorized", data=None)

    return Rewriter(mock_app(settings), _api(rewrite))


def idempotency_key_ignored(settings: Settings) -> Any:
    """The Idempotency-Key header is dropped: a retry makes a second task, another body no conflict."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"idempotency-key"]

    return Rewriter(mock_app(settings), before=before)


def list_ignores_status(settings: Settings) -> Any:
    """video.list ignores its `status` filter and lists every task."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        if scope["path"] == "/v1/a2v/video.list":
            query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
            scope["query_string"] = urlencode([(k, v) for k, v in query if k != "status"]).encode()

    return Rewriter(mock_app(settings), before=before)


def video_list_crashes(settings: Settings) -> Any:
    """video.list always fails with HTTP 500 / 1500."""

    def before(scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        if scope["path"] == "/v1/a2v/video.list":
            payload = {"code": ErrorCode.INTERNAL_ERROR, "message": "Internal Error", "data": None}
            return 500, [(b"content-type", b"application/json")], json.dumps(payload).encode()
        return None

    return Rewriter(mock_app(settings), before=before)


#: Each task error code reported as another one (a failed task that names the wrong cause).
_SWAPPED = {
    ErrorCode.FILE_NOT_FOUND: ErrorCode.AUDIO_UNREACHABLE,
    ErrorCode.AUDIO_UNREACHABLE: ErrorCode.FILE_NOT_FOUND,
    ErrorCode.AUDIO_NOT_DECODABLE: ErrorCode.AUDIO_TOO_LONG,
    ErrorCode.AUDIO_TOO_LONG: ErrorCode.AUDIO_NOT_DECODABLE,
}


def task_error_code_swapped(settings: Settings) -> Any:
    """Failed tasks name the wrong cause: 10001 <-> 10002, 10003 <-> 10004."""

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        error = data.get("error")
        if isinstance(error, dict) and error.get("code") in _SWAPPED:
            error["code"] = int(_SWAPPED[error["code"]])

    return Rewriter(mock_app(settings), _video_get(rewrite))


def range_ignored(settings: Settings) -> Any:
    """File downloads ignore the Range header and always send the whole file (HTTP 200)."""

    def before(scope: dict[str, Any], body: bytes) -> None:
        if scope["path"].startswith("/files/"):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]

    return Rewriter(mock_app(settings), before=before)


def mask_shorter_than_video(settings: Settings) -> Any:
    """The mask MP4 holds only the first half of the frames the video has."""

    def rewrite(exchange: Exchange) -> None:
        path = exchange.path
        if path.startswith("/files/videos/") and path.endswith(".mask.mp4") and exchange.status == 200:
            exchange.body = remux(exchange.body, keep_fraction=0.5)

    return Rewriter(mock_app(settings), rewrite)


def callbacks_never_sent(settings: Settings) -> Any:
    """A task with a callback_url never calls it back."""
    return mock_app(settings.replace(callback_attempts=0))


def error_code_with_wrong_status(settings: Settings) -> Any:
    """An unknown video_id answers HTTP 404 with code 1003, a catalog code the catalog answers with 400."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/a2v/video.get" and body.get("code") == ErrorCode.VIDEO_NOT_FOUND:
            body["code"] = ErrorCode.INVALID_PARAMETER

    return Rewriter(mock_app(settings), _api(rewrite))


def ping_answers_202(settings: Settings) -> Any:
    """ping answers HTTP 202, a status its operation does not document."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.path == "/v1/ping" and exchange.status == 200:
            exchange.status = 202

    return Rewriter(mock_app(settings), rewrite)


def one_id_for_every_task(settings: Settings) -> Any:
    """Every generate answers the first video_id it ever gave (a stateless stand-in, like Prism)."""
    first: dict[str, str] = {}

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        data = body.get("data")
        if exchange.path == "/v1/a2v/video.generate" and isinstance(data, dict) and "video_id" in data:
            data["video_id"] = first.setdefault("id", data["video_id"])

    return Rewriter(mock_app(settings), _api(rewrite))


def get_answers_another_video(settings: Settings) -> Any:
    """video.get answers a task, but under another video_id than the one asked for."""

    def rewrite(exchange: Exchange, data: dict[str, Any]) -> None:
        data["video_id"] = data["video_id"][::-1]

    return Rewriter(mock_app(settings), _video_get(rewrite))


def generate_hangs(settings: Settings) -> Any:
    """video.generate answers only after 3 s (a queue that blocks the request)."""

    async def rewrite(exchange: Exchange) -> None:
        if exchange.path == "/v1/a2v/video.generate":
            await asyncio.sleep(3)

    return Rewriter(mock_app(settings), rewrite)


def previews_gone(settings: Settings) -> Any:
    """character.list hands out preview URLs that answer 404."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        if exchange.path == "/v1/a2v/character.list" and isinstance(body.get("data"), list):
            for item in body["data"]:
                item["preview_url"] = item["preview_url"].replace("/previews/", "/previews-gone/")

    return Rewriter(mock_app(settings), _api(rewrite))


def tokens_outlive_expired_at(settings: Settings) -> Any:
    """account.login announces `expired_at` in 2 s, but the token keeps working for hours."""

    def rewrite(exchange: Exchange, body: dict[str, Any]) -> None:
        data = body.get("data")
        if exchange.path == "/v1/auth/account.login" and isinstance(data, dict) and "expired_at" in data:
            data["expired_at"] = int(time.time()) + 2

    return Rewriter(mock_app(settings), _api(rewrite))


def callbacks_not_retried(settings: Settings) -> Any:
    """A callback that gets a 5xx is never sent again (one attempt only)."""
    return mock_app(settings.replace(callback_attempts=1))


def left_never_counts(settings: Settings) -> Any:
    """X-Ratelimit-Left always announces the whole allowance: it never counts down."""

    def rewrite(exchange: Exchange) -> None:
        total = exchange.header("X-Ratelimit-Total")
        if total is not None:
            exchange.set_header("X-Ratelimit-Left", total)

    return Rewriter(mock_app(settings), rewrite)


def no_retry_after_on_429(settings: Settings) -> Any:
    """Over the limit the answer is 429 / 1009 but without `Retry-After`."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.status == 429:
            exchange.set_header("Retry-After", None)

    return Rewriter(mock_app(settings), rewrite)


@dataclass(frozen=True)
class Fault:
    build: Callable[[Settings], Any]
    only: tuple[str, ...]
    caught_by: str
    still_passing: tuple[str, ...] = ()
    timeout: float = 60.0
    settings: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    #: More `KitOptions` for the run (opt-in checks).
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.label or self.build.__name__


FAULTS = [
    Fault(
        no_body_limit,
        (Req.ERROR_PAYLOAD_TOO_LARGE, Req.ERROR_BAD_REQUEST),
        Req.ERROR_PAYLOAD_TOO_LARGE,
        (Req.ERROR_BAD_REQUEST,),
    ),
    Fault(
        code_as_string,
        (Req.FUZZ_RESPONSE_SCHEMA,),
        Req.FUZZ_RESPONSE_SCHEMA,
        (Req.FUZZ_NO_SERVER_ERROR, Req.FUZZ_STATUS_CODE),
    ),
    # The same fault, named for what it is: the envelope's field `code`.
    Fault(
        code_as_string,
        (Req.ENVELOPE, Req.FUZZ_STATUS_CODE),
        Req.ENVELOPE,
        (Req.FUZZ_STATUS_CODE,),
        label="code_as_string_envelope",
    ),
    Fault(
        envelope_without_message,
        (Req.ENVELOPE, Req.GENERATE_NEW_ID),
        Req.ENVELOPE,
        (Req.GENERATE_NEW_ID,),
    ),
    Fault(character_missing_field, (Req.CHARACTERS, Req.PING), Req.CHARACTERS, (Req.PING,)),
    Fault(missing_rate_limit_header, (Req.RATELIMIT_HEADERS,), Req.RATELIMIT_HEADERS),
    Fault(
        unknown_id_200,
        (Req.ERROR_UNKNOWN_VIDEO, Req.ERROR_UNKNOWN_MODEL),
        Req.ERROR_UNKNOWN_VIDEO,
        (Req.ERROR_UNKNOWN_MODEL,),
    ),
    Fault(
        malformed_json_500,
        (Req.ERROR_BAD_REQUEST, Req.ERROR_UNKNOWN_VIDEO),
        Req.ERROR_BAD_REQUEST,
        (Req.ERROR_UNKNOWN_VIDEO,),
    ),
    Fault(auth_ignored, (Req.AUTH_REQUIRED, Req.PING), Req.AUTH_REQUIRED, (Req.PING,)),
    Fault(
        cross_tenant_leak,
        (Req.AUTH_TENANT_ISOLATION, Req.ERROR_UNKNOWN_VIDEO),
        Req.AUTH_TENANT_ISOLATION,
        (Req.ERROR_UNKNOWN_VIDEO,),
    ),
    Fault(
        status_backwards,
        (Req.LIFECYCLE_FORWARD, Req.GENERATE_READABLE),
        Req.LIFECYCLE_FORWARD,
        (Req.GENERATE_READABLE,),
    ),
    Fault(never_ends, (Req.LIFECYCLE_FINISHES, Req.PING), Req.LIFECYCLE_FINISHES, (Req.PING,), timeout=3),
    Fault(progress_decreasing, (Req.LIFECYCLE_PROGRESS,), Req.LIFECYCLE_PROGRESS),
    Fault(error_code_as_string, (Req.ERROR_AUDIO_404,), Req.LIFECYCLE_SHAPE),
    Fault(created_at_as_string, (Req.LIFECYCLE_SHAPE, Req.PING), Req.LIFECYCLE_SHAPE, (Req.PING,)),
    Fault(
        not_readable_after_create,
        (Req.GENERATE_READABLE, Req.PING),
        Req.GENERATE_READABLE,
        (Req.PING,),
    ),
    Fault(
        wrong_model_error_code,
        (Req.ERROR_UNKNOWN_MODEL, Req.ERROR_UNKNOWN_VIDEO),
        Req.ERROR_UNKNOWN_MODEL,
        (Req.ERROR_UNKNOWN_VIDEO,),
    ),
    Fault(
        wrong_content_type,
        (Req.FUZZ_CONTENT_TYPE,),
        Req.FUZZ_CONTENT_TYPE,
        (Req.FUZZ_RESPONSE_SCHEMA, Req.FUZZ_STATUS_CODE),
    ),
    Fault(
        lenient_page_size,
        (Req.FUZZ_NEGATIVE_REJECTED, Req.ERROR_UNKNOWN_VIDEO),
        Req.FUZZ_NEGATIVE_REJECTED,
        (Req.ERROR_UNKNOWN_VIDEO,),
    ),
    Fault(video_without_audio, (Req.FILE_VIDEO_MP4, Req.FILE_MASK), Req.FILE_VIDEO_MP4, (Req.FILE_MASK,)),
    Fault(wrong_duration, (Req.FILE_DURATION, Req.FILE_TAMPER), Req.FILE_DURATION, (Req.FILE_TAMPER,)),
    # Not FILE-MASK as the bystander: its check stops at the unreadable video and so judges no mask.
    Fault(truncated_file, (Req.FILE_DURATION, Req.FILE_TAMPER), Req.FILE_DURATION, (Req.FILE_TAMPER,)),
    Fault(urls_never_expire, (Req.FILE_EXPIRES, Req.FILE_TAMPER), Req.FILE_EXPIRES, (Req.FILE_TAMPER,)),
    Fault(
        tampered_signature_accepted,
        (Req.FILE_TAMPER, Req.FILE_MASK),
        Req.FILE_TAMPER,
        (Req.FILE_MASK,),
    ),
    Fault(
        plain_404_for_unknown_path,
        (Req.ERROR_ROUTING, Req.ERROR_UNKNOWN_VIDEO),
        Req.ERROR_ROUTING,
        (Req.ERROR_UNKNOWN_VIDEO,),
    ),
    # The same fault, found by the stateful layer following the GetVideo link.
    Fault(
        not_readable_after_create,
        (Req.STATEFUL_LINKS,),
        Req.STATEFUL_LINKS,
        label="not_readable_after_create_via_links",
    ),
    Fault(
        callback_signed_with_wrong_key,
        ("A2V-CALLBACK-*",),
        Req.CALLBACK_SIGNATURE,
        (Req.CALLBACK_DELIVERY,),
    ),
    Fault(ping_needs_a_token, (Req.PING, Req.CHARACTERS), Req.PING, (Req.CHARACTERS,)),
    Fault(login_answers_wrong_code, (Req.LOGIN, Req.PING), Req.LOGIN, (Req.PING,)),
    Fault(
        idempotency_key_ignored,
        (Req.IDEMPOTENCY_REPLAY, Req.PING),
        Req.IDEMPOTENCY_REPLAY,
        (Req.PING,),
    ),
    Fault(
        idempotency_key_ignored,
        (Req.IDEMPOTENCY_CONFLICT, Req.PING),
        Req.IDEMPOTENCY_CONFLICT,
        (Req.PING,),
        label="idempotency_key_ignored_conflict",
    ),
    Fault(list_ignores_status, (Req.LIFECYCLE_LIST, Req.PING), Req.LIFECYCLE_LIST, (Req.PING,)),
    Fault(total_count_off_by_one, (Req.LIFECYCLE_LIST, Req.PING), Req.LIFECYCLE_LIST, (Req.PING,)),
    Fault(list_as_page_object, (Req.LIFECYCLE_LIST, Req.PING), Req.LIFECYCLE_LIST, (Req.PING,)),
    Fault(video_list_crashes, (Req.FUZZ_NO_SERVER_ERROR,), Req.FUZZ_NO_SERVER_ERROR),
    *[
        Fault(task_error_code_swapped, (rid,), rid, label=f"task_error_code_swapped_{rid}")
        for rid in (
            Req.ERROR_AUDIO_404,
            Req.ERROR_AUDIO_UNREACHABLE,
            Req.ERROR_NOT_AUDIO,
            Req.ERROR_AUDIO_TOO_LONG,
        )
    ],
    Fault(range_ignored, (Req.FILE_RANGE, Req.FILE_MASK), Req.FILE_RANGE, (Req.FILE_MASK,)),
    Fault(
        mask_shorter_than_video,
        (Req.FILE_MASK, Req.FILE_VIDEO_MP4),
        Req.FILE_MASK,
        (Req.FILE_VIDEO_MP4,),
    ),
    Fault(callbacks_never_sent, ("A2V-CALLBACK-*",), Req.CALLBACK_DELIVERY, timeout=10),
    Fault(error_code_with_wrong_status, (Req.ENVELOPE_ERROR_CODE,), Req.ENVELOPE_ERROR_CODE),
    Fault(ping_answers_202, (Req.FUZZ_STATUS_CODE,), Req.FUZZ_STATUS_CODE),
    Fault(
        one_id_for_every_task,
        (Req.GENERATE_NEW_ID, Req.IDEMPOTENCY_REPLAY, Req.PING),
        Req.GENERATE_NEW_ID,
        (Req.PING,),
    ),
    Fault(
        get_answers_another_video,
        (Req.GET_SAME_VIDEO, Req.PING),
        Req.GET_SAME_VIDEO,
        (Req.PING,),
    ),
    Fault(previews_gone, (Req.URLS_ANSWER, Req.CHARACTERS), Req.URLS_ANSWER, (Req.CHARACTERS,)),
    Fault(
        tokens_outlive_expired_at,
        (Req.LOGIN_EXPIRED, Req.LOGIN),
        Req.LOGIN_EXPIRED,
        (Req.LOGIN,),
    ),
    Fault(
        callbacks_not_retried,
        ("A2V-CALLBACK-*",),
        Req.CALLBACK_RETRY,
        (Req.CALLBACK_DELIVERY, Req.CALLBACK_SIGNATURE),
        timeout=6,
    ),
    Fault(
        left_never_counts,
        (Req.RATELIMIT_ARITHMETIC, Req.RATELIMIT_HEADERS),
        Req.RATELIMIT_ARITHMETIC,
        (Req.RATELIMIT_HEADERS,),
        settings={"rate_limit": {"requests": 1000, "per_seconds": 60}},
    ),
    Fault(
        no_retry_after_on_429,
        (Req.RATELIMIT_429, Req.PING),
        Req.RATELIMIT_429,
        (Req.PING,),
        settings={"rate_limit": {"requests": 10, "per_seconds": 3}},
        options={"provoke_429": True},
    ),
]

#: Faults only a real socket shows (the in-process transport has no timeouts): (fault, options,
#: requirement that must fail, requirements that must not be blamed).
SOCKET_FAULTS = [
    (
        generate_hangs,
        {"only": [Req.ANSWER_IN_TIME, "A2V-FUZZ-*"], "request_timeout": 1.0},
        Req.ANSWER_IN_TIME,
        (Req.FUZZ_NO_SERVER_ERROR,),
    ),
]
