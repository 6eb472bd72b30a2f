"""Pages: server-side login sessions and per-leader link revocation; links act more than once
(the leader's phone flow), so the one-time `used_links` table goes (pipeline/storage/link_tables.py).

Revision ID: 0008_web_sessions
Revises: 0007_grafana_reader
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_web_sessions"
down_revision = "0007_grafana_reader"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("sid_hash", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("sid_hash"),
    )
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "link_revocations",
        sa.Column("leader_id", sa.String(64), nullable=False),
        sa.Column("revoked_before", TS, nullable=False),
        sa.Column("revoked_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("leader_id"),
    )
    op.drop_table("used_links")


def downgrade() -> None:
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
    op.drop_table("link_revocations")
    op.drop_table("web_sessions")
