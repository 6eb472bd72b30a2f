"""Decisions of the meeting (研判意见, docs/contract.md §8): tied to a case, an owner and a due date.

A decision is `done` once marked done (with a note on 落实情况), else `overdue` when the local date
(the area's time zone) is after its due date, else `open`. States are judged at any time `at`: a
decision marked done later was not done then. `week` is the meeting (ISO week) that made it; when not
given, the week of the day it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pipeline import audit
from pipeline.alerting.access import Principal
from pipeline.assignments import Assignments
from pipeline.cases.actions import MANAGE, MAX_TEXT, _in_transaction, _now, _text
from pipeline.cases.derive import derive_case
from pipeline.cases.model import case_kind, iso
from pipeline.errors import Conflict, Forbidden, NotFound, UsageError
from pipeline.exports.period import iso_week, week_of
from pipeline.storage.case_tables import Decision

DECISIONS = cast(sa.Table, Decision.__table__)
STATES = ("open", "done", "overdue")
AUDIT_ADD = "decision_add"
AUDIT_DONE = "decision_done"


def _aware(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DecisionRecord:
    id: int
    case: str
    text: str
    owner: str
    due: date
    week: str
    created_at: datetime
    created_by: str
    done_at: datetime | None
    done_by: str | None
    done_note: str | None

    @classmethod
    def from_row(cls, r: Any) -> DecisionRecord:
        return cls(int(r.id), r.case_ref, r.text, r.owner, r.due, r.week, _aware(r.created_at) or r.created_at,
                   r.created_by, _aware(r.done_at), r.done_by, r.done_note)

    def done_by_time(self, at: datetime) -> bool:
        return self.done_at is not None and self.done_at <= at

    def state_at(self, at: datetime, tz: ZoneInfo) -> str:
        if self.done_by_time(at):
            return "done"
        return "overdue" if at.astimezone(tz).date() > self.due else "open"

    def as_dict(self, at: datetime, tz: ZoneInfo) -> dict[str, Any]:
        done = self.done_by_time(at)
        return {"id": self.id, "case": self.case, "text": self.text, "owner": self.owner,
                "due": self.due.isoformat(), "week": self.week, "state": self.state_at(at, tz),
                "created_at": iso(self.created_at), "created_by": self.created_by,
                "done_at": iso(self.done_at) if done else None, "done_by": self.done_by if done else None,
                "done_note": self.done_note if done else None}


def parse_due(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except (AttributeError, ValueError):
        raise UsageError(f"--due 须为日期 YYYY-MM-DD（收到 {text!r}）") from None


def add_decision(bind: sa.Engine | sa.Connection, assignments: Assignments, tz: ZoneInfo, case: str, text: str,
                 owner: str, due: date, p: Principal, week: str | None = None,
                 now: datetime | None = None) -> DecisionRecord:
    """Record a decision of the meeting (analyst or admin) on an existing case."""
    if p.role not in MANAGE:
        raise Forbidden("只有研判分析人员或管理员可以记录研判意见")
    try:
        case_kind(case)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if owner not in assignments.leaders:
        raise UsageError(f"未知的包保领导 {owner!r}（见 assignments.yaml）")
    body, at = _text(text, "研判意见内容"), _now(now)
    try:
        week = iso_week(week, tz).label if week else week_of(at.astimezone(tz).date(), tz).label
    except ValueError as exc:
        raise UsageError(f"--week: {exc}") from None

    def work(conn: sa.Connection) -> DecisionRecord:
        if derive_case(conn, assignments, case) is None:
            raise NotFound(f"没有案件 {case}")
        result = conn.execute(DECISIONS.insert().values(
            case_ref=case, text=body, owner=owner, due=due, week=week, created_at=at, created_by=p.actor[:64]))
        (new_id,) = result.inserted_primary_key or (0,)
        audit.record(conn, p.actor, AUDIT_ADD, {"decision": int(new_id), "case": case, "owner": owner}, at=at)
        return get_decision(conn, int(new_id))

    return _in_transaction(bind, work)


def mark_done(bind: sa.Engine | sa.Connection, decision_id: int, note: str, p: Principal,
              now: datetime | None = None) -> DecisionRecord:
    """落实: the decision's owner (a leader) or an analyst/admin marks it done, saying how."""
    body, at = _text(note, "落实情况说明"), _now(now)

    def work(conn: sa.Connection) -> DecisionRecord:
        decision = get_decision(conn, decision_id)
        if not (p.role in MANAGE or (p.role == "leader" and p.leader_id == decision.owner)):
            raise Forbidden("只有责任人或研判分析人员可以标记落实")
        done = conn.execute(DECISIONS.update().where(DECISIONS.c.id == decision_id, DECISIONS.c.done_at.is_(None))
                            .values(done_at=at, done_by=p.actor[:64], done_note=body[:MAX_TEXT]))
        if done.rowcount != 1:
            raise Conflict(f"研判意见 {decision_id} 已落实")
        audit.record(conn, p.actor, AUDIT_DONE, {"decision": decision_id}, at=at)
        return get_decision(conn, decision_id)

    return _in_transaction(bind, work)


def get_decision(conn: sa.Connection, decision_id: int) -> DecisionRecord:
    row = conn.execute(sa.select(DECISIONS).where(DECISIONS.c.id == decision_id)).first()
    if row is None:
        raise NotFound(f"没有研判意见 {decision_id}")
    return DecisionRecord.from_row(row)


def list_decisions(conn: sa.Connection, tz: ZoneInfo, state: str | None = None, owner: str | None = None,
                   case: str | None = None, at: datetime | None = None) -> list[DecisionRecord]:
    """Decisions by id, optionally of one state (judged at `at`, default now), owner or case."""
    if state is not None and state not in STATES:
        raise UsageError(f"--state 须为 {'、'.join(STATES)} 之一")
    q = sa.select(DECISIONS).order_by(DECISIONS.c.id)
    if owner is not None:
        q = q.where(DECISIONS.c.owner == owner)
    if case is not None:
        q = q.where(DECISIONS.c.case_ref == case)
    out = [DecisionRecord.from_row(r) for r in conn.execute(q)]
    when = _now(at)
    return [d for d in out if state is None or d.state_at(when, tz) == state]
