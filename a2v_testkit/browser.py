"""Debian's Chromium as the browser tests and the console benchmark launch it.

One place for the path and the flags, so the benchmark measures the browser the tests drive:
headless, no network of its own, no GPU, no sandbox inside containers. `playwright install` is
never used (`scripts/install-browser` installs the Debian package).
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
