"""The pages' server-side state (migration 0008_web_sessions).

- `web_sessions`: one row per login (`/login` with a personal token). The cookie holds a random
  session id; the table holds only its sha256, so the database never holds a usable cookie. A
  session acts while it is not ended (`POST /logout` sets `ended_at`), not expired, and its token
  is not revoked.
- `link_revocations`: per leader, links issued at or before `revoked_before` refuse to act
  (`riskwatch links revoke --leader L05`), without rotating the link secret. Links themselves are
  never stored: a link is signed with the link secret (pipeline/web/links.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.base import Base


class WebSession(Base):
    __tablename__ = "web_sessions"
    sid_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    actor: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_web_sessions_expires_at", "expires_at"),)


class LinkRevocation(Base):
    __tablename__ = "link_revocations"
    leader_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    revoked_before: Mapped[datetime]
    revoked_by: Mapped[str] = mapped_column(sa.String(64))
