"""What the weekly review reads about alerts: those raised this week with their response (first
acknowledgement, escalations) from alert_history, and how many were raised last week."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from pipeline.exports.period import Period
from pipeline.exports.sqlhelp import frame, utc_param
from pipeline.storage.models import Alert, AlertHistory

ALERTS = Alert.__table__
HISTORY = AlertHistory.__table__


def new_alerts(conn: sa.Connection, cur: Period) -> pd.DataFrame:
    """Alerts raised in the week: alert_id, entity, level, assignee, rules, score, raised_at, status,
    acknowledged_at (first), escalations."""
    a, h = ALERTS, HISTORY
    ack = (sa.select(h.c.alert_id, sa.func.min(h.c.at).label("acknowledged_at"))
           .where(h.c.action == "acknowledged").group_by(h.c.alert_id).subquery("ack"))
    esc = (sa.select(h.c.alert_id, sa.func.count().label("escalations"))
           .where(h.c.action == "escalated").group_by(h.c.alert_id).subquery("esc"))
    query = (sa.select(a.c.alert_id, a.c.entity, a.c.level, a.c.assignee, a.c.rules, a.c.score, a.c.raised_at,
                       a.c.status, ack.c.acknowledged_at, sa.func.coalesce(esc.c.escalations, 0).label("escalations"))
             .select_from(a.outerjoin(ack, ack.c.alert_id == a.c.alert_id).outerjoin(esc, esc.c.alert_id == a.c.alert_id))
             .where(a.c.raised_at >= utc_param(cur.start), a.c.raised_at < utc_param(cur.end))
             .order_by(a.c.raised_at, a.c.alert_id))
    return frame(conn, query)


def count_raised(conn: sa.Connection, period: Period) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(ALERTS)
                        .where(ALERTS.c.raised_at >= utc_param(period.start),
                               ALERTS.c.raised_at < utc_param(period.end))).scalar_one()
