"""Source tokens: who may post events, and for which `source` (docs/contract.md §9).

`riskwatch sources create NAME --source VALUE` makes a token bound to one event `source` value; an
event from that token whose `source` differs is rejected `invalid_field:source`. The token is shown
once; only its sha256 is stored (`ingest_sources`), so the database never holds a usable token.
Revoked tokens stop working at once (every request looks its token up). Separate from the API's
bearer tokens (pipeline/auth.py): a source token can post events and nothing else.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline import audit
from pipeline.auth import hash_token
from pipeline.errors import AccessDenied, NotFound, UsageError
from pipeline.storage.ingest_tables import SOURCES

TOKEN_PREFIX = "rws_"
SOURCE_CREATE = "source_token_create"
SOURCE_REVOKE = "source_token_revoke"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class SourceToken:
    token_hash: str
    name: str
    source: str
    created_at: datetime
    revoked_at: datetime | None


def create(bind: sa.Engine, name: str, source: str, created_by: str | None = None) -> str:
    """A new token for `name`, bound to events of `source`; returns the token (shown once)."""
    if not _NAME.fullmatch(name):
        raise UsageError("NAME must be 1-64 characters of [A-Za-z0-9._-]")
    if not 1 <= len(source) <= 64:
        raise UsageError("--source must be 1-64 characters (the events' `source` field)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = hash_token(token)
    with bind.begin() as conn:
        active = conn.execute(sa.select(SOURCES.c.token_hash).where(
            SOURCES.c.name == name, SOURCES.c.revoked_at.is_(None))).first()
        if active is not None:
            raise UsageError(f"source {name!r} already has an active token: revoke it first (`riskwatch sources revoke {name}`)")
        conn.execute(SOURCES.insert().values(token_hash=digest, name=name, source=source,
                                             created_at=datetime.now(UTC), revoked_at=None))
        audit.record(conn, created_by or audit.cli_actor(), SOURCE_CREATE,
                     {"name": name, "source": source, "token_sha256_prefix": digest[:12]})
    return token


def list_sources(bind: sa.Engine) -> list[SourceToken]:
    with bind.connect() as conn:
        rows = conn.execute(sa.select(SOURCES).order_by(SOURCES.c.created_at)).all()
    return [SourceToken(r.token_hash, r.name, r.source, _utc(r.created_at), _aware(r.revoked_at)) for r in rows]


def revoke(bind: sa.Engine, name: str, revoked_by: str | None = None) -> int:
    """Revoke the active token of source `name`; NotFound when it has none."""
    with bind.begin() as conn:
        hashes = conn.execute(sa.select(SOURCES.c.token_hash).where(
            SOURCES.c.name == name, SOURCES.c.revoked_at.is_(None))).scalars().all()
        if not hashes:
            raise NotFound(f"no active token for source {name!r} (`riskwatch sources list`)")
        conn.execute(SOURCES.update().where(SOURCES.c.token_hash.in_(hashes)).values(revoked_at=datetime.now(UTC)))
        audit.record(conn, revoked_by or audit.cli_actor(), SOURCE_REVOKE,
                     {"name": name, "token_sha256_prefixes": [h[:12] for h in hashes]})
    return len(hashes)


def identify(bind: sa.Engine, token: str | None) -> SourceToken:
    """The active source token; AccessDenied when missing, unknown or revoked."""
    if not token:
        raise AccessDenied("a source token is required (Authorization: Bearer <token>)")
    with bind.connect() as conn:
        row = conn.execute(sa.select(SOURCES).where(SOURCES.c.token_hash == hash_token(token))).first()
    if row is None:
        raise AccessDenied("unknown source token")
    if row.revoked_at is not None:
        raise AccessDenied("source token revoked")
    return SourceToken(row.token_hash, row.name, row.source, _utc(row.created_at), None)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite returns naive UTC


def _aware(at: datetime | None) -> datetime | None:
    return None if at is None else _utc(at)
