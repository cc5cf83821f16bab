"""Persistence behind the `Store` protocol; `SqliteStore` (a file in the data dir) is the default."""

from __future__ import annotations

from mock_server.store.protocol import Delivery, DeliveryState, Store, Task
from mock_server.store.sqlite import SqliteStore, new_video_id

__all__ = ["Delivery", "DeliveryState", "SqliteStore", "Store", "Task", "new_video_id"]
