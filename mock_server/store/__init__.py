"""Persistence behind the `Store` protocol; `store.sqlite.SqliteStore` (a file in the data dir) is the
default, `scale.postgres` the shared one. Only the protocol is exported: the request path never
names an implementation."""

from __future__ import annotations

from mock_server.store.protocol import Delivery, DeliveryState, Store, Task, new_video_id

__all__ = ["Delivery", "DeliveryState", "Store", "Task", "new_video_id"]
