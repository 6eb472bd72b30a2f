"""The alert page's one-time links (issue 9; migration 0006_alert_links).

- `used_links`: one row per link token that acted on an alert (acknowledge or close). Its primary
  key is the token's nonce, so the insert of a second use fails inside the action's transaction:
  a link acts at most once, even when two taps race. Rows whose link has expired carry no meaning
  (an expired link is refused before this table is read) and are deleted as new uses are recorded.
Tokens themselves are never stored: a token is alert id + leader id + expiry + nonce signed with
the link secret (pipeline/web/links.py), and the nonce alone does not make one.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.models import Base


class UsedLink(Base):
    __tablename__ = "used_links"
    nonce: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    alert_id: Mapped[str] = mapped_column(sa.String(64))
    leader_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))
    used_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (sa.Index("ix_used_links_expires_at", "expires_at"),)


LINK_TABLES = [UsedLink.__table__]
