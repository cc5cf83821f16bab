"""The error-code catalog (`x-a2v-error-catalog`), one typed row per code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorDef:
    """One row of the catalog. `http_status` is None for codes that only end tasks."""

    code: int
    http_status: int | None
    message: str
    meaning: str
    when: str

    @property
    def is_task_error(self) -> bool:
        return self.http_status is None


def parse_catalog(rows: list[dict[str, Any]]) -> dict[int, ErrorDef]:
    """Index the catalog by code, refusing duplicates so two rows can never disagree."""
    catalog: dict[int, ErrorDef] = {}
    for row in rows:
        entry = ErrorDef(
            code=int(row["code"]),
            http_status=None if row["http_status"] is None else int(row["http_status"]),
            message=str(row["message"]),
            meaning=str(row["meaning"]),
            when=str(row["when"]),
        )
        if entry.code in catalog:
            raise ValueError(f"x-a2v-error-catalog lists code {entry.code} twice")
        catalog[entry.code] = entry
    return catalog
