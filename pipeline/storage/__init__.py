"""Storage: the database model, migrations, the idempotent batched writer, SQL scores and retention.

    from pipeline.storage import Writer, open_database, StorageUnavailable, SchemaOutdated

PostgreSQL in production, SQLite as the embedded default, through SQLAlchemy 2 and Alembic.
"""

from pipeline.storage.db import SchemaOutdated, StorageUnavailable, mask_url, open_database
from pipeline.storage.rows import EntityRecord, RejectedMessage
from pipeline.storage.writer import BatchResult, Writer

__all__ = [
    "BatchResult",
    "EntityRecord",
    "RejectedMessage",
    "SchemaOutdated",
    "StorageUnavailable",
    "Writer",
    "mask_url",
    "open_database",
]
