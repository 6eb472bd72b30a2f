"""Who may see and act on which alert: roles of pipeline/auth.py tokens.

- viewer, analyst: see every alert, act on none;
- leader: see and act on alerts assigned to them or to a leader whose escalation chain includes
  them (an alert escalates along its assignee's chain, so those leaders answer for it too);
- admin: see and act on every alert.
The CLI (someone with the database in hand) acts as admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.alerting.records import AlertRecord
from pipeline.assignments import Assignments
from pipeline.errors import Forbidden

SEE_ALL = frozenset({"viewer", "analyst", "admin"})
ACT_ANY = frozenset({"admin"})
ACT_OWN = frozenset({"leader"})


@dataclass(frozen=True)
class Principal:
    actor: str                 # recorded as `actor` in alert_history and audit_log
    role: str
    leader_id: str | None = None


def answerable(assignments: Assignments, leader_id: str) -> set[str]:
    """Assignees whose alerts `leader_id` answers for: themself and everyone whose chain has them."""
    out = {leader_id}
    for lid, leader in assignments.leaders.items():
        if leader_id in leader.chain:
            out.add(lid)
    return out


def visible_assignees(p: Principal, assignments: Assignments) -> set[str] | None:
    """None: every alert; else the assignees whose alerts the principal sees."""
    if p.role in SEE_ALL:
        return None
    if p.role == "leader" and p.leader_id:
        return answerable(assignments, p.leader_id)
    return set()


def check_see(p: Principal, alert: AlertRecord, assignments: Assignments) -> None:
    scope = visible_assignees(p, assignments)
    if scope is not None and alert.assignee not in scope:
        raise Forbidden("this alert is not assigned to you or your chain")


def check_act(p: Principal, alert: AlertRecord, assignments: Assignments) -> None:
    if p.role in ACT_ANY:
        return
    if p.role not in ACT_OWN or not p.leader_id:
        raise Forbidden(f"role {p.role} may not acknowledge or close alerts")
    if alert.assignee not in answerable(assignments, p.leader_id):
        raise Forbidden("this alert is not assigned to you or your chain")
