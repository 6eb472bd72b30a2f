"""API tokens may expire: `api_tokens.expires_at` (NULL: never), checked where tokens are checked.

Tokens created before keep NULL and never expire, as before.

Revision ID: 0013_token_expiry
Revises: 0012_rejection_raw_bounded
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_token_expiry"
down_revision = "0012_rejection_raw_bounded"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
