"""`assignments.yaml` (包保, docs/contract.md §5): which leader answers for an alert, and whom to escalate to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError, model_validator

from pipeline.config_errors import ConfigError, ConfigIssue, issues_from_validation_error, load_yaml_mapping
from pipeline.rules.spec import Duration

LeaderId = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_-]{1,32}$")]
LEADER_ID: TypeAdapter[str] = TypeAdapter(LeaderId)


def _int_as_text(value: Any) -> Any:
    # YAML reads `building: 1` as an int; building ids are text everywhere else
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


NonEmpty = Annotated[str, Field(strict=True, min_length=1)]


class LeaderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, Field(pattern=r"\S", description="the leader's title (a role, never a personal name)")]
    chain: list[StrictStr] = []


class AssignSpec(BaseModel):
    """One `assign` entry: exactly one selector and the leader who answers for it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    entity: Annotated[str, Field(pattern=r"^(person|business|location|building|checkpoint):[^\s:]\S*$")] | None = None
    building: Annotated[NonEmpty, BeforeValidator(_int_as_text)] | None = None
    category: NonEmpty | None = None
    leader: StrictStr

    @model_validator(mode="after")
    def _one_selector(self) -> AssignSpec:
        if sum(v is not None for v in (self.entity, self.building, self.category)) != 1:
            raise ValueError("needs exactly one of entity, building, category")
        return self


class AssignmentsFile(BaseModel):
    """The file's shape; leaders and assign entries are checked one by one so each is keyed by its place."""

    model_config = ConfigDict(extra="forbid", strict=True)

    leaders: Annotated[dict[Any, Any], Field(min_length=1)]
    assign: list[Any] = []
    default: StrictStr
    ack_timeout: dict[StrictStr, Duration] = {}


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
    """assignments.yaml, or a ConfigError listing every problem (file and key)."""
    name = str(path)
    data = load_yaml_mapping(path)
    issues: list[ConfigIssue] = []

    def problem(key: str, message: str) -> None:
        issues.append(ConfigIssue(name, key, message))

    top = _validated(AssignmentsFile, data, name, "", issues)
    raw_leaders: dict[Any, Any] = data["leaders"] if isinstance(data.get("leaders"), dict) else {}
    leaders: dict[str, Leader] = {}
    for lid, spec in raw_leaders.items():
        if _validated(LEADER_ID, lid, name, f"leaders.{lid}", issues) is None:
            continue
        leader = _validated(LeaderSpec, spec, name, f"leaders.{lid}", issues)
        if leader is not None:
            leaders[lid] = Leader(lid, leader.name.strip(), tuple(leader.chain))
    for lid, leader in leaders.items():
        for i, nxt in enumerate(leader.chain):
            if nxt not in raw_leaders:
                problem(f"leaders.{lid}.chain[{i}]", f"unknown leader {nxt!r}")
            elif nxt == lid:
                problem(f"leaders.{lid}.chain[{i}]", "a leader cannot escalate to themself")

    tables: dict[str, dict[str, str]] = {"entity": {}, "building": {}, "category": {}}
    raw_assign = data.get("assign")
    for i, item in enumerate(raw_assign if isinstance(raw_assign, list) else []):
        entry = _validated(AssignSpec, item, name, f"assign[{i}]", issues)
        if entry is None:
            continue
        if entry.leader not in raw_leaders:
            problem(f"assign[{i}].leader", f"unknown leader {entry.leader!r}")
            continue
        selector = next(s for s in tables if getattr(entry, s) is not None)
        tables[selector].setdefault(getattr(entry, selector), entry.leader)

    default = data.get("default")
    if isinstance(default, str) and default not in raw_leaders:
        problem("default", f"must name a leader (got {default!r})")
    ack_timeout = top.ack_timeout if top is not None else {}
    raw_timeouts = data.get("ack_timeout")
    for level in raw_timeouts if isinstance(raw_timeouts, dict) else {}:
        if levels is not None and level not in levels:
            problem(f"ack_timeout.{level}", f"unknown level (use {', '.join(levels)})")

    if issues or top is None:
        raise ConfigError(issues)
    return Assignments(leaders, tables["entity"], tables["building"], tables["category"], top.default, dict(ack_timeout))


def _validated(model: Any, value: Any, name: str, prefix: str, issues: list[ConfigIssue]) -> Any:
    """`value` validated by a model or TypeAdapter, or None with its problems appended to `issues`."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(value)
        return model.model_validate(value)
    except ValidationError as exc:
        issues += issues_from_validation_error(name, exc, prefix, brackets=True)
        return None
