"""The deadline an alert page shows and the escalation step that follows it:
"确认期限 11-05 13:30：4小时内未确认将上报分管副主任（L05）".

Same rule as pipeline/alerting/escalation.py (docs/contract.md §5): an open alert escalates to the
next leader of its assignee's chain once the level's ack_timeout has passed since it was raised or
since its previous escalation; at the end of the chain it stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.alerting.records import HISTORY, AlertRecord
from pipeline.assignments import Assignments
from pipeline.labels import duration_text
from pipeline.timeutil import aware


@dataclass(frozen=True)
class Deadline:
    due: datetime | None          # None: no timeout for this level
    timeout_text: str             # "4小时"
    next_leader: str | None       # None: the end of the chain
    next_name: str | None
    step: int                     # the escalation step that follows (1 = first of the chain)


def ack_deadline(conn: sa.Connection, assignments: Assignments, alert: AlertRecord) -> Deadline | None:
    """The acknowledgement deadline of an open alert and who gets it then; None once acknowledged."""
    if alert.status != "open":
        return None
    timeout = assignments.ack_timeout.get(alert.level)
    leader = assignments.leaders.get(alert.assignee or "")
    row = conn.execute(sa.select(sa.func.count(), sa.func.max(HISTORY.c.at))
                       .where(HISTORY.c.alert_id == alert.alert_id, HISTORY.c.action == "escalated")).one()
    steps, last = int(row[0]), (aware(row[1]) if row[1] is not None else None)
    chain = leader.chain if leader else ()
    if timeout is None:
        return Deadline(None, "", None, None, steps + 1)
    since = max(alert.raised_at, last) if last is not None else alert.raised_at
    due = since + timedelta(seconds=timeout)
    if steps >= len(chain):
        return Deadline(due, duration_text(timeout), None, None, steps + 1)
    target = chain[steps]
    named = assignments.leaders.get(target)
    return Deadline(due, duration_text(timeout), target, named.name if named else target, steps + 1)
