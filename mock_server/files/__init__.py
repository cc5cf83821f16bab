"""Result files: the `FileStore` protocol (a local directory by default), URL signing, the endpoint."""

from __future__ import annotations

from mock_server.files.local import LocalFileStore
from mock_server.files.protocol import FileStore
from mock_server.files.signing import Signer

__all__ = ["FileStore", "LocalFileStore", "Signer"]
