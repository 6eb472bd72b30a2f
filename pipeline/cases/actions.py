"""What people do to a case (docs/contract.md §8): notes (处置措施 / 进展), 转办 and closing by hand.

Each action is ONE transaction: the `case_actions` row (who, when, text), an audit record, and the
case's row in `cases` refreshed. Who may act:
- a note: the case's owner (a leader token of that leader) or an analyst/admin;
- 转办 (reassign, reason required): an analyst or admin;
- closing by hand (reason required): person cases (一人一案) once none of the person's alerts and
  disputes is open, by the owner or an analyst/admin; alert cases close the alert itself (§5).
Hazards and disputes close by their events (`hazard.verified`, `dispute.resolved`), never by hand.
The CLI acts as admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa

from pipeline import audit
from pipeline.alerting import actions as alert_actions
from pipeline.alerting.access import Principal, check_act
from pipeline.assignments import Assignments
from pipeline.cases.derive import derive_case, derive_cases
from pipeline.cases.model import CaseRecord, case_kind, iso
from pipeline.cases.store import refresh_cases
from pipeline.errors import Conflict, Forbidden, NotFound, UsageError
from pipeline.labels import CASE_KINDS, case_state_label, label
from pipeline.storage.case_tables import NOTE_KINDS, CaseAction

ACTIONS = cast(sa.Table, CaseAction.__table__)
MAX_TEXT = 2000
MANAGE = frozenset({"analyst", "admin"})
AUDIT_NOTE = "case_note"
AUDIT_REASSIGN = "case_reassign"
AUDIT_CLOSE = "case_close"
T = TypeVar("T")


@dataclass(frozen=True)
class ActionRecord:
    id: int
    ref: str
    action: str           # note | reassign | close
    note_kind: str | None  # measure (处置措施) | progress (进展), notes only
    owner: str | None     # reassign: the new owner
    actor: str
    at: datetime
    text: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ref": self.ref, "action": self.action, "note_kind": self.note_kind,
                "owner": self.owner, "actor": self.actor, "at": iso(self.at), "text": self.text}


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _text(value: str | None, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise UsageError(f"{what}不能为空")
    if len(value) > MAX_TEXT:
        raise UsageError(f"{what}超过{MAX_TEXT}字")
    return value


def _in_transaction(bind: sa.Engine | sa.Connection, work: Callable[[sa.Connection], T]) -> T:
    if isinstance(bind, sa.Connection):
        return work(bind)
    with bind.begin() as conn:
        return work(conn)


def _case(conn: sa.Connection, assignments: Assignments, ref: str) -> CaseRecord:
    try:
        case_kind(ref)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    case = derive_case(conn, assignments, ref)
    if case is None:
        raise NotFound(f"没有案件 {ref}")
    return case


def may_act(p: Principal, case: CaseRecord) -> bool:
    """The owner (a leader) or an analyst/admin."""
    return p.role in MANAGE or (p.role == "leader" and p.leader_id is not None and p.leader_id == case.owner)


def _record(conn: sa.Connection, assignments: Assignments, ref: str, action: str, p: Principal, at: datetime,
            text: str | None, note_kind: str | None = None, owner: str | None = None,
            audit_action: str = AUDIT_NOTE) -> ActionRecord:
    result = conn.execute(ACTIONS.insert().values(ref=ref, action=action, note_kind=note_kind, owner=owner,
                                                  actor=p.actor[:64], at=at, text=text))
    # Ids and kinds only in the audit trail: a note's text may name people.
    audit.record(conn, p.actor, audit_action, {"case": ref, **({"to": owner} if owner else {})}, at=at)
    refresh_cases(conn, assignments, [ref])
    (new_id,) = result.inserted_primary_key or (0,)
    return ActionRecord(int(new_id), ref, action, note_kind, owner, p.actor[:64], at, text)


def add_note(bind: sa.Engine | sa.Connection, assignments: Assignments, ref: str, p: Principal, text: str,
             note_kind: str = "progress", now: datetime | None = None) -> ActionRecord:
    """A note (measure: 处置措施, progress: 进展) by the owner or an analyst/admin."""
    if note_kind not in NOTE_KINDS:
        raise UsageError(f"批注类型须为 {' 或 '.join(NOTE_KINDS)}（处置措施 / 进展）")
    body, at = _text(text, "批注内容"), _now(now)

    def work(conn: sa.Connection) -> ActionRecord:
        case = _case(conn, assignments, ref)
        if not may_act(p, case):
            raise Forbidden("只有案件的包保领导或研判分析人员可以添加批注")
        return _record(conn, assignments, ref, "note", p, at, body, note_kind=note_kind)

    return _in_transaction(bind, work)


def reassign(bind: sa.Engine | sa.Connection, assignments: Assignments, ref: str, p: Principal, to: str,
             reason: str, now: datetime | None = None) -> ActionRecord:
    """转办: an analyst or admin gives the case to another leader, with a reason."""
    if p.role not in MANAGE:
        raise Forbidden("只有研判分析人员或管理员可以转办案件")
    if to not in assignments.leaders:
        raise UsageError(f"未知的包保领导 {to!r}（见 assignments.yaml）")
    body, at = _text(reason, "理由"), _now(now)

    def work(conn: sa.Connection) -> ActionRecord:
        case = _case(conn, assignments, ref)
        if not case.is_open:
            raise Conflict(f"案件 {ref} {case_state_label(case.kind, case.state)}，不能转办")
        if case.owner == to:
            raise Conflict(f"案件 {ref} 已由 {to} 负责")
        return _record(conn, assignments, ref, "reassign", p, at, body, owner=to, audit_action=AUDIT_REASSIGN)

    return _in_transaction(bind, work)


def close_case(bind: sa.Engine | sa.Connection, assignments: Assignments, ref: str, p: Principal, reason: str,
               now: datetime | None = None) -> ActionRecord | None:
    """Close a person case (一人一案) by hand, or an alert case through the alert (§5). Reason required."""
    body, at = _text(reason, "理由"), _now(now)

    def work(conn: sa.Connection) -> ActionRecord | None:
        case = _case(conn, assignments, ref)
        if case.kind == "alert":
            alert_actions.close(conn, ref.partition(":")[2], p.actor, body, now=at,
                                authorize=lambda alert: check_act(p, alert, assignments), assignments=assignments)
            refresh_cases(conn, assignments, [ref])
            return None
        if case.kind != "person":
            raise Conflict(f"{label(CASE_KINDS, case.kind)}案件随其事件办结（隐患验收、纠纷化解），不能手工办结")
        if not may_act(p, case):
            raise Forbidden("只有案件的包保领导或研判分析人员可以办结案件")
        if not case.is_open:
            raise Conflict(f"案件 {ref} 已办结")
        others = _open_related(conn, assignments, case)
        if others:
            raise Conflict(f"该人员仍有未办结的预警或纠纷：{'、'.join(others)}")
        return _record(conn, assignments, ref, "close", p, at, body, audit_action=AUDIT_CLOSE)

    return _in_transaction(bind, work)


def _open_related(conn: sa.Connection, assignments: Assignments, case: CaseRecord) -> list[str]:
    """The person's open alert and dispute cases."""
    pid = case.ref.partition(":")[2]
    everything = derive_cases(conn, assignments)
    return sorted(c.ref for c in everything.values() if c.is_open and (
        (c.kind == "alert" and c.entity == case.ref) or (c.kind == "dispute" and pid in c.persons)))


def case_actions(conn: sa.Connection, ref: str) -> list[ActionRecord]:
    """Every note, 转办 and closing of a case, oldest first."""
    q = sa.select(ACTIONS).where(ACTIONS.c.ref == ref).order_by(ACTIONS.c.at, ACTIONS.c.id)
    return [ActionRecord(r.id, r.ref, r.action, r.note_kind, r.owner, r.actor,
                         r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC), r.text) for r in conn.execute(q)]
