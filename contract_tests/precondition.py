"""Before any check: is the base URL an A2V service at all?

A plain file server, a proxy's error page or a base URL with one `/v1` too many would otherwise make
the kit run (and pass a few schema-shaped requirements) against something that is not the API. Two
requests decide it: `ping` without a token, and one authenticated `character.list`; both must answer
with the API's JSON envelope. Anything else is a usage error (exit 2) with a sentence that says what
answered instead, and a hint when the URL carries a path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from a2v_spec import Spec

__all__ = ["announced_total", "not_an_a2v_service"]


def _what(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no Content-Type")
    body = response.text[:120].replace("\n", " ").strip()
    return (
        f"HTTP {response.status_code} ({kind}): {body!r}" if body else f"HTTP {response.status_code} ({kind})"
    )


def _envelope(response: httpx.Response) -> dict[str, object] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("code"), int) and "message" in body and "data" in body:
        return body
    return None


def _hint(base_url: str, spec: Spec) -> str:
    path = urlsplit(base_url).path.rstrip("/")
    if not path:
        return ""
    prefix = "/" + spec.operation("ping").path.strip("/").split("/")[0]  # "/v1"
    if path.endswith(prefix):
        trimmed = base_url.rstrip("/")[: -len(prefix)]
        return f"; the base URL ends in {prefix!r}, but the kit adds {prefix}/... itself: try {trimmed}"
    return f"; the base URL has a path ({path!r}): the kit appends the spec's paths to it"


def not_an_a2v_service(base_url: str, api_key: str, spec: Spec, *, timeout: float = 10.0) -> str | None:
    """None when `base_url` speaks the A2V envelope (ping and one authenticated call), else why not."""
    ping_path = spec.operation("ping").path
    list_path = spec.operation("listCharacters").path
    url = base_url.rstrip("/")
    with httpx.Client(timeout=timeout) as client:
        try:
            ping = client.get(url + ping_path)
        except httpx.HTTPError as err:
            return f"cannot reach {base_url}: {type(err).__name__}: {err}"
        body = _envelope(ping)
        if ping.status_code != 200 or body is None or body.get("code") != 0:
            return (
                f"{base_url} is not an A2V service: GET {ping_path} answered {_what(ping)}, not the "
                f'envelope {{"code": 0, "message": ..., "data": {{"pong": true, ...}}}}'
                + _hint(base_url, spec)
            )
        try:
            listed = client.get(url + list_path, headers={"Authorization": f"Bearer {api_key}"})
        except httpx.HTTPError as err:
            return f"GET {list_path} on {base_url} failed: {type(err).__name__}: {err}"
        body = _envelope(listed)
        if body is None:
            return (
                f"{base_url} answers ping but not the API: GET {list_path} answered {_what(listed)}, "
                "not a JSON envelope" + _hint(base_url, spec)
            )
        if listed.status_code == 401:
            return (
                f"the API key is refused: GET {list_path} answered {_what(listed)} "
                "(check --api-key / A2V_API_KEY)"
            )
    return None


def announced_total(base_url: str, spec: Spec) -> int | None:
    """The `X-Ratelimit-Total` a ping announces (ping costs no allowance), or None."""
    try:
        ping = httpx.get(base_url.rstrip("/") + spec.operation("ping").path, timeout=10)
        return int(ping.headers["x-ratelimit-total"])
    except (httpx.HTTPError, KeyError, ValueError):
        return None
