"""The audit trail: who did what, when, and why — every reveal, export, acknowledgement, rule change
and purge. The `audit_log` table is append-only (triggers refuse UPDATE and DELETE, migration
0003_privacy); this module is how records are written and read.

`record(bind, actor, action, detail)` takes an Engine (its own transaction) or a Connection (the
caller's transaction: the record commits or rolls back with the work it describes). Details hold
ids, counts, purposes and hashes, never personal details in clear.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pipeline.storage.db import connection
from pipeline.storage.models import AuditLog

AUDIT = AuditLog.__table__

# The actions the project writes (others may be added; these are the ones the alert workflow, exports and rule changes need).
REVEAL = "reveal"
EXPORT = "export"
ACKNOWLEDGE = "acknowledge"
RULES_APPLY = "rules_apply"
PURGE = "purge"
REGISTRY_WRITE = "registry_write"
REGISTRY_ROTATE = "registry_rotate"
REGISTRY_LOOKUP = "registry_lookup"
TOKEN_CREATE = "token_create"
TOKEN_REVOKE = "token_revoke"


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any] | None


def cli_actor() -> str:
    """The actor of a command run without a token: `cli:<login name>`."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "unknown"
    return f"cli:{user}"


def record(bind: sa.Engine | sa.Connection, actor: str, action: str, detail: dict[str, Any] | None = None,
           at: datetime | None = None) -> None:
    """Append one audit record. With a Connection it joins the caller's transaction."""
    if not actor or not action:
        raise ValueError("an audit record needs an actor and an action")
    values = {"at": (at or datetime.now(UTC)), "actor": actor[:64], "action": action[:64], "detail": detail}
    if isinstance(bind, sa.Connection):
        bind.execute(AUDIT.insert().values(**values))
        return
    with bind.begin() as conn:
        conn.execute(AUDIT.insert().values(**values))


def list_records(bind: sa.Engine | sa.Connection, since: datetime | None = None, action: str | None = None,
                 actor: str | None = None, limit: int | None = None) -> list[AuditRecord]:
    """Records at or after `since` (aware datetime), oldest first, optionally of one action/actor."""
    query = sa.select(AUDIT.c.id, AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.detail).order_by(AUDIT.c.id)
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        query = query.where(AUDIT.c.at >= since.astimezone(UTC))
    if action is not None:
        query = query.where(AUDIT.c.action == action)
    if actor is not None:
        query = query.where(AUDIT.c.actor == actor)
    if limit is not None:
        query = query.limit(limit)
    with connection(bind) as conn:
        return [AuditRecord(r.id, _aware(r.at), r.actor, r.action, r.detail) for r in conn.execute(query)]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite returns naive UTC
