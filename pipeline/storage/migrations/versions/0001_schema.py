"""Schema: events, rejections, contributions, entities, alerts and their history, positions, audit log.

Revision ID: 0001_schema
Revises:
Create Date: 2024-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_schema"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("building", sa.String(64)),
        sa.Column("location_id", sa.String(128)),
        sa.Column("doc", JSON, nullable=False),
    )
    op.create_index("ix_events_kind_type_occurred_at", "events", ["kind", "type", "occurred_at"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    op.create_index("ix_events_building_occurred_at", "events", ["building", "occurred_at"])

    op.create_table(
        "rejections",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False, server_default="0"),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("event_id", sa.String(128)),
        sa.Column("raw", sa.Text),
        sa.Column("raw_bytes", sa.LargeBinary),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("source", "partition", "position", name="uq_rejections_source_position"),
    )
    op.create_index("ix_rejections_received_at", "rejections", ["received_at"])
    op.create_index("ix_rejections_reason", "rejections", ["reason"])

    op.create_table(
        "contributions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("fired_at", TS, nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("half_life_s", sa.Float, nullable=False),
        sa.Column("building", sa.String(64)),
    )
    op.create_index("ix_contributions_entity_fired_at", "contributions", ["entity", "fired_at"])
    op.create_index("ix_contributions_fired_at", "contributions", ["fired_at"])

    op.create_table(
        "entities",
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("id", sa.String(160), nullable=False),
        sa.Column("building", sa.String(64)),
        sa.Column("criticality", sa.Float, nullable=False, server_default="1.0"),
    )
    op.create_index("ix_entities_type_building", "entities", ["type", "building"])

    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("assignee", sa.String(64)),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved', 'closed')", name="ck_alerts_status"),
    )
    op.create_index("ix_alerts_status_level", "alerts", ["status", "level"])
    op.create_index("ix_alerts_entity", "alerts", ["entity"])
    op.create_index("ix_alerts_raised_at", "alerts", ["raised_at"])

    op.create_table(
        "alert_history",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", JSON),
        sa.UniqueConstraint("alert_id", "action", "at", "level", name="uq_alert_history_change"),
        sa.CheckConstraint(
            "action IN ('raised', 'upgraded', 'notified', 'acknowledged', 'escalated', 'resolved', 'closed')",
            name="ck_alert_history_action",
        ),
    )
    op.create_index("ix_alert_history_at", "alert_history", ["at"])

    op.create_table(
        "processed_positions",
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", JSON),
    )


def downgrade() -> None:
    for table in ("audit_log", "processed_positions", "alert_history", "alerts", "entities",
                  "contributions", "rejections", "events"):
        op.drop_table(table)
