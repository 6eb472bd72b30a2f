"""Alert raising (docs/contract.md §5): at most one open alert per entity; a rise in level upgrades it.

The open alert lives in the entity's state as a plain dict. Acknowledgement, escalation and
resolution belong to the alert workflow; the engine only raises, upgrades and attaches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipeline.assignments import Assignments
from pipeline.rules.base import Rule
from pipeline.rules.loader import RuleSet


@dataclass(frozen=True)
class AlertChange:
    change: str            # raised | upgraded | attached
    alert_id: str
    entity: str
    level: str
    assignee: str
    rules: tuple[str, ...]
    at: float
    score: float


def alert_id(entity: str, raised_at: float) -> str:
    """Stable id: the same input raises the same alert id in replay and in the stream."""
    return hashlib.sha1(f"{entity}|{raised_at!r}".encode()).hexdigest()[:16]


def on_firing(
    state: dict,
    entity: str,
    rule: Rule,
    level: str,
    score: float,
    fired_at: float,
    ruleset: RuleSet,
    assignments: Assignments,
) -> AlertChange | None:
    alert = state.get("a")
    if alert is not None:
        if rule.id not in alert["rules"]:
            alert["rules"].append(rule.id)
        change = "attached"
        if ruleset.rank(level) > ruleset.rank(alert["level"]):
            alert["level"] = level
            change = "upgraded"
        return AlertChange(
            change, alert["id"], entity, alert["level"], alert["assignee"],
            tuple(alert["rules"]), fired_at, score,
        )
    if not (rule.alert or ruleset.rank(level) >= ruleset.rank(ruleset.alert_level)):
        return None
    assignee = assignments.assignee(entity, state.get("b"), rule.category)
    alert = {
        "id": alert_id(entity, fired_at),
        "level": level,
        "assignee": assignee,
        "rules": [rule.id],
        "raised_at": fired_at,
    }
    state["a"] = alert
    return AlertChange("raised", alert["id"], entity, level, assignee, (rule.id,), fired_at, score)
