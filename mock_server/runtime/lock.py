"""One server per data directory: an exclusive `flock` on `<data_dir>/server.lock`, holding its pid.

Two servers on one directory would both resume the same unfinished tasks and deliver the same callbacks.
The lock is the kernel's, so it is released when the holder dies however it dies (`kill -9` included):
a restart never has to clean up after a crash.

`a2v-mock` takes the lock in its start-up check (so a second server gets one line and exit 2) and
*hands it over* to the server's lifespan (`hand_over`, then the lifespan's `acquire` adopts it): the
lock is never released in between, so of two servers started at the same instant exactly one holds it
and the other is refused by the check. A second app in the same process finds no hand-over waiting and
is refused like another process.

Example:
    >>> lock = DataDirLock(Path("./a2v-data"))                                  # doctest: +SKIP
    >>> lock.acquire()       # raises DataDirInUse("... in use by another a2v-mock (pid 4242)")
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from typing import TYPE_CHECKING, ClassVar

from mock_server.files.permissions import FILE_MODE, private_dir

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DataDirInUse", "DataDirLock"]


class DataDirInUse(RuntimeError):
    """Another live server holds the data directory."""


class DataDirLock:
    #: Locks handed over and not yet adopted: the lock file's resolved path -> the descriptor holding it.
    #: Process-wide because the `flock` it stands for is (one per open file description of this process).
    _handed: ClassVar[dict[str, int]] = {}
    _handed_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "server.lock"
        self._fd: int | None = None

    def _key(self) -> str:
        return os.path.realpath(self.path)

    def hand_over(self) -> None:
        """Keep holding the lock for the next `acquire` of the same directory in this process (the
        server's lifespan), instead of releasing it: nobody can take it in between."""
        if self._fd is None:
            raise RuntimeError("hand_over() needs the lock held: call acquire() first")
        with self._handed_guard:
            previous = self._handed.pop(self._key(), None)
            self._handed[self._key()] = self._fd
        if previous is not None and previous != self._fd:
            os.close(previous)
        self._fd = None

    def acquire(self) -> None:
        """Take the lock for this process (or adopt the one handed over), or raise `DataDirInUse`
        naming the holder's pid."""
        if self._fd is not None:
            return
        private_dir(self.data_dir)
        with self._handed_guard:
            handed = self._handed.pop(self._key(), None)
        if handed is not None:
            self._fd = handed
            return
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
