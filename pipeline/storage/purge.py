"""Retention (`riskwatch db purge --before DURATION`): remove what is older than the cutoff.

Removed, in one transaction: events that occurred, rejections received and contributions fired
before the cutoff; `riskwatch serve`'s accept log rows (serve_inbox) received before it and already
applied by its engine loop (those not yet applied stay, whatever their age, so nothing accepted is
lost); then person entities left with no contribution and no open (open or acknowledged) alert. An
audit_log record states the cutoff and how many rows of each kind were removed — counts, never contents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.storage import models as m
from pipeline.storage.db import StorageUnavailable, mask_url, one_line
from pipeline.storage.ingest_tables import INBOX, INBOX_POSITION_TOPIC

PURGE_ACTION = "purge"


@dataclass(frozen=True)
class PurgeCounts:
    events: int
    rejections: int
    contributions: int
    entities: int
    inbox: int = 0

    @property
    def total(self) -> int:
        return self.events + self.rejections + self.contributions + self.entities + self.inbox


def _orphan_persons(contributions_gone: sa.Select | None = None):
    """Person entities with no (remaining) contribution and no open alert."""
    e, c, a = m.Entity.__table__, m.Contribution.__table__, m.Alert.__table__
    has_contribution = sa.select(c.c.id).where(c.c.entity == e.c.ref)
    if contributions_gone is not None:  # dry run: contributions about to be removed do not count
        has_contribution = has_contribution.where(c.c.id.not_in(contributions_gone))
    has_open_alert = sa.select(a.c.alert_id).where(a.c.entity == e.c.ref, a.c.status.in_(m.OPEN_ALERT_STATUSES))
    return sa.and_(e.c.type == "person", ~sa.exists(has_contribution), ~sa.exists(has_open_alert))


def _old(before: datetime) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    if before.tzinfo is None:
        raise ValueError("purge cutoff must be timezone-aware")
    before = before.astimezone(UTC)  # SQLite compares stored UTC text
    ev, rj, c = m.Event.__table__, m.Rejection.__table__, m.Contribution.__table__
    return ev.c.occurred_at < before, rj.c.received_at < before, c.c.fired_at < before


def _old_inbox(before: datetime) -> sa.ColumnElement[bool]:
    """Accept-log rows received before the cutoff that serve's engine loop has applied."""
    positions = m.ProcessedPosition.__table__
    applied = (sa.select(positions.c.next_offset)
               .where(positions.c.topic == INBOX_POSITION_TOPIC, positions.c.partition == 0).scalar_subquery())
    return sa.and_(INBOX.c.received_at < before.astimezone(UTC), INBOX.c.seq < sa.func.coalesce(applied, 0))


def count_purge(bind: sa.Engine, before: datetime) -> PurgeCounts:
    """What `purge` would remove at `before`, without removing it."""
    ev, rj, c, e = m.Event.__table__, m.Rejection.__table__, m.Contribution.__table__, m.Entity.__table__
    old_events, old_rejections, old_contributions = _old(before)
    count = sa.func.count()
    with _unavailable_as_error(bind), bind.connect() as conn:
        return PurgeCounts(
            events=conn.execute(sa.select(count).select_from(ev).where(old_events)).scalar_one(),
            rejections=conn.execute(sa.select(count).select_from(rj).where(old_rejections)).scalar_one(),
            contributions=conn.execute(sa.select(count).select_from(c).where(old_contributions)).scalar_one(),
            entities=conn.execute(
                sa.select(count).select_from(e).where(_orphan_persons(sa.select(c.c.id).where(old_contributions)))
            ).scalar_one(),
            inbox=conn.execute(sa.select(count).select_from(INBOX).where(_old_inbox(before))).scalar_one(),
        )


def purge(bind: sa.Engine, before: datetime, actor: str, detail: dict | None = None) -> PurgeCounts:
    """Remove everything older than `before` (aware datetime) and record it in audit_log, atomically."""
    ev, rj, c, e = m.Event.__table__, m.Rejection.__table__, m.Contribution.__table__, m.Entity.__table__
    old_events, old_rejections, old_contributions = _old(before)
    with _unavailable_as_error(bind), bind.begin() as conn:
        counts = PurgeCounts(
            events=conn.execute(ev.delete().where(old_events)).rowcount,
            rejections=conn.execute(rj.delete().where(old_rejections)).rowcount,
            contributions=conn.execute(c.delete().where(old_contributions)).rowcount,
            entities=conn.execute(e.delete().where(_orphan_persons())).rowcount,
            inbox=conn.execute(INBOX.delete().where(_old_inbox(before))).rowcount,
        )
        record = {"before": before.astimezone(UTC).isoformat().replace("+00:00", "Z"), "removed": asdict(counts)}
        conn.execute(
            m.AuditLog.__table__.insert().values(
                at=datetime.now(UTC), actor=actor, action=PURGE_ACTION, detail={**record, **(detail or {})}
            )
        )
    return counts


class _unavailable_as_error:
    def __init__(self, bind: sa.Engine):
        self.bind = bind

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and issubclass(exc_type, sa.exc.OperationalError):
            raise StorageUnavailable(f"database not reachable at {mask_url(self.bind.url)}: {one_line(exc)}") from None
