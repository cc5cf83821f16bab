"""The checks an `http(s)` URL from a client passes beyond the spec's `pattern`.

The spec's pattern ends in `$`, which Python's `re` (used by jsonschema) also matches before a final
newline, and `[^\\s]` lets NUL and other control characters through; a lone surrogate (valid in JSON
escapes, not in UTF-8) breaks every later encoding. Such values must be 400/1003 at the door, not a
task that ends 1500 later. `url_problem` says what is wrong, or None.

Example:
    >>> url_problem("https://example.com/a.wav") is None
    True
    >>> url_problem("https://example.com/a.wav\\n")
    'contains a control character or whitespace'
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["has_lone_surrogate", "url_problem"]


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def url_problem(url: str) -> str | None:
    if has_lone_surrogate(url):
        return "contains a lone surrogate"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "contains a control character or whitespace"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "has no host"
    if port == 0:
        return "has port 0"
    return None
