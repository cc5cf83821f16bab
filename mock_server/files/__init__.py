"""Result files: the `FileStore` protocol, URL signing and the endpoint; `files.local.LocalFileStore`
(a directory) is the default implementation, `scale.s3` the shared one."""

from __future__ import annotations

from mock_server.files.protocol import FileStore
from mock_server.files.signing import Signer

__all__ = ["FileStore", "Signer"]
