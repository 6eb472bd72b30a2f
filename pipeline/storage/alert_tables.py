"""The notification log of the alert workflow (migration 0004_alert_delivery).

- `notifications`: one row per notice (an alert_history change) per recipient leader per channel.
  Its unique key (history_id, leader_id, channel) is what makes a notice go out at most once per
  channel, across restarts: a row marked `sent` is never sent again. `message_id` names the grouped
  message a row travelled in; it is fixed before the first attempt, so a retry resends the same
  message with the same idempotency key (receivers can drop a repeat: exactly once in effect).
API tokens are pipeline/auth.py's `api_tokens` (migration 0003_privacy).

The models share `Base` with pipeline/storage/models.py, so one metadata describes the whole schema.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.base import Base

NOTIFICATION_STATUSES = ("pending", "sent", "failed", "uncertain")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(SERIAL, primary_key=True)
    history_id: Mapped[int] = mapped_column(sa.BigInteger)
    alert_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    leader_id: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="pending")
    message_id: Mapped[str | None] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    __table_args__ = (
        sa.UniqueConstraint("history_id", "leader_id", "channel", name="uq_notifications_notice"),
        sa.CheckConstraint(f"status IN {NOTIFICATION_STATUSES!r}", name="ck_notifications_status"),
        sa.Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_notifications_alert_id", "alert_id"),
    )
