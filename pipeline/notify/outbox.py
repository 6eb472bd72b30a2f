"""The notification log (table `notifications`): which notice goes to whom over which channel, and
what became of it. Three steps, each its own transaction:

1. `plan`: every alert_history change that is a notice (raised, upgraded, escalated, resolved,
   closed) and has no row yet gets one row per recipient leader per channel of that leader. The
   unique key (history_id, leader_id, channel) makes planning idempotent across restarts.
   Recipients: the assignee and every leader the alert was escalated to; an escalation goes to the
   leader it names. A leader without channels gets a `failed` row and a history record: nothing is
   dropped silently. Changes older than `max_age` are not notified (a replay of last year's events
   into the database must not page anybody).
2. `claim`: due rows grouped per (leader, channel) into one message once the oldest has waited
   `group_wait` (or at once with `flush`); the group's message id is stored before the first
   attempt, so retries resend the same group under the same id.
3. `record`: the outcome. Sent rows are never sent again; transient failures wait with backoff;
   permanent failures (or giving up) become `failed`. Final outcomes are recorded on the alert's
   history as one `notified` record per alert and pass (detail.deliveries).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.alerting.actions import NOTIFIER_ACTOR
from pipeline.alerting.records import ALERTS, HISTORY, NOTIFICATIONS, escalation_targets, history_of
from pipeline.notify.config import ChannelsConfig
from pipeline.timeutil import aware

NOTICE_KINDS = ("raised", "upgraded", "escalated", "resolved", "closed")
NO_CHANNEL = "(none)"


@dataclass(frozen=True)
class Row:
    id: int
    history_id: int
    alert_id: str
    kind: str
    leader_id: str
    channel: str
    attempts: int
    created_at: datetime
    message_id: str | None


@dataclass(frozen=True)
class Group:
    message_id: str
    leader_id: str
    channel: str
    rows: tuple[Row, ...]


def _row(r) -> Row:
    return Row(r.id, r.history_id, r.alert_id, r.kind, r.leader_id, r.channel, r.attempts, aware(r.created_at),
               r.message_id)


def plan(conn: sa.Connection, channels: ChannelsConfig, now: datetime, max_age: timedelta) -> tuple[int, int]:
    """Create the rows for every not yet planned notice: (rows created, of them `failed` at once because
    their leader has no channel)."""
    planned = sa.select(NOTIFICATIONS.c.id).where(NOTIFICATIONS.c.history_id == HISTORY.c.id)
    todo = conn.execute(
        sa.select(HISTORY.c.id, HISTORY.c.alert_id, HISTORY.c.action, HISTORY.c.level, HISTORY.c.detail)
        .where(HISTORY.c.action.in_(NOTICE_KINDS), HISTORY.c.at >= (now - max_age).astimezone(UTC),
               ~sa.exists(planned))
        .order_by(HISTORY.c.at, HISTORY.c.id)
    ).all()
    if not todo:
        return 0, 0
    assignees = dict(conn.execute(sa.select(ALERTS.c.alert_id, ALERTS.c.assignee)
                                  .where(ALERTS.c.alert_id.in_({h.alert_id for h in todo}))).all())
    chains: dict[str, list[str]] = {}
    rows, unreachable = [], []
    for h in todo:
        if h.action == "escalated":
            leaders = [(h.detail or {}).get("to")]
        else:
            if h.alert_id not in chains:
                chains[h.alert_id] = escalation_targets(history_of(conn, h.alert_id))
            leaders = [assignees.get(h.alert_id), *chains[h.alert_id]]
        seen = set()
        for leader_id in leaders:
            if not leader_id or leader_id in seen:
                continue
            seen.add(leader_id)
            base = {"history_id": h.id, "alert_id": h.alert_id, "kind": h.action, "leader_id": leader_id,
                    "attempts": 0, "created_at": now, "next_attempt_at": now}
            specs = channels.channels_of(leader_id)
            if not specs:
                rows.append({**base, "channel": NO_CHANNEL, "status": "failed",
                             "last_error": f"no channel configured for leader {leader_id} in channels.yaml"})
                unreachable.append((h.alert_id, {"leader": leader_id, "channel": NO_CHANNEL, "notice": h.action,
                                                 "outcome": "failed", "error": "no channel configured"}))
                continue
            for spec in specs:
                rows.append({**base, "channel": spec.id, "status": "pending", "last_error": None})
    if rows:
        conn.execute(NOTIFICATIONS.insert(), rows)
    _note_history(conn, now, unreachable)
    return len(rows), len(unreachable)


def claim(conn: sa.Connection, now: datetime, group_wait: float, flush: bool = False) -> list[Group]:
    """Due rows as message groups (message ids stored), oldest first."""
    due = [_row(r) for r in conn.execute(
        sa.select(NOTIFICATIONS).where(NOTIFICATIONS.c.status == "pending",
                                       NOTIFICATIONS.c.next_attempt_at <= now.astimezone(UTC))
        .order_by(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.id))]
    retried: dict[str, list[Row]] = defaultdict(list)
    fresh: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in due:
        if r.message_id:
            retried[r.message_id].append(r)
        else:
            fresh[(r.leader_id, r.channel)].append(r)
    groups = [Group(mid, rs[0].leader_id, rs[0].channel, tuple(rs)) for mid, rs in retried.items()]
    ready_before = now - timedelta(seconds=group_wait)
    for (leader_id, channel), rs in fresh.items():
        if not flush and min(r.created_at for r in rs) > ready_before:
            continue
        key = f"{leader_id}|{channel}|" + ",".join(str(r.id) for r in rs)
        mid = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        conn.execute(NOTIFICATIONS.update().where(NOTIFICATIONS.c.id.in_([r.id for r in rs]))
                     .values(message_id=mid))
        groups.append(Group(mid, leader_id, channel, tuple(rs)))
    groups.sort(key=lambda g: min(r.created_at for r in g.rows))
    return groups


def record(conn: sa.Connection, group: Group, now: datetime, *, ok: bool, error: str | None = None,
           attempts: int = 1, retry_at: datetime | None = None, uncertain: bool = False) -> str:
    """Store a group's outcome: sent, retry at `retry_at`, uncertain (may have been delivered: never
    resent), or failed. Returns the status."""
    ids = [r.id for r in group.rows]
    if ok:
        status = "sent"
    elif uncertain:
        status = "uncertain"
    else:
        status = "pending" if retry_at is not None else "failed"
    values: dict[str, Any] = {"status": status, "attempts": NOTIFICATIONS.c.attempts + attempts,
              "last_error": None if ok else (error or "")[:500]}
    if ok:
        values["sent_at"] = now
    if status == "pending":
        values["next_attempt_at"] = retry_at
    conn.execute(NOTIFICATIONS.update().where(NOTIFICATIONS.c.id.in_(ids), NOTIFICATIONS.c.status == "pending")
                 .values(**values))
    if status != "pending":
        _note_history(conn, now, [
            (r.alert_id, {"leader": r.leader_id, "channel": r.channel, "notice": r.kind, "outcome": status,
                          "attempts": r.attempts + attempts, "message_id": group.message_id,
                          **({"error": (error or "")[:300]} if not ok else {})})
            for r in group.rows
        ])
    return status


def _note_history(conn: sa.Connection, now: datetime, deliveries: list[tuple[str, dict]]) -> None:
    """One `notified` history record per alert at `now`, listing the deliveries (merged when the
    record of this alert and instant exists already)."""
    by_alert: dict[str, list[dict]] = defaultdict(list)
    for alert_id, d in deliveries:
        by_alert[alert_id].append(d)
    if not by_alert:
        return
    levels = dict(conn.execute(sa.select(ALERTS.c.alert_id, ALERTS.c.level)
                               .where(ALERTS.c.alert_id.in_(list(by_alert)))).all())
    at = now.astimezone(UTC)
    for alert_id, items in by_alert.items():
        level = levels.get(alert_id, "")
        key = (HISTORY.c.alert_id == alert_id, HISTORY.c.action == "notified", HISTORY.c.at == at,
               HISTORY.c.level == level)
        existing = conn.execute(sa.select(HISTORY.c.id, HISTORY.c.detail).where(*key)).first()
        if existing is None:
            conn.execute(HISTORY.insert().values(alert_id=alert_id, action="notified", level=level,
                                                 actor=NOTIFIER_ACTOR, at=at, detail={"deliveries": items}))
        else:
            merged = list((existing.detail or {}).get("deliveries", [])) + items
            conn.execute(HISTORY.update().where(HISTORY.c.id == existing.id).values(detail={"deliveries": merged}))
