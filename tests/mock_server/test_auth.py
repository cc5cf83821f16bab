"""mock_server/auth.py: what the authenticator keeps of the tokens it accepted, and for how long."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from mock_server.config import Settings
from mock_server.runtime.app import create_app

if TYPE_CHECKING:
    from pathlib import Path


def test_an_accepted_short_header_is_identified_again_without_parsing_and_a_long_one_is_not_kept(
    tmp_path: Path,
) -> None:
    services = create_app(Settings(data_dir=tmp_path, prewarm=False)).services  # open mode
    auth = services.auth
    long_header = "Bearer " + "k" * 16_000

    async def run() -> None:
        try:
            first = await auth.identify("Bearer short-key")
            assert await auth.identify("Bearer short-key") is first  # kept by the header as sent
            assert first.tenant is not None
            assert first.refusal is None
            assert (await auth.identify(long_header)).tenant is not None
            assert long_header not in auth._headers  # 16 KB headers are not kept (memory stays bounded)
            refused = await auth.identify("Basic abc")
            assert refused.refusal is not None
            assert set(auth._headers) == {"Bearer short-key"}  # a refused header leaves nothing
            auth.forget()
            assert not auth._headers
        finally:
            await services.store.aclose()

    asyncio.run(run())
