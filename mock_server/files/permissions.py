"""Owner-only files: the data directory holds the signing secret, tokens and tenants' videos.

Directories are made 0700 and files 0600 whatever the process umask (an in-process server in a test
shares its umask with everything else), so nothing of a tenant is readable by another local user.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` and any missing parents made; `path` itself set to 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` created empty if missing, and set to 0600 (before any secret is written to it)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    os.chmod(path, FILE_MODE)
    return path
