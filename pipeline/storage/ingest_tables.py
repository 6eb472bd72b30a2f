"""Tables of HTTP ingest and of the one-process deployment (migration 0010_ingest).

- `ingest_sources`: one row per source token (`riskwatch sources create NAME --source VALUE`). Only
  the token's sha256 is stored; the token is bound to one event `source` (docs/contract.md §9).
- `serve_inbox`: `riskwatch serve`'s accept log. An HTTP request's accepted events go into `events`
  (first copy wins) and one inbox row each, duplicates included, in ONE transaction: that commit is
  what "accepted" means. `seq` is the order the engine applies them in; the engine's processed
  position is `processed_positions` ("serve.inbox", 0, next seq).
- `serve_state`: the engine state of `riskwatch serve`, per entity (plus "~clock"), written in the
  same transaction as the outputs and the position it belongs to, so a restart resumes exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.base import Base


class IngestSource(Base):
    __tablename__ = "ingest_sources"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_ingest_sources_name", "name"),)


class ServeInbox(Base):
    __tablename__ = "serve_inbox"
    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                                     autoincrement=True)
    event_id: Mapped[str] = mapped_column(sa.String(128))
    received_at: Mapped[datetime]

    __table_args__ = (sa.Index("ix_serve_inbox_event_id_seq", "event_id", "seq"),)


class ServeState(Base):
    __tablename__ = "serve_state"
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    value: Mapped[bytes] = mapped_column(sa.LargeBinary)


SOURCES = cast(sa.Table, IngestSource.__table__)
INBOX = cast(sa.Table, ServeInbox.__table__)
INBOX_POSITION_TOPIC = "serve.inbox"   # processed_positions key (topic, partition 0) of serve's engine loop
STATE = cast(sa.Table, ServeState.__table__)
