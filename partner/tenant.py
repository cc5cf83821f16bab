"""What both fixtures give a test alike: a token (its own tenant), its header, and clients that use it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from partner.admin import Admin

__all__ = ["Tenant"]


class Tenant:
    """A fixture's token for the mock at `base_url`, and the `admin` handle scoped to it."""

    base_url: str
    token: str
    admin: Admin

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def new_token(self) -> str:
        """Switch to a fresh token (a fresh tenant) and return it."""
        self.token = secrets.token_hex(16)
        self.admin.token = self.token
        return self.token

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for `base_url` with this fixture's token."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, **kwargs)
