"""`assignments.yaml` (包保, docs/contract.md §5): which leader answers for an alert, and whom to escalate to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.config_errors import ConfigError, Problems, load_yaml_mapping
from pipeline.timeutil import duration_seconds

_ENTITY_REF = re.compile(r"(person|business|location|building|checkpoint):[^\s:][^\s]*")
_LEADER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class Leader:
    id: str
    name: str
    chain: tuple[str, ...]


@dataclass(frozen=True)
class Assignments:
    leaders: dict[str, Leader]
    by_entity: dict[str, str]
    by_building: dict[str, str]
    by_category: dict[str, str]
    default: str
    ack_timeout: dict[str, float]

    def assignee(self, entity: str, building: str | None, category: str) -> str:
        """First match of the entity itself, its building, the firing rule's category, then default."""
        return (
            self.by_entity.get(entity)
            or (self.by_building.get(building) if building is not None else None)
            or self.by_category.get(category)
            or self.default
        )


def load_assignments(path: str | Path, levels: list[str] | None = None) -> Assignments:
    name = str(path)
    data = load_yaml_mapping(path)
    problem = Problems(name)
    issues = problem.issues

    for key in data:
        if key not in ("leaders", "assign", "default", "ack_timeout"):
            problem(str(key), "unknown key")
    leaders: dict[str, Leader] = {}
    raw_leaders = data.get("leaders")
    if not isinstance(raw_leaders, dict) or not raw_leaders:
        problem("leaders", "must be a non-empty mapping of leader id to {name, chain}")
        raw_leaders = {}
    for lid, spec in raw_leaders.items():
        key = f"leaders.{lid}"
        if not isinstance(lid, str) or not _LEADER_ID.fullmatch(lid):
            problem(key, "leader ids are 1-32 chars of [A-Za-z0-9_-]")
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"].strip():
            problem(f"{key}.name", "required: the leader's title (a role, never a personal name)")
            continue
        for extra in spec:
            if extra not in ("name", "chain"):
                problem(f"{key}.{extra}", "unknown key")
        chain = spec.get("chain", [])
        if not isinstance(chain, list) or not all(isinstance(c, str) for c in chain):
            problem(f"{key}.chain", "must be a list of leader ids")
            chain = []
        leaders[lid] = Leader(lid, spec["name"].strip(), tuple(chain))
    for lid, leader in leaders.items():
        for i, nxt in enumerate(leader.chain):
            if nxt not in raw_leaders:
                problem(f"leaders.{lid}.chain[{i}]", f"unknown leader {nxt!r}")
            elif nxt == lid:
                problem(f"leaders.{lid}.chain[{i}]", "a leader cannot escalate to themself")

    by_entity: dict[str, str] = {}
    by_building: dict[str, str] = {}
    by_category: dict[str, str] = {}
    raw_assign = data.get("assign", [])
    if not isinstance(raw_assign, list):
        problem("assign", "must be a list")
        raw_assign = []
    for i, item in enumerate(raw_assign):
        key = f"assign[{i}]"
        if not isinstance(item, dict):
            problem(key, "must be a mapping")
            continue
        selectors = [s for s in ("entity", "building", "category") if s in item]
        extra = [k for k in item if k not in ("entity", "building", "category", "leader")]
        for k in extra:
            problem(f"{key}.{k}", "unknown key")
        if len(selectors) != 1:
            problem(key, "needs exactly one of entity, building, category")
            continue
        selector = selectors[0]
        value = item[selector]
        value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(value, str) or not value:
            problem(f"{key}.{selector}", "must be a non-empty string")
            continue
        if selector == "entity" and not _ENTITY_REF.fullmatch(value):
            problem(f"{key}.entity", "must be an entity reference like person:P-0007")
            continue
        leader = item.get("leader")
        if leader not in raw_leaders:
            problem(f"{key}.leader", f"unknown leader {leader!r}")
            continue
        table = {"entity": by_entity, "building": by_building, "category": by_category}[selector]
        table.setdefault(value, leader)

    default = data.get("default")
    if default not in raw_leaders:
        problem("default", f"must name a leader (got {default!r})")

    ack_timeout: dict[str, float] = {}
    raw_timeouts = data.get("ack_timeout", {})
    if not isinstance(raw_timeouts, dict):
        problem("ack_timeout", "must be a mapping of level to duration")
        raw_timeouts = {}
    for level, text in raw_timeouts.items():
        if levels is not None and level not in levels:
            problem(f"ack_timeout.{level}", f"unknown level (use {', '.join(levels)})")
            continue
        try:
            ack_timeout[level] = duration_seconds(text)
        except ValueError as exc:
            problem(f"ack_timeout.{level}", str(exc))

    if issues:
        raise ConfigError(issues)
    return Assignments(leaders, by_entity, by_building, by_category, default, ack_timeout)
