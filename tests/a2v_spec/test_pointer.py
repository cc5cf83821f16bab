"""The one JSON-pointer and `$ref` walker."""

from __future__ import annotations

import pytest

from a2v_spec import escape, join, resolve_pointer, resolve_refs, unescape, walk

DOC = {
    "paths": {"/v1/ping": {"get": {"ok": 1}}},
    "a~b": {"c/d": [10, 20]},
    "ref": {"$ref": "#/paths/~1v1~1ping/get"},
    "chain": {"$ref": "#/ref"},
    "loop": {"$ref": "#/loop"},
}


@pytest.mark.parametrize(
    ("raw", "token"), [("/v1/ping", "~1v1~1ping"), ("a~b", "a~0b"), ("~1", "~01"), ("plain", "plain")]
)
def test_escape_round_trips(raw: str, token: str) -> None:
    assert escape(raw) == token
    assert unescape(token) == raw


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("", DOC),
        ("#/paths/~1v1~1ping/get/ok", 1),
        ("/a~0b/c~1d/1", 20),
        (join("paths", "/v1/ping", "get"), {"ok": 1}),
    ],
)
def test_resolve_pointer(pointer: str, value: object) -> None:
    assert resolve_pointer(DOC, pointer) == value


@pytest.mark.parametrize("pointer", ["/paths/v1/ping", "/a~0b/c~1d/5", "no-slash"])
def test_missing_pointer_names_itself(pointer: str) -> None:
    with pytest.raises(KeyError, match=r"pointer|resolve"):
        resolve_pointer(DOC, pointer)


def test_refs_are_followed_through_a_chain() -> None:
    assert resolve_refs(DOC, DOC["chain"]) == {"ok": 1}


def test_ref_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        resolve_refs(DOC, DOC["loop"])


def test_walk_yields_every_node_with_a_pointer_that_resolves_to_it() -> None:
    found = walk(DOC)

    assert found[0] == ("", DOC)
    assert ("/a~0b/c~1d/1", 20) in found
    assert len(found) == 15
    for pointer, node in found:
        assert resolve_pointer(DOC, pointer) == node
