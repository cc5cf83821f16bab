"""The kit's version, as installed (one number for `a2v-mock`, `a2v-render` and `a2v-contract`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["kit_version", "version_line"]


def kit_version() -> str:
    """The installed distribution's version; `0+unknown` when run from a checkout that was never installed."""
    try:
        return version("a2v-kit")
    except PackageNotFoundError:
        return "0+unknown"


def version_line(program: str) -> str:
    """What `--version` prints, e.g. `a2v-mock 0.1.0 (a2v-kit)`."""
    return f"{program} {kit_version()} (a2v-kit)"
