"""Notifications may be `uncertain`: a robot's reply came after the timeout, so the notice may have been
delivered; it is not sent again blindly (robots take no idempotency key) and shows as uncertain.

Revision ID: 0014_notification_uncertain
Revises: 0013_token_expiry
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014_notification_uncertain"
down_revision = "0013_token_expiry"
branch_labels = None
depends_on = None


def _status_check(statuses: tuple[str, ...]) -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("ck_notifications_status", type_="check")
        batch.create_check_constraint("ck_notifications_status", f"status IN {statuses!r}")


def upgrade() -> None:
    _status_check(("pending", "sent", "failed", "uncertain"))


def downgrade() -> None:
    op.execute("UPDATE notifications SET status = 'failed' WHERE status = 'uncertain'")
    _status_check(("pending", "sent", "failed"))
