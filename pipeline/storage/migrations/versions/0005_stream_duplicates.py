"""Stream: the duplicates table (pipeline/storage/stream_tables.py).

Revision ID: 0005_stream_duplicates
Revises: 0004_alert_delivery
Create Date: 2024-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_stream_duplicates"
down_revision = "0004_alert_delivery"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "duplicates",
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("first_partition", sa.Integer, nullable=False),
        sa.Column("first_position", sa.BigInteger, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", "partition", "position"),
    )
    op.create_index("ix_duplicates_event_id", "duplicates", ["event_id"])


def downgrade() -> None:
    op.drop_table("duplicates")
