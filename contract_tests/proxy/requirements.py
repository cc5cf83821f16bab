"""The client's side of the contract: what a client app must do, each rule quoting `openapi.yaml`.

The server's requirements are the kit's own (`contract_tests.requirements`), judged from traffic under
the same ids; these `A2V-CLIENT-*` rows are what only a proxy sees: how a client behaves over time.
`tests/contract_tests/proxy` checks that every quote is in the spec at its pointer.
"""

from __future__ import annotations

from typing import Final

from contract_tests.requirement_ids import Req
from contract_tests.requirements import REQUIREMENTS, Requirement

__all__ = ["CLIENT_REQUIREMENTS", "SERVER_JUDGED", "SERVER_NOT_JUDGED", "requirement"]

DESC = "/info/description"

_CLIENT: Final[list[Requirement]] = [
    Requirement(
        Req.CLIENT_REQUEST_SCHEMA,
        "client",
        "Requests match the spec: documented path and method, Bearer token, parameters and body",
        DESC,
        "A client sends only requests that this document describes",
    ),
    Requirement(
        Req.CLIENT_POLL_INTERVAL,
        "client",
        "video.get of one task is polled at most once a second",
        DESC,
        "Poll `video.get` no more than once a second",
    ),
    Requirement(
        Req.CLIENT_POLL_BACKOFF,
        "client",
        "Polling a task that is not terminal backs off",
        DESC,
        "backing off (for example x1.5 up to 10 s)",
    ),
    Requirement(
        Req.CLIENT_RETRY_AFTER,
        "client",
        "After a 429 or 503 the client waits Retry-After seconds before retrying",
        DESC,
        "On HTTP 429 or 503 wait for the number of seconds in `Retry-After` before retrying.",
    ),
    Requirement(
        Req.CLIENT_IDEMPOTENT_RETRY,
        "client",
        "A generate retried after a timeout carries the same Idempotency-Key",
        DESC,
        "sends the same `Idempotency-Key` on every attempt",
    ),
    Requirement(
        Req.CLIENT_RATELIMIT_LEFT,
        "client",
        "After X-Ratelimit-Left: 0 the client waits X-Ratelimit-Reset seconds",
        DESC,
        "sends no further request (but `ping`) until `X-Ratelimit-Reset` seconds have passed",
    ),
    Requirement(
        Req.CLIENT_EXPIRED_URL,
        "client",
        "A file URL is not downloaded after its url_expires_at",
        DESC,
        "A client does not download a file URL after its `url_expires_at`",
    ),
    Requirement(
        Req.CLIENT_TOKEN_IN_QUERY,
        "client",
        "The token travels only in the Authorization header, never in a query string",
        DESC,
        "never in a query string",
    ),
]

CLIENT_REQUIREMENTS: Final[dict[str, Requirement]] = {r.id: r for r in _CLIENT}

#: The kit's requirements the proxy can judge from observed traffic alone.
SERVER_JUDGED: Final[tuple[str, ...]] = (
    Req.FUZZ_NO_SERVER_ERROR,
    Req.FUZZ_STATUS_CODE,
    Req.FUZZ_CONTENT_TYPE,
    Req.FUZZ_RESPONSE_SCHEMA,
    Req.FUZZ_NEGATIVE_REJECTED,
    Req.RATELIMIT_HEADERS,
    Req.ENVELOPE_ERROR_CODE,
    Req.PING,
    Req.CHARACTERS,
    Req.GENERATE_READABLE,
    Req.LIFECYCLE_FORWARD,
    Req.LIFECYCLE_PROGRESS,
    Req.LIFECYCLE_SHAPE,
    Req.LIFECYCLE_LIST,
    Req.FILE_VIDEO_MP4,
    Req.FILE_DURATION,
    Req.FILE_MASK,
    Req.FILE_RANGE,
    Req.FILE_TAMPER,
    Req.FILE_EXPIRES,
    Req.ERROR_UNKNOWN_MODEL,
    Req.ERROR_BAD_REQUEST,
    Req.ERROR_PAYLOAD_TOO_LARGE,
    Req.ERROR_ROUTING,
    Req.AUTH_REQUIRED,
    Req.AUTH_TENANT_ISOLATION,
    Req.LOGIN,
    Req.IDEMPOTENCY_REPLAY,
    Req.IDEMPOTENCY_CONFLICT,
)

#: The kit's requirements that traffic alone cannot decide, and why.
SERVER_NOT_JUDGED: Final[dict[str, str]] = {
    Req.SPEC_VALID: "a property of the document, not of traffic",
    Req.SPEC_EXAMPLES: "a property of the document, not of traffic",
    Req.ENVELOPE: "a wrong envelope is a schema mismatch in traffic: reported as A2V-FUZZ-RESPONSE-SCHEMA",
    Req.STATEFUL_LINKS: "its faults show up as A2V-GENERATE-READABLE and the lifecycle ids",
    Req.LIFECYCLE_FINISHES: "the proxy does not know how long a client is willing to wait",
    Req.ERROR_UNKNOWN_VIDEO: "an id the proxy never saw created may exist from before it started",
    Req.ERROR_AUDIO_404: "the proxy does not see the service's own download of the audio",
    Req.ERROR_AUDIO_UNREACHABLE: "the proxy does not see the service's own download of the audio",
    Req.ERROR_NOT_AUDIO: "the proxy does not see the service's own download of the audio",
    Req.ERROR_AUDIO_TOO_LONG: "the proxy does not see the service's own download of the audio",
    Req.CALLBACK_DELIVERY: "callbacks go from the service to the receiver, not through the proxy",
    Req.CALLBACK_SIGNATURE: "callbacks go from the service to the receiver, not through the proxy",
    Req.CALLBACK_RETRY: "callbacks go from the service to the receiver, not through the proxy",
    Req.RATELIMIT_429: "the kit provokes it on purpose (opt-in); the proxy only sees what a client does",
    Req.ANSWER_IN_TIME: "the proxy does not know how long a client is willing to wait for an answer",
    # Added to the kit by issues 16 and 12; judgeable from traffic, not judged by the proxy yet.
    Req.GENERATE_NEW_ID: "not judged by the proxy yet (new kit requirement)",
    Req.GET_SAME_VIDEO: "not judged by the proxy yet (new kit requirement)",
    Req.RATELIMIT_ARITHMETIC: "not judged by the proxy yet (new kit requirement)",
    Req.URLS_ANSWER: "not judged by the proxy yet (new kit requirement)",
    Req.LOGIN_EXPIRED: "not judged by the proxy yet (new kit requirement)",
}


def requirement(req_id: str) -> Requirement:
    """A client or server requirement by id."""
    found = CLIENT_REQUIREMENTS.get(req_id) or REQUIREMENTS.get(req_id)
    if found is None:
        raise KeyError(f"no requirement {req_id!r}; see contract_tests/proxy/requirements.py")
    return found
