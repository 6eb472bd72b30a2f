"""The whole schema: every table module imported once, so `metadata` holds every table.

Migrations' autogenerate comparison, `riskwatch db status`, the tests and the clean-ups read the tables
from here (`tables()`, in dependency order) rather than from a hand-kept list that a new table can miss.
A new table module is added to the imports below.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.storage import (  # noqa: F401 - imported for their tables
    alert_tables,
    case_tables,
    ingest_tables,
    link_tables,
    models,
    stream_tables,
)
from pipeline.storage.base import Base

metadata = Base.metadata


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before children."""
    return list(metadata.sorted_tables)
