"""HTTP ingest and the one-process deployment (pipeline/storage/ingest_tables.py): source tokens, the
accept log of `riskwatch serve` and its persisted engine state. None of them is granted to Grafana.

Revision ID: 0010_ingest
Revises: 0009_cases
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_ingest"
down_revision = "0009_cases"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ingest_sources",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_ingest_sources_name", "ingest_sources", ["name"])
    op.create_table(
        "serve_inbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_serve_inbox_event_id_seq", "serve_inbox", ["event_id", "seq"])
    op.create_table(
        "serve_state",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("serve_state")
    op.drop_table("serve_inbox")
    op.drop_table("ingest_sources")
