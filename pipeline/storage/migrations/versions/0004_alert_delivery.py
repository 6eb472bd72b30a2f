"""Alert delivery: the notification log (pipeline/storage/alert_tables.py).

Revision ID: 0004_alert_delivery
Revises: 0003_privacy
Create Date: 2024-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_alert_delivery"
down_revision = "0003_privacy"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("history_id", sa.BigInteger, nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("leader_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("message_id", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("last_error", sa.String(500)),
        sa.UniqueConstraint("history_id", "leader_id", "channel", name="uq_notifications_notice"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_notifications_status"),
    )
    op.create_index("ix_notifications_status_next_attempt_at", "notifications", ["status", "next_attempt_at"])
    op.create_index("ix_notifications_alert_id", "notifications", ["alert_id"])


def downgrade() -> None:
    op.drop_table("notifications")
