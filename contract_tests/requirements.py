"""The requirements the kit checks, each traceable to a sentence of `openapi.yaml`.

Every row has an id (what the report and JUnit XML call it), a group (what `--skip` names), the JSON
pointer of the spec node that states it and a quote of that node's text. `tests/contract_tests` checks
that every quote really is in the spec at its pointer, so the table cannot drift from the contract.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Final

from contract_tests.evidence import JUDGED, Need
from contract_tests.requirement_ids import Req

__all__ = [
    "GROUPS",
    "OPTIONAL_GROUPS",
    "REQUIREMENTS",
    "Requirement",
    "kinds",
    "requirement",
    "select",
]

DESC = "/info/description"


class kinds:
    """The named observations checks record (besides `JUDGED`), shared by checks and the table."""

    TASK_MOVED = "task-moved"
    FINISHED = "status:finished"
    ERROR = "status:error"
    DISTINCT_IDS = "distinct-ids"
    REPLAYED = "replayed"
    FIRST_ACCEPTED = "first-accepted"
    OWNER_READS = "owner-reads"
    KNOWN_FOUND = "known-found"
    LINK_FOLLOWED = "link-followed"
    DELIVERY = "delivery"
    NEGATIVE_SENT = "negative-sent"
    URL_FETCHED = "url-fetched"
    EXPIRED_USED = "expired-token-used"
    COUNTED_DOWN = "counted-down"
    RATE_LIMITED = "rate-limited"
    STARTED_PENDING = "started-pending"
    TERMINAL_KEPT = "terminal-kept"
    PENDING_PROGRESS = "progress-while-pending"
    FINISHED_PROGRESS = "progress-when-finished"
    FINISHED_WAV = "finished:wav"
    FINISHED_MP3 = "finished:mp3"
    NOTHING_CREATED = "nothing-created"


#: What every requirement needs at least: one answer (or value) its check judged and found right.
JUDGED_ONCE = Need(JUDGED, "an answer judged by its check")


@dataclass(frozen=True)
class Requirement:
    """One row: `needs` are the observations without which it is `inconclusive`, never `passed`."""

    id: str
    group: str
    title: str
    pointer: str
    quote: str
    needs: tuple[Need, ...] = (JUDGED_ONCE,)


def _r(id: str, group: str, title: str, pointer: str, quote: str, *needs: Need) -> Requirement:
    return Requirement(id, group, title, pointer, quote, (JUDGED_ONCE, *needs))


_MOVED = Need(kinds.TASK_MOVED, "one task seen in at least two statuses (every task read never moved)")
_FINISHED = Need(kinds.FINISHED, "a finished task, read and judged")
#: A requirement passes only on the clauses its checks observed: each clause its title states that a
#: run may not meet (a status the service never showed, a field it never sent) is a need of its own.
_STARTED_PENDING = Need(
    kinds.STARTED_PENDING,
    "a new task read at once in status pending (every first read showed a later status)",
)
_TERMINAL_KEPT = Need(kinds.TERMINAL_KEPT, "a task read again after it ended, still in its terminal status")
_PENDING_PROGRESS = Need(kinds.PENDING_PROGRESS, "a pending task's progress read (the 0 when pending)")
_FINISHED_PROGRESS = Need(kinds.FINISHED_PROGRESS, "a finished task's progress read (the 100 when finished)")
_ERRORED = Need(kinds.ERROR, "a task that ended in error, read and judged")


_TABLE: Final[list[Requirement]] = [
    # -- layer 1: the spec itself ---------------------------------------------------------------------
    _r(Req.SPEC_VALID, "spec", "The spec is a valid OpenAPI 3.1 document", "/openapi", "3.1.0"),
    _r(
        Req.SPEC_EXAMPLES,
        "spec",
        "Every example in the spec conforms to its schema",
        DESC,
        "Every JSON response, success or error, has the same envelope",
    ),
    # -- layer 2: fuzzing every operation (schemathesis) --------------------------------------------
    _r(
        Req.FUZZ_NO_SERVER_ERROR,
        "fuzz",
        "No generated request makes the service fail (5xx)",
        "/x-a2v-error-catalog/2/when",
        "Any operation whose query or body does not match this document's schema.",
    ),
    _r(
        Req.FUZZ_STATUS_CODE,
        "fuzz",
        "Every answer's HTTP status is one the operation documents",
        DESC,
        "The catalog is `x-a2v-error-catalog` at the end of this document: one row per code with its HTTP",
    ),
    _r(
        Req.FUZZ_CONTENT_TYPE,
        "fuzz",
        "Every answer has the documented Content-Type (application/json)",
        DESC,
        "Every JSON response, success or error, has the same envelope",
    ),
    _r(
        Req.FUZZ_RESPONSE_SCHEMA,
        "fuzz",
        "Every answer's body matches the documented schema",
        DESC,
        'has the same envelope `{"code": int, "message": str, "data": ...}`.',
    ),
    _r(
        Req.FUZZ_NEGATIVE_REJECTED,
        "fuzz",
        "Requests that break the schema are rejected with 4xx",
        "/x-a2v-error-catalog/2/meaning",
        "A parameter is missing, of the wrong type, or out of range; the message names it.",
    ),
    _r(
        Req.RATELIMIT_HEADERS,
        "fuzz",
        "Every response carries the three X-Ratelimit-* headers as integers",
        DESC,
        "Every response carries `X-Ratelimit-Total` (requests allowed per window), `X-Ratelimit-Left`",
    ),
    _r(
        Req.RATELIMIT_ARITHMETIC,
        "fuzz",
        "X-Ratelimit-Left counts down by one per request within a window, never above Total",
        DESC,
        "and `X-Ratelimit-Reset` (seconds until the window resets)",
        Need(kinds.COUNTED_DOWN, "consecutive answers within one window", 2),
    ),
    _r(
        Req.RATELIMIT_429,
        "ratelimit",
        "Over the limit: HTTP 429, code 1009, a Retry-After header (opt-in: --provoke-429)",
        DESC,
        "Over the limit the",
        Need(kinds.RATE_LIMITED, "a 429 answer provoked on purpose"),
    ),
    _r(
        Req.ENVELOPE,
        "lifecycle",
        "Every JSON answer is the envelope: an integer code, a string message and data",
        DESC,
        'Every JSON response, success or error, has the same envelope `{"code": int, "message": str, '
        '"data": ...}`.',
    ),
    _r(
        Req.ENVELOPE_ERROR_CODE,
        "fuzz",
        "An error's envelope code is in the catalog with the answer's HTTP status",
        DESC,
        "`code` is `0` on success and a code of the error catalog (below) otherwise",
    ),
    # -- layer 3: stateful sequences through links -----------------------------------------------------
    _r(
        Req.STATEFUL_LINKS,
        "stateful",
        "Sequences through the spec's links (generate -> get, list) conform",
        "/paths/~1v1~1a2v~1video.generate/post/responses/200/links/GetVideo/description",
        "The task just created, readable at once with the same token.",
        Need(kinds.LINK_FOLLOWED, "a video.get following the GetVideo link of a created task"),
        Need(kinds.DISTINCT_IDS, "two generates of the sequences answered with different video_ids"),
    ),
    # -- layer 4: the task lifecycle -------------------------------------------------------------------
    _r(
        Req.PING,
        "lifecycle",
        "ping answers without a token",
        "/paths/~1v1~1ping/get/description",
        "Needs no token",
    ),
    _r(
        Req.CHARACTERS,
        "lifecycle",
        "character.list returns at least one character with a model_id",
        "/paths/~1v1~1a2v~1character.list/get/description",
        "Returns every character a video can be generated with.",
    ),
    _r(
        Req.GENERATE_READABLE,
        "lifecycle",
        "A new task is readable at once (never 404) and starts pending",
        DESC,
        "a client never sees a 404 for an id it was just given.",
        Need(
            kinds.DISTINCT_IDS,
            "two new tasks with different video_ids, each read at once (one id for all proves nothing)",
        ),
        _STARTED_PENDING,
    ),
    _r(
        Req.GENERATE_NEW_ID,
        "lifecycle",
        "Every generate without an Idempotency-Key creates a new task with a new video_id",
        DESC,
        "answers at once with a `video_id` (a *task*)",
        Need(kinds.DISTINCT_IDS, "two generates without a key, both answered with a video_id"),
    ),
    _r(
        Req.GET_SAME_VIDEO,
        "lifecycle",
        "video.get answers the video asked for (the same video_id)",
        "/paths/~1v1~1a2v~1video.get/get/description",
        "Returns the task's current state.",
    ),
    _r(
        Req.ANSWER_IN_TIME,
        "lifecycle",
        "Every operation answers within the kit's request timeout (a timeout is not a 5xx)",
        DESC,
        "return an id at once; the work finishes later.",
    ),
    _r(
        Req.LIFECYCLE_FORWARD,
        "lifecycle",
        "A task's status only moves forward and never leaves a terminal one",
        DESC,
        "A task's status only moves forward along the arrows: it never returns to an earlier status",
        _MOVED,
        _TERMINAL_KEPT,
    ),
    _r(
        Req.LIFECYCLE_PROGRESS,
        "lifecycle",
        "progress never decreases; 0 when pending, 100 when finished",
        DESC,
        "`progress` never decreases.",
        _MOVED,
        _PENDING_PROGRESS,
        _FINISHED_PROGRESS,
    ),
    _r(
        Req.LIFECYCLE_SHAPE,
        "lifecycle",
        "Fields match the status (URLs only when finished, error only when error)",
        DESC,
        "`video_url` and `mask_video_url` appear only when",
        _FINISHED,
        _ERRORED,
    ),
    _r(
        Req.LIFECYCLE_FINISHES,
        "lifecycle",
        "Valid WAV and MP3 audio (and FLAC, Ogg when the profile samples them) reach finished in time",
        DESC,
        "Any common audio container is accepted (WAV and MP3 always; also FLAC, Ogg/Opus, M4A/AAC)",
        _FINISHED,
        Need(kinds.FINISHED_WAV, "a WAV task that finished"),
        Need(kinds.FINISHED_MP3, "an MP3 task that finished"),
    ),
    _r(
        Req.LIFECYCLE_LIST,
        "lifecycle",
        "video.list shows the caller's new task first and filters by status",
        "/paths/~1v1~1a2v~1video.list/get/description",
        "The caller's tasks, newest first",
    ),
    # -- result files ----------------------------------------------------------------------------------
    _r(
        Req.FILE_VIDEO_MP4,
        "files",
        "video_url is an MP4: H.264 yuv420p + AAC, even size, faststart",
        DESC,
        "`video_url` is an MP4 (H.264 `yuv420p` video with the submitted audio as AAC, `faststart`, 25 fps,",
    ),
    _r(
        Req.FILE_DURATION,
        "files",
        "The video lasts as long as the submitted audio, within one frame",
        DESC,
        "whose duration equals the audio's within one frame.",
    ),
    _r(
        Req.FILE_MASK,
        "files",
        "mask_video_url is an MP4 of the same size and frame count",
        DESC,
        "`mask_video_url` is an MP4 of the same size and frame count",
    ),
    _r(
        Req.FILE_RANGE,
        "files",
        "Result files answer Range requests with 206 and the right bytes",
        DESC,
        "They support `Range` requests.",
    ),
    _r(
        Req.FILE_TAMPER,
        "files",
        "An altered file URL answers 403 with code 1012",
        DESC,
        "expired or altered URL answers HTTP 403 with code `1012` in the envelope.",
    ),
    _r(
        Req.FILE_EXPIRES,
        "expiry",
        "A file URL answers 403 after its url_expires_at",
        DESC,
        "Both URLs are signed and expire (`url_expires_at`",
    ),
    _r(
        Req.URLS_ANSWER,
        "files",
        "Every URL the API hands out (previews, videos, masks) answers 200 with its type and size",
        "/paths/~1v1~1a2v~1character.list/get/description",
        "`preview_url` is a signed, expiring URL of a still image (PNG)",
        Need(kinds.URL_FETCHED, "a preview URL and a finished video's URL, each downloaded", 2),
    ),
    # -- documented errors ------------------------------------------------------------------------------
    _r(
        Req.ERROR_UNKNOWN_VIDEO,
        "errors",
        "An unknown video_id answers 404 / 20002",
        "/x-a2v-error-catalog/22/when",
        "`video.get` with an unknown id",
        Need(
            kinds.KNOWN_FOUND,
            "a video the token owns found by video.get (the control: a service that answers 404 to "
            "every id proves nothing)",
        ),
    ),
    _r(
        Req.ERROR_UNKNOWN_MODEL,
        "errors",
        "An unknown model_id answers 404 / 20001",
        "/x-a2v-error-catalog/21/when",
        "with a `model_id` that `character.list` does not return.",
    ),
    _r(
        Req.ERROR_BAD_REQUEST,
        "errors",
        "A malformed body answers 400/1004, a wrong Content-Type 415/1005, a bad field 400/1003",
        "/components/responses/BadRequest/description",
        "or the body is not a JSON object (`1004`).",
    ),
    _r(
        Req.ERROR_PAYLOAD_TOO_LARGE,
        "errors",
        "A body over max_request_bytes answers 413 / 1013 and creates nothing",
        "/x-a2v-error-catalog/12/when",
        "exceeds the limit; the body is not processed.",
        Need(kinds.NOTHING_CREATED, "the caller's newest task read before and after the refused request"),
    ),
    _r(
        Req.ERROR_AUDIO_404,
        "errors",
        "An audio_url answering 404 ends the task with 10001",
        "/x-a2v-error-catalog/14/when",
        "A task whose `audio_url` answers HTTP 404 or 410.",
    ),
    _r(
        Req.ERROR_AUDIO_UNREACHABLE,
        "errors",
        "An audio_url that refuses connections ends the task with 10002",
        "/x-a2v-error-catalog/15/when",
        "refuses or drops the connection",
    ),
    _r(
        Req.ERROR_NOT_AUDIO,
        "errors",
        "A download that is not audio ends the task with 10003",
        "/x-a2v-error-catalog/16/when",
        "A task whose download is not a decodable audio stream",
    ),
    _r(
        Req.ERROR_AUDIO_TOO_LONG,
        "errors",
        "Audio over max_audio_seconds ends the task with 10004",
        "/x-a2v-error-catalog/17/when",
        "A task whose decoded audio is over the limit.",
    ),
    _r(
        Req.ERROR_ROUTING,
        "errors",
        "A wrong method answers 405 / 1006, an unknown path 404 / 1007",
        "/x-a2v-error-catalog/5/when",
        "For example `GET /v1/a2v/video.generate`.",
    ),
    # -- auth -------------------------------------------------------------------------------------------
    _r(
        Req.AUTH_REQUIRED,
        "auth",
        "A missing or malformed Authorization header answers 401 / 1001",
        "/x-a2v-error-catalog/0/when",
        "The Authorization header is missing, is not `Bearer <token>`",
    ),
    _r(
        Req.AUTH_TENANT_ISOLATION,
        "tenants",
        "A token never sees another token's videos",
        DESC,
        "another token's `video_id` answers like an unknown one (`20002`).",
        Need(
            kinds.OWNER_READS,
            "the owner reading its own video (the control: a service that hides every video from "
            "everyone proves nothing)",
        ),
    ),
    _r(
        Req.LOGIN,
        "auth",
        "account.login gives a token usable as Bearer, or 401 / 1011",
        "/paths/~1v1~1auth~1account.login/post/description",
        "Returns an `access_token` for the `Authorization: Bearer` header",
    ),
    _r(
        Req.LOGIN_EXPIRED,
        "expiry",
        "An access_token used after its expired_at answers 401 / 1002",
        "/x-a2v-error-catalog/1/when",
        "An `access_token` from `account.login` is used after its `expired_at`.",
        Need(kinds.EXPIRED_USED, "a login token used after its expired_at"),
    ),
    # -- optional features --------------------------------------------------------------------------------
    _r(
        Req.IDEMPOTENCY_REPLAY,
        "idempotency",
        "The same Idempotency-Key and body return the same video_id",
        DESC,
        "A retry with the same key and the same body",
        Need(
            kinds.DISTINCT_IDS,
            "two generates without a key answered with different video_ids (the control: a service "
            "that returns one id for everything proves nothing)",
        ),
        Need(kinds.REPLAYED, "a retry with the same key and body answered"),
    ),
    _r(
        Req.IDEMPOTENCY_CONFLICT,
        "idempotency",
        "The same Idempotency-Key with another body answers 409 / 1008",
        DESC,
        "the same key with a different body is",
        Need(kinds.FIRST_ACCEPTED, "the first request with the key accepted (the control)"),
    ),
    _r(
        Req.CALLBACK_DELIVERY,
        "callbacks",
        "A task with callback_url POSTs its final state there once it ends",
        DESC,
        "the service POSTs the video's final state there once the",
        Need(kinds.DELIVERY, "a callback delivery received"),
    ),
    _r(
        Req.CALLBACK_SIGNATURE,
        "callbacks",
        "Callback deliveries carry a valid X-A2V-Signature",
        DESC,
        "is the lowercase hex HMAC-SHA256, keyed with the bearer token that created the task",
        Need(kinds.DELIVERY, "a callback delivery received"),
    ),
    _r(
        Req.CALLBACK_RETRY,
        "callbacks",
        "A delivery answered 5xx is retried, same X-A2V-Delivery, signed on every attempt",
        DESC,
        "retried with exponential back-off (1 s, 2 s, 4 s, ...) up to 5 attempts",
        Need(kinds.DELIVERY, "a failed delivery and its retry received", 2),
    ),
]

REQUIREMENTS: Final[dict[str, Requirement]] = {r.id: r for r in _TABLE}
GROUPS: Final[frozenset[str]] = frozenset(r.group for r in _TABLE)
#: Groups for features a partner may not have built; `--skip` them and they are reported as skipped.
OPTIONAL_GROUPS: Final[frozenset[str]] = frozenset(
    {"idempotency", "callbacks", "expiry", "tenants", "ratelimit"}
)


def requirement(req_id: str) -> Requirement:
    try:
        return REQUIREMENTS[req_id]
    except KeyError:
        raise KeyError(f"no requirement {req_id!r}; see contract_tests/requirements.py") from None


def select(patterns: list[str] | None, skip: list[str] | None = None) -> tuple[set[str], set[str]]:
    """(selected, skipped) ids: `patterns` are id globs (`A2V-FILE-*`), `skip` names groups or ids."""
    chosen = {
        rid
        for rid in REQUIREMENTS
        if not patterns or any(fnmatch.fnmatchcase(rid, p.strip()) for p in patterns)
    }
    skipped = set()
    for name in skip or []:
        name = name.strip()
        if not name:
            continue
        matched = {
            rid for rid, r in REQUIREMENTS.items() if r.group == name or fnmatch.fnmatchcase(rid, name)
        }
        if not matched:
            raise ValueError(
                f"--skip {name!r} names no group or requirement; groups: {', '.join(sorted(GROUPS))}"
            )
        skipped |= matched
    return chosen, skipped & chosen
