"""Server-side login sessions of the pages: `/login` with a personal token starts one,
`POST /logout` ends it on the server, so a copied cookie is worthless after logout.

The cookie `rw_session` holds 32 random bytes (b64url); `web_sessions` holds only their sha256 with
the token's hash, the actor and the expiry. A session is valid while it is not ended, not expired,
and its token is active (a revoked or expired token logs its sessions out at once).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import sqlalchemy as sa

from pipeline.auth import TOKENS, TokenInfo
from pipeline.storage.link_tables import WebSession
from pipeline.web.links import b64e

SESSIONS = cast(sa.Table, WebSession.__table__)
_COOKIE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Session:
    """A live session: `sid` is the hash (safe to bind CSRF tokens to), never the cookie."""

    sid: str
    actor: str
    role: str
    leader_id: str | None
    expires_at: datetime


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("ascii")).hexdigest()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def start(bind: sa.Engine, token: TokenInfo, ttl_s: float, now: datetime) -> str:
    """A new session for the token's holder; returns the cookie value (the only copy of it)."""
    cookie = b64e(secrets.token_bytes(32))
    with bind.begin() as conn:
        conn.execute(SESSIONS.delete().where(SESSIONS.c.expires_at < (now - timedelta(days=1)).astimezone(UTC)))
        conn.execute(SESSIONS.insert().values(sid_hash=_hash(cookie), token_hash=token.token_hash, actor=token.actor,
                                              created_at=now, expires_at=now + timedelta(seconds=ttl_s),
                                              ended_at=None))
    return cookie


def find(bind: sa.Engine, cookie: str | None, now: datetime) -> Session | None:
    """The live session of this cookie, or None (unknown, ended, expired, or its token revoked)."""
    if not cookie or not _COOKIE.match(cookie):
        return None
    query = (sa.select(SESSIONS.c.sid_hash, SESSIONS.c.expires_at, SESSIONS.c.ended_at, TOKENS.c.actor,
                       TOKENS.c.role, TOKENS.c.leader_id, TOKENS.c.revoked_at,
                       TOKENS.c.expires_at.label("token_expires_at"))
             .join(TOKENS, TOKENS.c.token_hash == SESSIONS.c.token_hash)
             .where(SESSIONS.c.sid_hash == _hash(cookie)))
    with bind.connect() as conn:
        row = conn.execute(query).first()
    if row is None or row.ended_at is not None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    if row.token_expires_at is not None and _aware(row.token_expires_at) <= now:
        return None
    return Session(row.sid_hash, row.actor, row.role, row.leader_id, _aware(row.expires_at))


def end(bind: sa.Engine, session: Session, now: datetime) -> None:
    with bind.begin() as conn:
        conn.execute(SESSIONS.update().where(SESSIONS.c.sid_hash == session.sid, SESSIONS.c.ended_at.is_(None))
                     .values(ended_at=now))
