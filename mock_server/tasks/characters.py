"""The characters a task can use (the renderer's built-ins plus an optional file) and their previews.

A preview PNG is drawn on first request, once, and kept in the file store.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from pathlib import Path

    from mock_server.files import FileStore

__all__ = ["Characters"]


class Characters:
    def __init__(self, characters_file: Path | None, files: FileStore, preview_size: int) -> None:
        from reference_renderer import load_characters

        self.file = None if characters_file is None else str(characters_file)
        self.by_id: dict[str, Any] = dict(load_characters(self.file))
        self.files = files
        self.preview_size = preview_size
        self._lock = asyncio.Lock()

    async def reload(self, characters_file: Path | None) -> None:
        """Read the characters again (`--reload`); previews are drawn afresh, as they may have changed.
        A file that does not load raises the renderer's `CharacterError` and changes nothing."""
        from reference_renderer import load_characters

        file = None if characters_file is None else str(characters_file)
        by_id = dict(load_characters(file))
        self.file, self.by_id = file, by_id
        await self.files.clear("previews")

    def __contains__(self, model_id: object) -> bool:
        return model_id in self.by_id

    def all(self) -> list[Any]:
        return list(self.by_id.values())

    async def ensure_preview(self, model_id: str) -> None:
        """Draw a character's preview PNG once, on first request."""
        name = f"previews/{model_id}.png"
        if model_id not in self.by_id or await self.files.exists(name):
            return
        async with self._lock:
            if await self.files.exists(name):
                return
            from reference_renderer import render_preview

            partial = self.files.staging(name)
            character, size = self.by_id[model_id], self.preview_size
            await anyio.to_thread.run_sync(lambda: render_preview(character, str(partial), size=size))
            await self.files.put(name, partial)
