"""File URLs in answers, rewritten to pass through the proxy, and what the proxy handed out.

Answers carry signed URLs (`video_url`, `mask_video_url`, `preview_url`). The proxy rewrites each to
its own origin so the download passes through it and is judged too; the path and the query (`Expires`,
`Signature`) are kept, so a client that reads them still can. A URL under the upstream base maps to the
same path on the proxy; any other origin (an object store) to `/__a2v_proxy/<n>/<path>`, and only
origins seen in answers are forwarded to (the proxy is not an open relay).

Every URL handed out is remembered with its expiry: a download of a known path with a query that was
never handed out is an altered URL (the server must refuse it, A2V-FILE-TAMPER), and a download after
the expiry must be refused too (A2V-FILE-EXPIRES), and should not be tried (A2V-CLIENT-EXPIRED-URL).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FILE_FIELDS", "FileUrls", "HandedOut", "objects"]

#: Fields holding signed file URLs (the Video and Character schemas); `audio_url` and `callback_url`
#: point elsewhere and are left alone.
FILE_FIELDS = ("video_url", "mask_video_url", "preview_url")
PREFIX = "/__a2v_proxy/"
_MAX_REMEMBERED = 200_000


@dataclass(frozen=True)
class HandedOut:
    """One signed URL as an answer gave it."""

    kind: str  # the field: video_url, mask_video_url or preview_url
    expires_at: int | None
    video_id: str | None
    tenant: str | None


class FileUrls:
    def __init__(self, upstream_base: str) -> None:
        self.upstream_base = upstream_base.rstrip("/")
        parts = urlsplit(self.upstream_base)
        self.origins: list[str] = [f"{parts.scheme}://{parts.netloc}"]
        #: (origin, path) -> {query: HandedOut}
        self._handed: OrderedDict[tuple[str, str], dict[str, HandedOut]] = OrderedDict()

    # -- proxy path -> upstream URL ------------------------------------------------------------------
    def target(self, path: str, query: str) -> str | None:
        """The upstream URL a request to the proxy goes to; None for an unknown `/__a2v_proxy/` origin."""
        suffix = f"?{query}" if query else ""
        if path.startswith(PREFIX):
            index, _, rest = path[len(PREFIX) :].partition("/")
            if not index.isdigit() or int(index) >= len(self.origins):
                return None
            return f"{self.origins[int(index)]}/{rest}{suffix}"
        return f"{self.upstream_base}{path}{suffix}"

    # -- upstream URL -> proxy URL -------------------------------------------------------------------
    def proxied(self, url: str, proxy_origin: str) -> str:
        if url.startswith(self.upstream_base + "/"):
            return proxy_origin + url[len(self.upstream_base) :]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return url
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.origins:
            self.origins.append(origin)
        rest = url[len(origin) :]
        rest = rest if rest.startswith("/") else "/" + rest
        return f"{proxy_origin}{PREFIX}{self.origins.index(origin)}{rest}"

    def rewrite(self, body: Any, proxy_origin: str, tenant: str | None) -> bool:
        """Rewrite every file URL in a JSON answer in place, remembering each; True when one changed."""
        changed = False
        for item in objects(body):
            for name in FILE_FIELDS:
                url = item.get(name)
                if not isinstance(url, str) or not url:
                    continue
                self._remember(url, name, item, tenant)
                new = self.proxied(url, proxy_origin)
                if new != url:
                    item[name] = new
                    changed = True
        return changed

    def _remember(self, url: str, kind: str, item: dict[str, Any], tenant: str | None) -> None:
        parts = urlsplit(url)
        expires = item.get("url_expires_at") if kind != "preview_url" else None
        if not isinstance(expires, int):
            value = dict(parse_qsl(parts.query)).get("Expires", "")
            expires = int(value) if value.isdigit() else None
        video_id = item.get("video_id") if isinstance(item.get("video_id"), str) else None
        key = (f"{parts.scheme}://{parts.netloc}", parts.path)
        queries = self._handed.setdefault(key, {})
        self._handed.move_to_end(key)
        queries[parts.query] = HandedOut(kind, expires, video_id, tenant)
        while len(self._handed) > _MAX_REMEMBERED:
            self._handed.popitem(last=False)

    # -- what a download was for ---------------------------------------------------------------------
    def lookup(self, upstream_url: str) -> tuple[bool, HandedOut | None]:
        """(the path was handed out, the exact URL as handed out or None)."""
        parts = urlsplit(upstream_url)
        queries = self._handed.get((f"{parts.scheme}://{parts.netloc}", parts.path))
        if queries is None:
            return False, None
        return True, queries.get(parts.query)


def objects(body: Any) -> list[dict[str, Any]]:
    """The objects of an answer that may carry file URLs: `data`, or the videos or characters of a list."""
    if not isinstance(body, dict):
        return []
    data = body.get("data")
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    if isinstance(data, dict):
        return [data]
    return []
