"""Why an alert was raised, for as long as anyone looks at it: its reasons never decay off the page.

`alert_reasons(conn, alert, now)` returns the contributions of the alert's entity from REASON_HORIZON
before the alert was raised up to `now`, ranked by what each was worth when the alert last rose
(raised or upgraded) — not by what it is worth now, so a reason that has decayed since still heads
the list. Each carries its worth then and now. The alert page (pipeline/web) and notices read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.alerting.records import CONTRIBUTIONS, HISTORY, REASON_HORIZON, AlertRecord
from pipeline.timeutil import aware


@dataclass(frozen=True)
class AlertReason:
    rule: str
    category: str | None
    points: float
    fired_at: datetime
    half_life_s: float
    events: tuple[str, ...]
    worth_at_alert: float      # at the alert's last rise (raised or upgraded)
    worth_now: float

    def worth(self, at: datetime) -> float:
        if self.fired_at > at:
            return 0.0
        return self.points * 0.5 ** ((at - self.fired_at).total_seconds() / self.half_life_s)


def risen_at(conn: sa.Connection, alert: AlertRecord, now: datetime) -> datetime:
    """When the alert last rose (raised or upgraded) up to `now`."""
    q = sa.select(sa.func.max(HISTORY.c.at)).where(
        HISTORY.c.alert_id == alert.alert_id, HISTORY.c.action.in_(("raised", "upgraded")),
        HISTORY.c.at <= now.astimezone(UTC))
    found = conn.execute(q).scalar()
    return aware(found) if found is not None else alert.raised_at


def alert_reasons(conn: sa.Connection, alert: AlertRecord, now: datetime, n: int | None = None) -> list[AlertReason]:
    """The alert's reasons, most weighty at its last rise first (then the latest); `n` of them when given."""
    now = aware(now)
    peak = risen_at(conn, alert, now)
    q = (sa.select(CONTRIBUTIONS.c.rule, CONTRIBUTIONS.c.category, CONTRIBUTIONS.c.points, CONTRIBUTIONS.c.fired_at,
                   CONTRIBUTIONS.c.half_life_s, CONTRIBUTIONS.c.events)
         .where(CONTRIBUTIONS.c.entity == alert.entity, CONTRIBUTIONS.c.fired_at <= now.astimezone(UTC),
                CONTRIBUTIONS.c.fired_at >= (alert.raised_at - REASON_HORIZON).astimezone(UTC)))
    out = []
    for r in conn.execute(q):
        fired = aware(r.fired_at)
        base = AlertReason(r.rule, r.category, float(r.points), fired, float(r.half_life_s), tuple(r.events or ()),
                           0.0, 0.0)
        out.append(AlertReason(**{**base.__dict__, "worth_at_alert": base.worth(peak), "worth_now": base.worth(now)}))
    out.sort(key=lambda c: (-c.worth_at_alert, -c.fired_at.timestamp(), c.rule))
    return out if n is None else out[:n]
