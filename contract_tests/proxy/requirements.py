"""The client's side of the contract: what a client app must do, each rule quoting `openapi.yaml`.

The server's requirements are the kit's own (`contract_tests.requirements`), judged from traffic under
the same ids; these `A2V-CLIENT-*` rows are what only a proxy sees: how a client behaves over time.
`tests/contract_tests/proxy` checks that every quote is in the spec at its pointer.
"""

from __future__ import annotations

from typing import Final

from contract_tests.requirements import REQUIREMENTS, Requirement

__all__ = ["CLIENT_REQUIREMENTS", "SERVER_JUDGED", "SERVER_NOT_JUDGED", "requirement"]

DESC = "/info/description"

_CLIENT: Final[list[Requirement]] = [
    Requirement(
        "A2V-CLIENT-REQUEST-SCHEMA",
        "client",
        "Requests match the spec: documented path and method, Bearer token, parameters and body",
        DESC,
        "A client sends only requests that this document describes",
    ),
    Requirement(
        "A2V-CLIENT-POLL-INTERVAL",
        "client",
        "video.get of one task is polled at most once a second",
        DESC,
        "Poll `video.get` no more than once a second",
    ),
    Requirement(
        "A2V-CLIENT-POLL-BACKOFF",
        "client",
        "Polling a task that is not terminal backs off",
        DESC,
        "backing off (for example x1.5 up to 10 s)",
    ),
    Requirement(
        "A2V-CLIENT-RETRY-AFTER",
        "client",
        "After a 429 or 503 the client waits Retry-After seconds before retrying",
        DESC,
        "On HTTP 429 or 503 wait for the number of seconds in `Retry-After` before retrying.",
    ),
    Requirement(
        "A2V-CLIENT-IDEMPOTENT-RETRY",
        "client",
        "A generate retried after a timeout carries the same Idempotency-Key",
        DESC,
        "sends the same `Idempotency-Key` on every attempt",
    ),
    Requirement(
        "A2V-CLIENT-RATELIMIT-LEFT",
        "client",
        "After X-Ratelimit-Left: 0 the client waits X-Ratelimit-Reset seconds",
        DESC,
        "sends no further request (but `ping`) until `X-Ratelimit-Reset` seconds have passed",
    ),
    Requirement(
        "A2V-CLIENT-EXPIRED-URL",
        "client",
        "A file URL is not downloaded after its url_expires_at",
        DESC,
        "A client does not download a file URL after its `url_expires_at`",
    ),
    Requirement(
        "A2V-CLIENT-TOKEN-IN-QUERY",
        "client",
        "The token travels only in the Authorization header, never in a query string",
        DESC,
        "never in a query string",
    ),
]

CLIENT_REQUIREMENTS: Final[dict[str, Requirement]] = {r.id: r for r in _CLIENT}

#: The kit's requirements the proxy can judge from observed traffic alone.
SERVER_JUDGED: Final[tuple[str, ...]] = (
    "A2V-FUZZ-NO-SERVER-ERROR",
    "A2V-FUZZ-STATUS-CODE",
    "A2V-FUZZ-CONTENT-TYPE",
    "A2V-FUZZ-RESPONSE-SCHEMA",
    "A2V-FUZZ-NEGATIVE-REJECTED",
    "A2V-RATELIMIT-HEADERS",
    "A2V-ENVELOPE-ERROR-CODE",
    "A2V-PING",
    "A2V-CHARACTERS",
    "A2V-GENERATE-READABLE",
    "A2V-LIFECYCLE-FORWARD",
    "A2V-LIFECYCLE-PROGRESS",
    "A2V-LIFECYCLE-SHAPE",
    "A2V-LIFECYCLE-LIST",
    "A2V-FILE-VIDEO-MP4",
    "A2V-FILE-DURATION",
    "A2V-FILE-MASK",
    "A2V-FILE-RANGE",
    "A2V-FILE-TAMPER",
    "A2V-FILE-EXPIRES",
    "A2V-ERROR-UNKNOWN-MODEL",
    "A2V-ERROR-BAD-REQUEST",
    "A2V-ERROR-PAYLOAD-TOO-LARGE",
    "A2V-ERROR-ROUTING",
    "A2V-AUTH-REQUIRED",
    "A2V-AUTH-TENANT-ISOLATION",
    "A2V-LOGIN",
    "A2V-IDEMPOTENCY-REPLAY",
    "A2V-IDEMPOTENCY-CONFLICT",
)

#: The kit's requirements that traffic alone cannot decide, and why.
SERVER_NOT_JUDGED: Final[dict[str, str]] = {
    "A2V-SPEC-VALID": "a property of the document, not of traffic",
    "A2V-SPEC-EXAMPLES": "a property of the document, not of traffic",
    "A2V-ENVELOPE": "a wrong envelope is a schema mismatch in traffic: reported as A2V-FUZZ-RESPONSE-SCHEMA",
    "A2V-STATEFUL-LINKS": "its faults show up as A2V-GENERATE-READABLE and the lifecycle ids",
    "A2V-LIFECYCLE-FINISHES": "the proxy does not know how long a client is willing to wait",
    "A2V-ERROR-UNKNOWN-VIDEO": "an id the proxy never saw created may exist from before it started",
    "A2V-ERROR-AUDIO-404": "the proxy does not see the service's own download of the audio",
    "A2V-ERROR-AUDIO-UNREACHABLE": "the proxy does not see the service's own download of the audio",
    "A2V-ERROR-NOT-AUDIO": "the proxy does not see the service's own download of the audio",
    "A2V-ERROR-AUDIO-TOO-LONG": "the proxy does not see the service's own download of the audio",
    "A2V-CALLBACK-DELIVERY": "callbacks go from the service to the receiver, not through the proxy",
    "A2V-CALLBACK-SIGNATURE": "callbacks go from the service to the receiver, not through the proxy",
    "A2V-CALLBACK-RETRY": "callbacks go from the service to the receiver, not through the proxy",
    "A2V-RATELIMIT-429": "the kit provokes it on purpose (opt-in); the proxy only sees what a client does",
    "A2V-ANSWER-IN-TIME": "the proxy does not know how long a client is willing to wait for an answer",
    # Added to the kit by issues 16 and 12; judgeable from traffic, not judged by the proxy yet.
    "A2V-GENERATE-NEW-ID": "not judged by the proxy yet (new kit requirement)",
    "A2V-GET-SAME-VIDEO": "not judged by the proxy yet (new kit requirement)",
    "A2V-RATELIMIT-ARITHMETIC": "not judged by the proxy yet (new kit requirement)",
    "A2V-URLS-ANSWER": "not judged by the proxy yet (new kit requirement)",
    "A2V-LOGIN-EXPIRED": "not judged by the proxy yet (new kit requirement)",
}


def requirement(req_id: str) -> Requirement:
    """A client or server requirement by id."""
    found = CLIENT_REQUIREMENTS.get(req_id) or REQUIREMENTS.get(req_id)
    if found is None:
        raise KeyError(f"no requirement {req_id!r}; see contract_tests/proxy/requirements.py")
    return found
