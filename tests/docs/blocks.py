"""Code blocks of README.md and docs/*.md, with what each one is (so a test can run it as written).

A fenced block in `bash`, `sh`, `console`, `python` or `yaml` is code. The line just before the fence may
say how it runs, as an HTML comment (invisible on GitHub):

    <!-- doc-test: setup -->          the set-up command: its install part is measured by
                                      benchmarks/readme.py on a fresh clone; its final command (the
                                      mock) is what the test starts for the blocks after it
    <!-- doc-test: server -->         starts a mock in the foreground: the test runs it in the
                                      background, waits for its banner, and uses it for what follows
    <!-- doc-test: config -->         a mock config file: loaded with `Settings.from_yaml`
    <!-- doc-test: characters -->     a characters file: loaded with `load_characters`
    <!-- doc-test: skip REASON -->    not run, for the reason given (checked to be there)

Without a comment, shell blocks run in one bash session per page (variables carry over, as in a
terminal), `console` blocks run their `$ ` lines, `python` blocks run with the venv's Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CODE_LANGUAGES", "ROOT", "Block", "blocks", "pages"]

ROOT = Path(__file__).resolve().parents[2]
CODE_LANGUAGES = ("bash", "sh", "console", "python", "yaml")
_FENCE = re.compile(r"^```(\w*)\s*$")
_TAG = re.compile(r"^<!--\s*doc-test:\s*(\w+)\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    code: str
    tag: str = ""
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """README.md and every page under docs/ (the upstream reference is quoted text, not ours)."""
    return [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        language = opened[1]
        tag = _TAG.match(lines[index - 1]) if index > 0 else None
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if language in CODE_LANGUAGES:
            found.append(
                Block(
                    page=str(path.relative_to(ROOT)),
                    line=index + 1,
                    language=language,
                    code="\n".join(lines[index + 1 : end]) + "\n",
                    tag=tag[1] if tag else "",
                    reason=tag[2] if tag else "",
                )
            )
        index = end + 1
    return found
