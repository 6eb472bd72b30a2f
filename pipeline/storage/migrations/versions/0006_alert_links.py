"""Alert page: one-time link tokens already used (pipeline/storage/link_tables.py).

Revision ID: 0006_alert_links
Revises: 0005_stream_duplicates
Create Date: 2024-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_alert_links"
down_revision = "0005_stream_duplicates"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "used_links",
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("leader_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("used_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_used_links_expires_at", "used_links", ["expires_at"])


def downgrade() -> None:
    op.drop_table("used_links")
