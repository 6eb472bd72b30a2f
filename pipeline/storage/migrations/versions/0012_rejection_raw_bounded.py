"""Rejections keep a bounded copy of the original: its first 64 KiB, its length and its SHA-256.

A rejected 200 MB line was stored whole in `rejections.raw`. Now `raw`/`raw_bytes` hold at most
pipeline.rawcopy.KEEP_BYTES of the original and `raw_length`/`raw_sha256` say how long the whole was
and prove which it was. Rows written before keep their text; their length and hash stay empty.

Revision ID: 0012_rejection_raw_bounded
Revises: 0011_runtime_role
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_rejection_raw_bounded"
down_revision = "0011_runtime_role"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rejections") as batch:
        batch.add_column(sa.Column("raw_length", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("raw_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rejections") as batch:
        batch.drop_column("raw_sha256")
        batch.drop_column("raw_length")
