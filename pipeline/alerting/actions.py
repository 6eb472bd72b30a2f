"""State changes of an alert, each in ONE transaction with its alert_history record (who, when,
why) and, for people's actions, an audit_log record:

    open ──ack──► acknowledged ──(score below alert_level)──► resolved
      │                 │
      └─────close───────┴──► closed (reason required)
    open ──(ack_timeout passes)──► escalated (still open; next leader of the chain)

The status moves with a conditional UPDATE (… WHERE status IN (allowed)), so two people acting at
once cannot both succeed. `authorize(alert)` runs inside the transaction, on the row being changed;
raising there (e.g. access.Forbidden) leaves the database untouched.

`alerts.updated_at` is left alone: the storage writer uses it as the time of the engine's latest
change to decide which engine change wins, so a wall-clock acknowledgement must not move it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pipeline import audit
from pipeline.alerting.records import ALERTS, HISTORY, AlertRecord, get_alert
from pipeline.errors import AlertNotFound, InvalidTransition, UsageError
from pipeline.labels import ALERT_ACTIONS, ALERT_STATES, label

if TYPE_CHECKING:
    from pipeline.assignments import Assignments

NOTIFIER_ACTOR = "notifier"
AUDIT_CLOSE = "alert_close"
MAX_TEXT = 500


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _change(
    bind: sa.Engine | sa.Connection,
    alert_id: str,
    allowed: tuple[str, ...],
    new_status: str | None,
    action: str,
    actor: str,
    now: datetime,
    detail: dict[str, Any],
    authorize: Callable[[AlertRecord], None] | None,
    audit_action: str | None,
    assignments: Assignments | None = None,
) -> AlertRecord:
    def work(conn: sa.Connection) -> AlertRecord:
        alert = get_alert(conn, alert_id)
        if alert is None:
            raise AlertNotFound(f"没有编号为 {alert_id} 的预警")
        if authorize is not None:
            authorize(alert)
        if alert.status not in allowed:
            raise InvalidTransition(f"预警 {alert_id} 当前状态为“{label(ALERT_STATES, alert.status)}”，"
                                    f"不能{label(ALERT_ACTIONS, action)}")
        if new_status is not None:
            done = conn.execute(ALERTS.update().where(ALERTS.c.alert_id == alert_id, ALERTS.c.status.in_(allowed))
                                .values(status=new_status))
            if done.rowcount != 1:
                raise InvalidTransition(f"alert {alert_id} changed meanwhile: try again")
        conn.execute(HISTORY.insert().values(alert_id=alert_id, action=action, level=alert.level,
                                             actor=actor[:64], at=now, detail=detail))
        if audit_action is not None:
            audit.record(conn, actor, audit_action, {"alert_id": alert_id}, at=now)
        if new_status is not None:
            # The alert's case row (pipeline/cases) moves in the same transaction, owned as the caller's
            # assignments say (the settings' config directory's when not given); imported here because
            # pipeline.cases builds on this module.
            from pipeline.cases.store import refresh_alert_case

            refresh_alert_case(conn, alert_id, alert.entity, assignments)
        changed = get_alert(conn, alert_id)
        assert changed is not None      # the row was read and updated in this transaction
        return changed

    if isinstance(bind, sa.Connection):
        return work(bind)
    with bind.begin() as conn:
        return work(conn)


def acknowledge(bind, alert_id: str, actor: str, note: str | None = None, now: datetime | None = None,
                authorize: Callable[[AlertRecord], None] | None = None,
                assignments: Assignments | None = None) -> AlertRecord:
    """open → acknowledged: escalation stops; resolution follows once the score falls."""
    detail = {"note": note[:MAX_TEXT]} if note else {}
    return _change(bind, alert_id, ("open",), "acknowledged", "acknowledged", actor, _now(now), detail,
                   authorize, audit.ACKNOWLEDGE, assignments)


def close(bind, alert_id: str, actor: str, reason: str, now: datetime | None = None,
          authorize: Callable[[AlertRecord], None] | None = None,
          assignments: Assignments | None = None) -> AlertRecord:
    """open/acknowledged → closed by hand, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("关闭预警须填写原因（reason）")
    return _change(bind, alert_id, ("open", "acknowledged"), "closed", "closed", actor, _now(now),
                   {"reason": reason[:MAX_TEXT], "actor": actor[:64]}, authorize, AUDIT_CLOSE, assignments)


def escalate(bind, alert_id: str, to: str, step: int, now: datetime, score: float | None,
             timeout_s: float) -> AlertRecord:
    """Record an escalation of a still-open alert to `to` (step 1 = first leader of the chain)."""
    detail = {"to": to, "step": step, "score": score, "ack_timeout_s": timeout_s}
    return _change(bind, alert_id, ("open",), None, "escalated", NOTIFIER_ACTOR, _now(now), detail, None, None)


def resolve(bind, alert_id: str, now: datetime, score: float, alert_level: str,
            assignments: Assignments | None = None) -> AlertRecord:
    """acknowledged → resolved: the entity's score is below alert_level."""
    detail = {"score": score, "below": alert_level}
    return _change(bind, alert_id, ("acknowledged",), "resolved", "resolved", NOTIFIER_ACTOR, _now(now), detail,
                   None, None, assignments)
