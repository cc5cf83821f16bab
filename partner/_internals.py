"""The few places the fixtures reach into a running mock, beyond its admin API.

The admin API has no knob for the lifetime of signed URLs (it is a start-up setting, `limits.
url_ttl_seconds`), but a session-scoped server cannot be restarted per test. Both fixtures run the
mock's app in this process, so they change the TTL on the app's URL signer directly. The signer is
found by type rather than by attribute name, so the lookup survives renames inside the mock.
"""

from __future__ import annotations

from typing import Any

__all__ = ["find_signer"]


def find_signer(app: Any) -> Any:
    """The `mock_server.files.Signer` that `app` signs its file URLs with."""
    from mock_server.files import Signer

    seen: set[int] = set()
    frontier: list[Any] = [getattr(app, "state", None)]
    for _depth in range(4):
        found: list[Any] = []
        for node in frontier:
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, Signer):
                return node
            values = _attributes(node)
            for value in values:
                if isinstance(value, Signer):
                    return value
            found.extend(v for v in values if _worth_visiting(v))
        frontier = found
    raise LookupError(f"no URL signer found in {app!r}'s state")


def _attributes(node: Any) -> list[Any]:
    state = getattr(node, "_state", None)
    if isinstance(state, dict):
        return list(state.values())
    if isinstance(node, dict):
        return list(node.values())
    try:
        return list(vars(node).values())
    except TypeError:
        return []


def _worth_visiting(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith(("mock_server", "starlette.datastructures")) or isinstance(value, dict)
