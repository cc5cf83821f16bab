"""One source for URL validity: the `HttpUrl` schema of `openapi.yaml`.

`audio_url` and `callback_url` are valid exactly when they match `HttpUrl`'s pattern, do not match the
pattern of its `not` (a character outside printable ASCII) and are not too long. Both patterns are
written in the subset of regular expressions that means the same in ECMA-262 (what JSON Schema and
generated TypeScript clients use), Python `re`, Java and RE2 (Go): explicit character classes (no `\\s`,
whose members differ between dialects) and no lookaround (RE2 has none). The pattern ends with `$`,
which Python and Java also match before a final line break; the `not` refuses every line break, so
that difference cannot show. So Python's `re.search` here, the mock's JSON Schema validation and any
other tool agree on every string.

Example:
    >>> from a2v_spec import load_spec
    >>> rule = load_spec().url_rule
    >>> rule.is_valid("https://example.com/a.wav"), rule.is_valid("https://example.com/a.wav\\n")
    (True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from a2v_spec.pointer import resolve_pointer

__all__ = ["HTTP_URL_POINTER", "PORTABLE_PATTERN_FORBIDS", "UrlRule"]

#: Where the rule lives in the spec.
HTTP_URL_POINTER = "/components/schemas/HttpUrl"

#: Regex constructs whose meaning differs between ECMA-262, Python `re` and Java, with the reason.
PORTABLE_PATTERN_FORBIDS: dict[str, str] = {
    r"\s": "whitespace classes differ (Python adds \\x1c-\\x1f, ECMA-262 adds \\ufeff)",
    r"\S": "whitespace classes differ",
    r"\w": "word classes differ (Python and Java with flags match non-ASCII letters)",
    r"\W": "word classes differ",
    r"\b": "word boundaries follow \\w",
    r"\A": "not in ECMA-262",
    r"\Z": "means end-of-input in Python but before-final-line-break in Java; not in ECMA-262",
    r"\z": "not in ECMA-262 or Python",
    "(?=": "lookahead: RE2 (Go) has none",
    "(?!": "lookahead: RE2 (Go) has none",
    "(?<": "lookbehind or named group: RE2 (Go) has no lookbehind; named-group syntax differs",
}


@dataclass(frozen=True)
class UrlRule:
    """`HttpUrl`'s pattern, the pattern its `not` forbids and its maximum length, applied with the
    semantics every dialect shares."""

    pattern: str
    max_length: int
    forbidden: str | None = None

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> UrlRule:
        """The rule of a spec document (`Spec.url_rule` is this for the loaded spec)."""
        schema = resolve_pointer(document, HTTP_URL_POINTER)
        forbidden = schema.get("not", {}).get("pattern")
        return cls(
            pattern=str(schema["pattern"]),
            max_length=int(schema["maxLength"]),
            forbidden=None if forbidden is None else str(forbidden),
        )

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def problem(self, value: object) -> str | None:
        """Why `value` is not a valid URL, or None when it is."""
        if not isinstance(value, str):
            return f"{value!r} is not a string"
        if len(value) > self.max_length:
            return f"is {len(value)} characters long; at most {self.max_length} are allowed"
        # JSON Schema's `pattern` is a search, not a full match: the pattern anchors itself.
        if self.forbidden is not None and (bad := re.search(self.forbidden, value)) is not None:
            return (
                f"{value!r} holds {bad.group()!r} at {bad.start()}; only printable ASCII is allowed "
                f"(percent-encode anything else)"
            )
        if self.compiled.search(value) is None:
            return (
                f"{value!r} is not an http or https URL of printable ASCII characters "
                f"(pattern {self.pattern})"
            )
        return None

    def is_valid(self, value: object) -> bool:
        return self.problem(value) is None
