"""The declarative base every table module builds on, and the column types they share.

Table modules (models.py for the core, *_tables.py for each later area) import `Base` from here and
nothing from each other; pipeline/storage/schema.py imports them all, so no module imports in a cycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TZDateTime = sa.DateTime(timezone=True)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: TZDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}
    # Every model here maps one declared Table (never a join or a select), so code may call
    # Model.__table__.insert()/.delete(); SQLAlchemy types the attribute as the wider FromClause.
    __table__: ClassVar[sa.Table]
