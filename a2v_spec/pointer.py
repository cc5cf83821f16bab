"""JSON pointers (RFC 6901) and `$ref`s within one document: the only walker the project has."""

from __future__ import annotations

from typing import Any


def escape(part: str) -> str:
    """One reference token: `~` -> `~0`, `/` -> `~1` (in that order, as RFC 6901 section 3 says)."""
    return part.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The inverse of `escape`: `~1` -> `/` first, then `~0` -> `~` (RFC 6901 section 4)."""
    return token.replace("~1", "/").replace("~0", "~")


def join(*parts: str | int) -> str:
    """A pointer from raw parts: `join("paths", "/v1/ping", "get")` -> `/paths/~1v1~1ping/get`."""
    return "".join(f"/{escape(str(part))}" for part in parts)


def walk(node: Any, pointer: str = "") -> list[tuple[str, Any]]:
    """Every (pointer, value) pair under `node`, itself first, in document order."""
    found = [(pointer, node)]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(walk(value, f"{pointer}/{escape(str(key))}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(walk(value, f"{pointer}/{index}"))
    return found


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at `pointer` (with or without a leading `#`); KeyError naming the pointer if absent."""
    target = document
    text = pointer.removeprefix("#")
    if not text:
        return target
    if not text.startswith("/"):
        raise KeyError(f"not a JSON pointer: {pointer!r}")
    for token in text[1:].split("/"):
        key = unescape(token)
        try:
            target = target[int(key)] if isinstance(target, list) else target[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KeyError(f"{pointer!r} does not resolve: no {key!r}") from None
    return target


def resolve_refs(document: Any, node: Any) -> Any:
    """Follow local `$ref`s from `node` until a value that is not a reference."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise ValueError(f"$ref cycle at {ref!r}")
        seen.add(ref)
        node = resolve_pointer(document, ref)
    return node


def inline_refs(document: Any, node: Any, depth: int = 0) -> Any:
    """`node` with every local `$ref` replaced by its target, for a validator that resolves nothing per
    value (fast). A `$ref` with siblings becomes `allOf` of both, as JSON Schema 2020-12 reads it. Only
    for schemas that do not recurse (request schemas): a cycle raises ValueError."""
    if depth > 32:
        raise ValueError("the schema nests $refs too deeply (recursive?)")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = inline_refs(document, resolve_pointer(document, ref), depth + 1)
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {"allOf": [target, inline_refs(document, rest, depth + 1)]} if rest else target
        return {k: inline_refs(document, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_refs(document, v, depth + 1) for v in node]
    return node
