"""The database model (SQLAlchemy 2 declarative): what the dashboards, exports and alert workflow read.

Times are `timestamptz` on PostgreSQL and UTC on SQLite. JSON columns are JSONB on PostgreSQL.
Every table is written idempotently (storage/writer.py): its natural key makes a second write of the
same input a no-op, so replaying a file twice or re-delivering a Kafka batch leaves the same rows.

The migrations (storage/migrations/versions) are the source of truth for the deployed schema; this
module mirrors them for queries and for the writer, and a test checks the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.base import Base, JSONType

ALERT_STATUSES = ("open", "acknowledged", "resolved", "closed")
OPEN_ALERT_STATUSES = ("open", "acknowledged")
ALERT_ACTIONS = ("raised", "upgraded", "notified", "acknowledged", "escalated", "resolved", "closed")


class Event(Base):
    """An accepted event with its full JSON document (docs/contract.md §1)."""

    __tablename__ = "events"
    event_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    type: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(sa.String(64))
    building: Mapped[str | None] = mapped_column(sa.String(64))
    location_id: Mapped[str | None] = mapped_column(sa.String(128))
    doc: Mapped[dict[str, Any]]

    __table_args__ = (
        sa.Index("ix_events_kind_type_occurred_at", "kind", "type", "occurred_at"),
        sa.Index("ix_events_occurred_at", "occurred_at"),
        sa.Index("ix_events_building_occurred_at", "building", "occurred_at"),
    )


class Rejection(Base):
    """A message the contract refused, with its reason and where it came from (topic/partition/offset,
    or file name/line). `raw` holds the text when it is UTF-8, else `raw_bytes` the bytes: at most the
    first 64 KiB of the original (pipeline.rawcopy), whose whole length and SHA-256 are `raw_length`
    and `raw_sha256`."""

    __tablename__ = "rejections"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(255))
    partition: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    position: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(128))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    event_id: Mapped[str | None] = mapped_column(sa.String(128))
    raw: Mapped[str | None] = mapped_column(sa.Text)
    raw_bytes: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    received_at: Mapped[datetime]
    raw_length: Mapped[int | None] = mapped_column(sa.BigInteger)
    raw_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.UniqueConstraint("source", "partition", "position", name="uq_rejections_source_position"),
        sa.Index("ix_rejections_received_at", "received_at"),
        sa.Index("ix_rejections_reason", "reason"),
    )


class Contribution(Base):
    """One rule firing for one entity (docs/contract.md §4). `id` hashes entity, rule, firing time and evidence."""

    __tablename__ = "contributions"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(200))
    rule: Mapped[str] = mapped_column(sa.String(128))
    category: Mapped[str | None] = mapped_column(sa.String(64))
    points: Mapped[float] = mapped_column(sa.Float)
    fired_at: Mapped[datetime]
    events: Mapped[list[Any]]
    half_life_s: Mapped[float] = mapped_column(sa.Float)
    building: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_contributions_entity_fired_at", "entity", "fired_at"),
        sa.Index("ix_contributions_fired_at", "fired_at"),
    )


class Entity(Base):
    """A scored entity (docs/contract.md §2): `ref` is `<type>:<id>`; criticality is the area multiplier."""

    __tablename__ = "entities"
    ref: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    id: Mapped[str] = mapped_column(sa.String(160))
    building: Mapped[str | None] = mapped_column(sa.String(64))
    criticality: Mapped[float] = mapped_column(sa.Float, server_default="1.0")

    __table_args__ = (sa.Index("ix_entities_type_building", "type", "building"),)


class Alert(Base):
    """The current state of an alert (docs/contract.md §5); its every change is in alert_history."""

    __tablename__ = "alerts"
    alert_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[str] = mapped_column(sa.String(32))
    assignee: Mapped[str | None] = mapped_column(sa.String(64))
    rules: Mapped[list[Any]]
    score: Mapped[float | None] = mapped_column(sa.Float)
    raised_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), server_default="open")
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.CheckConstraint(f"status IN {ALERT_STATUSES!r}", name="ck_alerts_status"),
        sa.Index("ix_alerts_status_level", "status", "level"),
        sa.Index("ix_alerts_entity", "entity"),
        sa.Index("ix_alerts_raised_at", "raised_at"),
    )


class AlertHistory(Base):
    """Append-only record of every alert state change, with who (`actor`) and when (`at`)."""

    __tablename__ = "alert_history"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    alert_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))
    level: Mapped[str] = mapped_column(sa.String(32))
    actor: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        sa.UniqueConstraint("alert_id", "action", "at", "level", name="uq_alert_history_change"),
        sa.CheckConstraint(f"action IN {ALERT_ACTIONS!r}", name="ck_alert_history_action"),
        sa.Index("ix_alert_history_at", "at"),
    )


class ProcessedPosition(Base):
    """The stream sink's next offset per topic partition, written in the same transaction as its data."""

    __tablename__ = "processed_positions"
    topic: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    next_offset: Mapped[int] = mapped_column(sa.BigInteger)
    updated_at: Mapped[datetime]


class AuditLog(Base):
    """Who did what to the stored data (purge, manual alert closing, ...): counts, never contents."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # Append-only: triggers refuse UPDATE and DELETE (migration 0003_privacy); write via pipeline.audit.
    __table_args__ = (sa.Index("ix_audit_log_at", "at"),)


class Level(Base):
    """The rules' levels and thresholds (config/rules.yaml), so SQL can judge levels like the engine."""

    __tablename__ = "levels"
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    threshold: Mapped[float] = mapped_column(sa.Float)


ROLES = ("viewer", "leader", "analyst", "admin")


class PersonRecord(Base):
    """The persons registry: a person's details (name, phone) as one Fernet token, never in clear.
    Read only through pipeline.persons.registry, which writes an audit record for every read."""

    __tablename__ = "person_registry"
    person_id: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    key_id: Mapped[str] = mapped_column(sa.String(16))
    updated_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token, stored as its sha256 only (pipeline/auth.py)."""

    __tablename__ = "api_tokens"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(16))
    leader_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: never (migration 0013)

    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_api_tokens_role"),
        sa.Index("ix_api_tokens_actor", "actor"),
    )
