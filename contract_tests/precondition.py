"""Before any check: is the base URL an HTTP service answering JSON at all?

A plain file server, a proxy's HTML error page or a host that does not answer would otherwise make the
kit run a full profile against something that is not an API, and report a page of failures that all
say the same thing. Two requests decide it: `ping` without a token, and one authenticated
`character.list`. The run is refused (exit 2, with a sentence that says what answered instead and a
hint when the URL carries a path) only when

* the host cannot be reached,
* either answer is not JSON, or
* `character.list` answers 401: the key itself is refused (a usage error: `--api-key`).

Everything else is the kit's to judge, not the precondition's: an envelope whose `code` is the string
`"0"`, an answer without `message`, a `ping` answering 404 in JSON are findings of the full run (the
`A2V-ENVELOPE`, `A2V-PING` verdicts among all the others, exit 1), never a refusal. What looks odd but
is judged later is returned as a note (`Precondition.notes`), printed before the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from a2v_spec import Spec

__all__ = ["Precondition", "announced_total", "check_service", "not_an_a2v_service"]


@dataclass
class Precondition:
    """`refusal`: why the run cannot start (None: it can); `notes`: what the run will judge."""

    refusal: str | None = None
    notes: list[str] = field(default_factory=list)


def _what(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no Content-Type")
    body = response.text[:120].replace("\n", " ").strip()
    return (
        f"HTTP {response.status_code} ({kind}): {body!r}" if body else f"HTTP {response.status_code} ({kind})"
    )


_NOT_JSON = object()


def _json(response: httpx.Response) -> Any:
    """The answer's JSON value (whatever its Content-Type says: that is A2V-FUZZ-CONTENT-TYPE's to
    judge), or `_NOT_JSON`."""
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _hint(base_url: str, spec: Spec) -> str:
    path = urlsplit(base_url).path.rstrip("/")
    if not path:
        return ""
    prefix = "/" + spec.operation("ping").path.strip("/").split("/")[0]  # "/v1"
    if path.endswith(prefix):
        trimmed = base_url.rstrip("/")[: -len(prefix)]
        return f"; the base URL ends in {prefix!r}, but the kit adds {prefix}/... itself: try {trimmed}"
    return f"; the base URL has a path ({path!r}): the kit appends the spec's paths to it"


def check_service(base_url: str, api_key: str, spec: Spec, *, timeout: float = 10.0) -> Precondition:
    """Whether `base_url` is an HTTP service answering JSON (ping and one authenticated call)."""
    ping_path = spec.operation("ping").path
    list_path = spec.operation("listCharacters").path
    url = base_url.rstrip("/")
    result = Precondition()
    with httpx.Client(timeout=timeout) as client:
        try:
            ping = client.get(url + ping_path)
        except httpx.HTTPError as err:
            result.refusal = f"cannot reach {base_url}: {type(err).__name__}: {err}"
            return result
        if _json(ping) is _NOT_JSON:
            result.refusal = (
                f"{base_url} is not an A2V service: GET {ping_path} answered {_what(ping)}, not JSON "
                '(the API answers every request with a JSON envelope {"code": ..., "message": ..., '
                '"data": ...})' + _hint(base_url, spec)
            )
            return result
        if ping.status_code != 200:
            result.notes.append(
                f"GET {ping_path} answered {_what(ping)}; the run judges it (A2V-PING)"
                + _hint(base_url, spec)
            )
        try:
            listed = client.get(url + list_path, headers={"Authorization": f"Bearer {api_key}"})
        except httpx.HTTPError as err:
            result.refusal = f"GET {list_path} on {base_url} failed: {type(err).__name__}: {err}"
            return result
        if _json(listed) is _NOT_JSON:
            result.refusal = (
                f"{base_url} answers ping but not the API: GET {list_path} answered {_what(listed)}, "
                "not JSON" + _hint(base_url, spec)
            )
            return result
        if listed.status_code == 401:
            result.refusal = (
                f"the API key is refused: GET {list_path} answered {_what(listed)} "
                "(check --api-key / A2V_API_KEY)"
            )
    return result


def not_an_a2v_service(base_url: str, api_key: str, spec: Spec, *, timeout: float = 10.0) -> str | None:
    """None when the run can start against `base_url`, else why not (`check_service().refusal`)."""
    return check_service(base_url, api_key, spec, timeout=timeout).refusal


def announced_total(base_url: str, spec: Spec) -> int | None:
    """The `X-Ratelimit-Total` a ping announces (ping costs no allowance), or None."""
    try:
        ping = httpx.get(base_url.rstrip("/") + spec.operation("ping").path, timeout=10)
        return int(ping.headers["x-ratelimit-total"])
    except (httpx.HTTPError, KeyError, ValueError):
        return None
