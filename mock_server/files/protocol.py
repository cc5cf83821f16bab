"""The file store: where finished videos and character previews live, and how they are served.

Names are `<kind>/<file>` (`videos/<id>.mp4`, `previews/<model>.png`). Producers write a file to a local
`staging` path and `put` it; the `/files` endpoint checks the URL's signature and hands the request to
`response`, so an object store can answer with a redirect to its own signed URL instead of the bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["AUDIO_TYPES", "CONTENT_TYPES", "FileStore"]

#: Audio a file may be (what the renderer decodes, so what an upload may be): the suffix picks the
#: Content-Type it is served with.
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
}
#: What every file store serves each kind of file as (results, previews, uploads), by suffix.
CONTENT_TYPES = {".mp4": "video/mp4", ".png": "image/png", **AUDIO_TYPES}


class FileStore(Protocol):
    def staging(self, name: str) -> Path:
        """A local path to write `name` to before `put` (same file system as the store, when local)."""
        ...

    async def sweep_staging(self) -> int:
        """Remove what a crashed run left in staging (called at start: embedded under the data directory
        lock; scaled out, where replicas may share a data directory, only what this process or a dead
        one left, `ProcessStaging`); returns how many files went."""
        ...

    async def put(self, name: str, source: Path) -> None:
        """Make `source` the file `name` (atomically: readers see the old file or the new one)."""
        ...

    async def exists(self, name: str) -> bool: ...

    async def delete(self, name: str) -> None:
        """Remove `name`; a missing file is not an error."""
        ...

    async def clear(self, kind: str) -> None:
        """Remove every file of `kind` (`videos`)."""
        ...

    async def response(self, request: Request, name: str) -> Response:
        """The answer to a (signature-checked) GET or HEAD of `name`; `NoSuchFile` when it is absent."""
        ...
