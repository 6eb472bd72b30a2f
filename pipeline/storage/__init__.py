"""Storage: the database model, migrations, the idempotent batched writer, SQL scores and retention.

    from pipeline.storage import Writer, open_database, StorageUnavailable, SchemaOutdated

PostgreSQL in production, SQLite as the embedded default, through SQLAlchemy 2 and Alembic.
The names below are loaded on first use (PEP 562), so a command that only reads the database does
not pay for the writer's COPY machinery at start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.storage.db import SchemaOutdated as SchemaOutdated
    from pipeline.storage.db import StorageUnavailable as StorageUnavailable
    from pipeline.storage.db import mask_url as mask_url
    from pipeline.storage.db import open_database as open_database
    from pipeline.storage.rows import EntityRecord as EntityRecord
    from pipeline.storage.rows import RejectedMessage as RejectedMessage
    from pipeline.storage.writer import BatchResult as BatchResult
    from pipeline.storage.writer import Writer as Writer

_WHERE = {
    "SchemaOutdated": "pipeline.storage.db",
    "StorageUnavailable": "pipeline.storage.db",
    "mask_url": "pipeline.storage.db",
    "open_database": "pipeline.storage.db",
    "EntityRecord": "pipeline.storage.rows",
    "RejectedMessage": "pipeline.storage.rows",
    "BatchResult": "pipeline.storage.writer",
    "Writer": "pipeline.storage.writer",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'pipeline.storage' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
