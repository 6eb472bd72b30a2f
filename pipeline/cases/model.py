"""A case (docs/contract.md §8): one piece of work a leader owns until it is closed.

Kinds and their states:
    hazard   open → rectified → closed (verified); reopened → open
    dispute  open → in_progress (mediation_held) → referred (escalated/referred) → closed (resolved)
    alert    open → acknowledged → resolved | closed (the alert's own states, §5)
    person   open → closed (by hand, with a reason, once none of the person's alerts and disputes is open)
Open means any state but closed and resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = ("hazard", "dispute", "alert", "person")
ENDED_STATES = ("closed", "resolved")
DAY_S = 86400


def iso(at: datetime | None) -> str | None:
    """UTC with Z, whole seconds unless there is a fraction."""
    if at is None:
        return None
    return at.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def case_kind(ref: str) -> str:
    kind, sep, ident = ref.partition(":")
    if not sep or not ident or kind not in KINDS:
        raise ValueError(f"不是案件编号：{ref!r}（应为 hazard:<编号>、dispute:<编号>、alert:<编号> 或 person:<编号>）")
    return kind


@dataclass(frozen=True)
class CaseRecord:
    ref: str
    kind: str
    state: str
    owner: str | None
    building: str | None
    location_id: str | None
    entity: str | None               # the scored entity whose score/level the case shows (None: disputes)
    opened_at: datetime
    due: datetime | None
    closed_at: datetime | None       # when it stopped being open (None while open)
    last_action_at: datetime
    persons: tuple[str, ...] = field(default=(), compare=False)   # disputes: the persons named as subjects

    @property
    def is_open(self) -> bool:
        return self.state not in ENDED_STATES

    def is_overdue(self, at: datetime) -> bool:
        """Open, with a due time passed at `at`; a rectified hazard waits for verification, not overdue."""
        if not self.is_open or self.due is None:
            return False
        if self.kind == "hazard" and self.state != "open":
            return False
        return at > self.due

    def days_overdue(self, at: datetime) -> int:
        """Whole days from `due` to `at`, 0 when not overdue."""
        if not self.is_overdue(at):
            return 0
        assert self.due is not None
        return int((at - self.due).total_seconds() // DAY_S)

    def as_dict(self, at: datetime | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ref": self.ref, "kind": self.kind, "state": self.state, "open": self.is_open,
            "leader": self.owner, "building": self.building, "location": self.location_id,
            "entity": self.entity, "opened_at": iso(self.opened_at), "due": iso(self.due),
            "closed_at": iso(self.closed_at), "last_action_at": iso(self.last_action_at),
        }
        if at is not None:
            out["days_overdue"] = self.days_overdue(at)
        return out
