"""One server per data directory: an exclusive `flock` on `<data_dir>/server.lock`, holding its pid.

Two servers on one directory would both resume the same unfinished tasks and deliver the same callbacks.
The lock is the kernel's, so it is released when the holder dies however it dies (`kill -9` included):
a restart never has to clean up after a crash.

Example:
    >>> lock = DataDirLock(Path("./a2v-data"))                                  # doctest: +SKIP
    >>> lock.acquire()       # raises DataDirInUse("... in use by another a2v-mock (pid 4242)")
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import TYPE_CHECKING

from mock_server.private import FILE_MODE, private_dir

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DataDirInUse", "DataDirLock"]


class DataDirInUse(RuntimeError):
    """Another live server holds the data directory."""


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "server.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock for this process, or raise `DataDirInUse` naming the holder's pid."""
        if self._fd is not None:
            return
        private_dir(self.data_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "another process"
            raise DataDirInUse(
                f"data directory {self.data_dir} is in use by another a2v-mock ({who}); "
                "stop it or choose another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
