"""One source for URL validity: the `HttpUrl` schema of `openapi.yaml`.

`audio_url` and `callback_url` are valid exactly when they match `HttpUrl`'s pattern and length. The
pattern is written in the subset of regular expressions that means the same in ECMA-262 (what JSON
Schema and generated TypeScript/Java clients use), Python `re` and Java: explicit character classes (no
`\\s`, whose members differ between dialects) and `(?![\\d\\D])` ("no character follows") instead of `$`,
which Python and Java also match before a final line break. So Python's `re.search` here, the mock's
JSON Schema validation and any other tool agree on every string.

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
    "$": "Python and Java also match before a final line break; ECMA-262 does not",
}


@dataclass(frozen=True)
class UrlRule:
    """`HttpUrl`'s pattern and maximum length, applied with the semantics every dialect shares."""

    pattern: str
    max_length: int

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> UrlRule:
        """The rule of a spec document (`Spec.url_rule` is this for the loaded spec)."""
        schema = resolve_pointer(document, HTTP_URL_POINTER)
        return cls(pattern=str(schema["pattern"]), max_length=int(schema["maxLength"]))

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
        if self.compiled.search(value) is None:
            return (
                f"{value!r} is not an http or https URL of printable ASCII characters "
                f"(pattern {self.pattern})"
            )
        return None

    def is_valid(self, value: object) -> bool:
        return self.problem(value) is None
