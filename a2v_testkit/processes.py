"""A server run as a child process (moto's S3 server, Prism, an `a2v-mock`): started, awaited until it
answers, and always stopped, so a test never leaks one.

Example::

    with serving(["prism", "mock", "openapi.yaml", "-p", "4010"], ready=lambda: answers(url)):
        run_the_kit(url)
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = ["serving", "stop"]


@contextlib.contextmanager
def serving(
    args: Sequence[str], ready: Callable[[], bool], *, name: str | None = None, timeout: float = 60.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args` until the block ends; enter only once `ready()` is true (polled every 50 ms).

    RuntimeError, naming the program and its exit status, when it exits or is not ready within
    `timeout` seconds."""
    label = name or args[0]
    process = subprocess.Popen(list(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{label} exited with status {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label} was not ready within {timeout:g} s")
            time.sleep(0.05)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds; reaps it either way."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
