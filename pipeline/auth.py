"""Bearer tokens and roles: who may do what (least privilege).

Roles: viewer (dashboards), leader (their own alerts; `leader_id` ties the token to a leader of
config/assignments.yaml), analyst (exports, reveal with a purpose), admin (everything, tokens).
A token is shown once when created; only its sha256 is stored (`api_tokens`), so the database
never holds a usable token. Revoked tokens stop working at once; a token may be given an expiry.

The one check everything calls: `require_role(bind, token, roles) -> actor`, AccessDenied otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline import audit
from pipeline.errors import AccessDenied, UsageError
from pipeline.storage.models import ROLES, ApiToken
from pipeline.timeutil import aware

TOKENS = ApiToken.__table__
TOKEN_PREFIX = "rw_"
REVEAL_ROLES = ("analyst", "admin")


@dataclass(frozen=True)
class TokenInfo:
    token_hash: str
    actor: str
    role: str
    leader_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(bind: sa.Engine, actor: str, role: str, leader_id: str | None = None,
                 created_by: str | None = None, *, leaders: Collection[str] | None = None,
                 expires_at: datetime | None = None) -> str:
    """A new token for `actor` with `role`; returns the token (shown once), stores its hash, audits.
    `leaders`: the leader ids of assignments.yaml, which `leader_id` must be one of when given."""
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if not actor or len(actor) > 64:
        raise UsageError("actor must be 1-64 characters")
    if role == "leader" and not leader_id:
        raise UsageError("a leader token needs --leader (the leader id of config/assignments.yaml)")
    if leader_id is not None and leaders is not None and leader_id not in leaders:
        raise UsageError(f"--leader: no leader {leader_id!r} in assignments.yaml (leaders: {', '.join(sorted(leaders))})")
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise UsageError("the expiry must lie in the future")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = hash_token(token)
    with bind.begin() as conn:
        conn.execute(TOKENS.insert().values(token_hash=digest, actor=actor, role=role, leader_id=leader_id,
                                            created_at=now, revoked_at=None, expires_at=expires_at))
        audit.record(conn, created_by or audit.cli_actor(), audit.TOKEN_CREATE,
                     {"actor": actor, "role": role, "leader_id": leader_id, "token_sha256_prefix": digest[:12],
                      "expires_at": expires_at.isoformat() if expires_at else None})
    return token


def list_tokens(bind: sa.Engine) -> list[TokenInfo]:
    with bind.connect() as conn:
        rows = conn.execute(sa.select(TOKENS).order_by(TOKENS.c.created_at)).all()
    return [TokenInfo(r.token_hash, r.actor, r.role, r.leader_id, aware(r.created_at), aware(r.revoked_at),
                      aware(r.expires_at)) for r in rows]


def revoke(bind: sa.Engine, prefix_or_token: str, revoked_by: str | None = None) -> int:
    """Revoke the token given in full, or every active token whose hash starts with the prefix
    (at least 8 hex digits, as `tokens list` shows). Returns how many were revoked."""
    if prefix_or_token.startswith(TOKEN_PREFIX):
        condition = TOKENS.c.token_hash == hash_token(prefix_or_token)
    elif len(prefix_or_token) >= 8 and all(c in "0123456789abcdef" for c in prefix_or_token):
        condition = TOKENS.c.token_hash.startswith(prefix_or_token, autoescape=True)
    else:
        raise UsageError("give the token itself or at least 8 hex digits of its hash (`riskwatch tokens list`)")
    with bind.begin() as conn:
        hashes = conn.execute(sa.select(TOKENS.c.token_hash).where(condition, TOKENS.c.revoked_at.is_(None))).scalars().all()
        if hashes:
            conn.execute(TOKENS.update().where(TOKENS.c.token_hash.in_(hashes)).values(revoked_at=datetime.now(UTC)))
            audit.record(conn, revoked_by or audit.cli_actor(), audit.TOKEN_REVOKE,
                         {"token_sha256_prefixes": [h[:12] for h in hashes]})
    return len(hashes)


def identify(bind: sa.Engine | sa.Connection, token: str | None, now: datetime | None = None) -> TokenInfo:
    """The active token's record; AccessDenied when missing, unknown, revoked or expired (at `now`)."""
    if not token:
        raise AccessDenied("a token is required (--token or RISKWATCH_TOKEN)")
    query = sa.select(TOKENS).where(TOKENS.c.token_hash == hash_token(token))
    if isinstance(bind, sa.Connection):
        row = bind.execute(query).first()
    else:
        with bind.connect() as conn:
            row = conn.execute(query).first()
    if row is None:
        raise AccessDenied("unknown token")
    if row.revoked_at is not None:
        raise AccessDenied("token revoked")
    expires_at = aware(row.expires_at)
    if expires_at is not None and expires_at <= (now or datetime.now(UTC)):
        raise AccessDenied("token expired")
    return TokenInfo(row.token_hash, row.actor, row.role, row.leader_id, aware(row.created_at), None, expires_at)


def require_role(bind: sa.Engine | sa.Connection, token: str | None, roles) -> str:
    """The token's actor when its role is one of `roles`; AccessDenied otherwise."""
    info = identify(bind, token)
    if info.role not in roles:
        raise AccessDenied(f"role {info.role} may not do this (needs {' or '.join(roles)})")
    return info.actor

