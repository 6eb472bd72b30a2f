"""Per-leader revocation of alert links, without rotating the link secret.

A leader's link issued at time T refuses to act when
- `link_revocations` holds a `revoked_before` >= T for the leader (`riskwatch links revoke --leader`,
  audited), or
- any API token of the leader was revoked at or after T: a leader whose tokens are withdrawn (they
  left the post, a phone was lost) loses the links already sent too.
Links issued after the revocation work again: new notices carry new links.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import sqlalchemy as sa

from pipeline import audit
from pipeline.auth import TOKENS
from pipeline.storage.link_tables import LinkRevocation

REVOCATIONS = cast(sa.Table, LinkRevocation.__table__)
AUDIT_LINK_REVOKE = "link_revoke"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def revoke_links(bind: sa.Engine, leader_id: str, actor: str, now: datetime | None = None) -> datetime:
    """Revoke every link of `leader_id` issued until now (audited); returns the revocation time."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    with bind.begin() as conn:
        conn.execute(REVOCATIONS.delete().where(REVOCATIONS.c.leader_id == leader_id))
        conn.execute(REVOCATIONS.insert().values(leader_id=leader_id, revoked_before=at, revoked_by=actor[:64]))
        audit.record(conn, actor, AUDIT_LINK_REVOKE, {"leader_id": leader_id}, at=at)
    return at


def revoked_since(conn: sa.Connection, leader_id: str, issued_at: datetime) -> bool:
    """True when the leader's links issued at `issued_at` were revoked afterwards (either way above)."""
    issued = _aware(issued_at)
    row = conn.execute(sa.select(REVOCATIONS.c.revoked_before).where(REVOCATIONS.c.leader_id == leader_id)).first()
    if row is not None and _aware(row.revoked_before) >= issued:
        return True
    latest = conn.execute(sa.select(sa.func.max(TOKENS.c.revoked_at))
                          .where(TOKENS.c.leader_id == leader_id, TOKENS.c.revoked_at.is_not(None))).scalar()
    return latest is not None and _aware(latest) >= issued


def revocations(conn: sa.Connection) -> dict[str, datetime]:
    """leader id → the time before which their links are revoked (explicit revocations only)."""
    return {r.leader_id: _aware(r.revoked_before) for r in conn.execute(sa.select(REVOCATIONS))}
