"""Tables of the stream (migration 0005_stream_duplicates).

- `duplicates`: one row per message whose event_id had already been accepted at another position
  (docs/contract.md §4: counted, never scored). Keyed by where the message was (topic, partition, offset), so
  a message delivered again after a crash is stored once; `first_*` names where the event was
  accepted. Together with `events` and `rejections` it accounts for every message the stream read:
  messages in = accepted + rejected + duplicates.

The model shares `Base` with pipeline/storage/models.py, so one metadata describes the whole schema.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.base import Base


class Duplicate(Base):
    __tablename__ = "duplicates"
    source: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(sa.String(128))
    first_partition: Mapped[int] = mapped_column(sa.Integer)
    first_position: Mapped[int] = mapped_column(sa.BigInteger)
    received_at: Mapped[datetime]

    __table_args__ = (sa.Index("ix_duplicates_event_id", "event_id"),)
