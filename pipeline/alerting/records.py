"""Reading alerts: their current state, history, top contributions and notification deliveries.

SQLite hands back naive UTC datetimes; everything here is returned timezone-aware (UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.storage import models as m
from pipeline.storage.alert_tables import Notification
from pipeline.timeutil import aware

ALERTS = m.Alert.__table__
HISTORY = m.AlertHistory.__table__
CONTRIBUTIONS = m.Contribution.__table__
NOTIFICATIONS = Notification.__table__
ENTITIES = m.Entity.__table__
EVENTS = m.Event.__table__
# Contributions older than this before a notice cannot be among its top reasons in practice
# (default half-lives are days to weeks); the bound keeps the query small for busy entities.
REASON_HORIZON = timedelta(days=120)


@dataclass(frozen=True)
class AlertRecord:
    alert_id: str
    entity: str
    level: str
    assignee: str | None
    rules: tuple[str, ...]
    score: float | None
    raised_at: datetime
    status: str
    updated_at: datetime
    building: str | None = None

    @classmethod
    def from_row(cls, r) -> AlertRecord:
        return cls(r.alert_id, r.entity, r.level, r.assignee, tuple(r.rules or ()), r.score,
                   aware(r.raised_at), r.status, aware(r.updated_at), getattr(r, "building", None))

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id, "entity": self.entity, "building": self.building, "level": self.level,
            "assignee": self.assignee, "rules": list(self.rules), "score": self.score,
            "raised_at": iso(self.raised_at), "status": self.status, "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    action: str
    level: str
    actor: str
    at: datetime
    detail: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "level": self.level, "actor": self.actor,
                "at": iso(self.at), "detail": self.detail}


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _alerts_query():
    return sa.select(ALERTS, ENTITIES.c.building).select_from(
        ALERTS.outerjoin(ENTITIES, ENTITIES.c.ref == ALERTS.c.entity))


def get_alert(conn: sa.Connection, alert_id: str) -> AlertRecord | None:
    row = conn.execute(_alerts_query().where(ALERTS.c.alert_id == alert_id)).first()
    return None if row is None else AlertRecord.from_row(row)


def list_alerts(
    conn: sa.Connection,
    statuses: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
    assignees: Iterable[str] | None = None,
    building: str | None = None,
    limit: int = 200,
) -> list[AlertRecord]:
    """Alerts newest first (by raised_at), optionally filtered."""
    q = _alerts_query()
    if statuses is not None:
        q = q.where(ALERTS.c.status.in_(list(statuses)))
    if levels is not None:
        q = q.where(ALERTS.c.level.in_(list(levels)))
    if assignees is not None:
        q = q.where(ALERTS.c.assignee.in_(list(assignees)))
    if building is not None:
        q = q.where(ENTITIES.c.building == building)
    q = q.order_by(ALERTS.c.raised_at.desc(), ALERTS.c.alert_id).limit(limit)
    return [AlertRecord.from_row(r) for r in conn.execute(q)]


def history_of(conn: sa.Connection, alert_id: str) -> list[HistoryEntry]:
    q = sa.select(HISTORY).where(HISTORY.c.alert_id == alert_id).order_by(HISTORY.c.at, HISTORY.c.id)
    return [HistoryEntry(r.id, r.action, r.level, r.actor, aware(r.at), r.detail) for r in conn.execute(q)]


def escalation_targets(history: Iterable[HistoryEntry]) -> list[str]:
    """Leaders the alert was escalated to, in order."""
    return [h.detail["to"] for h in history if h.action == "escalated" and h.detail and h.detail.get("to")]


def top_contributions(conn: sa.Connection, entity: str, at: datetime, n: int = 3) -> list[tuple[str, float, datetime]]:
    """The entity's `n` contributions worth most at `at`: (rule id, worth, fired_at)."""
    at = aware(at)
    q = sa.select(CONTRIBUTIONS.c.rule, CONTRIBUTIONS.c.points, CONTRIBUTIONS.c.fired_at, CONTRIBUTIONS.c.half_life_s).where(
        CONTRIBUTIONS.c.entity == entity,
        CONTRIBUTIONS.c.fired_at <= at.astimezone(UTC),
        CONTRIBUTIONS.c.fired_at >= (at - REASON_HORIZON).astimezone(UTC),
    )
    worth = []
    for r in conn.execute(q):
        fired = aware(r.fired_at)
        value = r.points * 0.5 ** ((at - fired).total_seconds() / r.half_life_s)
        worth.append((r.rule, value, fired))
    worth.sort(key=lambda x: (-x[1], x[2], x[0]))
    return worth[:n]


def latest_place(conn: sa.Connection, entity: str, at: datetime) -> str | None:
    """The location id of the latest evidence of `entity` up to `at` (where a person or business was
    seen last), None when its evidence names no place."""
    q = (sa.select(CONTRIBUTIONS.c.events).where(CONTRIBUTIONS.c.entity == entity,
                                                   CONTRIBUTIONS.c.fired_at <= aware(at).astimezone(UTC))
         .order_by(CONTRIBUTIONS.c.fired_at.desc()).limit(1))
    ids = conn.execute(q).scalar()
    if not ids:
        return None
    return conn.execute(sa.select(EVENTS.c.location_id)
                        .where(EVENTS.c.event_id.in_(list(ids)), EVENTS.c.location_id.is_not(None))
                        .order_by(EVENTS.c.occurred_at.desc()).limit(1)).scalar()


def deliveries_of(conn: sa.Connection, alert_id: str) -> list[dict[str, Any]]:
    q = sa.select(NOTIFICATIONS).where(NOTIFICATIONS.c.alert_id == alert_id).order_by(NOTIFICATIONS.c.id)
    return [
        {"kind": r.kind, "leader": r.leader_id, "channel": r.channel, "status": r.status,
         "attempts": r.attempts, "sent_at": iso(aware(r.sent_at)), "last_error": r.last_error}
        for r in conn.execute(q)
    ]


def ended_alerts(conn: sa.Connection, since: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """(alert_id, entity, updated_at) of the alerts resolved or closed, changed at or after `since`
    (all when None), oldest change first: what the stream's scorers must forget (Engine.end_alert)."""
    q = sa.select(ALERTS.c.alert_id, ALERTS.c.entity, ALERTS.c.updated_at).where(
        ALERTS.c.status.in_(("resolved", "closed")))
    if since is not None:
        q = q.where(ALERTS.c.updated_at >= since)
    return [(r.alert_id, r.entity, aware(r.updated_at)) for r in conn.execute(q.order_by(ALERTS.c.updated_at))]
