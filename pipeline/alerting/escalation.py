"""Escalation (docs/contract.md §5): an alert still `open` (unacknowledged) escalates to the next leader of its
assignee's chain once the level's ack_timeout has passed since it was raised, or since its previous
escalation. Each step is one alert_history record (`escalated`, detail.to/step), so the step
reached is read back from the history after a restart. At the end of the chain it stays open.
Time is whatever `now` the caller passes (the notifier's clock), so tests drive it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.alerting.records import ALERTS, HISTORY, AlertRecord, list_alerts
from pipeline.assignments import Assignments
from pipeline.timeutil import aware


@dataclass(frozen=True)
class Escalation:
    alert: AlertRecord
    to: str
    step: int                # 1 = first leader of the chain
    timeout_s: float
    due: datetime


def due_escalations(conn: sa.Connection, assignments: Assignments, now: datetime) -> list[Escalation]:
    alerts = list_alerts(conn, statuses=("open",), limit=100_000)
    if not alerts:
        return []
    done = {
        r.alert_id: (int(r.steps), aware(r.last))
        for r in conn.execute(
            sa.select(HISTORY.c.alert_id, sa.func.count().label("steps"), sa.func.max(HISTORY.c.at).label("last"))
            .where(HISTORY.c.action == "escalated",
                   HISTORY.c.alert_id.in_(sa.select(ALERTS.c.alert_id).where(ALERTS.c.status == "open")))
            .group_by(HISTORY.c.alert_id)
        )
    }
    out = []
    for alert in alerts:
        timeout = assignments.ack_timeout.get(alert.level)
        leader = assignments.leaders.get(alert.assignee or "")
        if timeout is None or leader is None:
            continue
        steps, last = done.get(alert.alert_id, (0, None))
        if steps >= len(leader.chain):
            continue
        since = max(alert.raised_at, last) if last is not None else alert.raised_at
        due = since + timedelta(seconds=timeout)
        if now >= due:
            out.append(Escalation(alert, leader.chain[steps], steps + 1, timeout, due))
    out.sort(key=lambda e: (e.due, e.alert.alert_id))
    return out
