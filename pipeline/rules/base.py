"""The small interface every rule type implements, and the fields all rules share.

A rule type's per-entity state is a plain JSON-serialisable dict owned by the engine, so the stream
can keep it in a changelog-backed table and restore it after a crash. Times are epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pipeline.contract import Event
from pipeline.rules.spec import RuleSpec


@dataclass(frozen=True)
class Trigger:
    """A rule firing for one entity: the time it counts from and the evidence event ids."""

    t: float
    events: tuple[str, ...]


class RuleLogic:
    """Type-specific behaviour. Hooks follow the processing order of docs/contract.md §3.

    `observe` is step 2 (match, threshold, sequence), `cancel` the expect part of step 2, `open`
    step 3; `due`/`fire_due` serve step 1. Types override what they use; the defaults do nothing.
    """

    #: the pydantic model of this type's rules (a RuleSpec subclass with a `type` literal)
    Spec: ClassVar[type[RuleSpec]]

    def __init__(self, spec: Any, problems: list) -> None:
        """Build from a validated `Spec`; problems of its conditions are added to `problems`."""

    def conditions(self) -> list[tuple[str, dict]]:
        """(key, condition mapping) pairs, for indexing rules by kind/type and for guardrails."""
        raise NotImplementedError

    def may_apply(self, doc: dict) -> bool:
        """A cheap test, before targets are resolved, that the event can matter to this rule at all."""
        return True

    def observe(self, state: dict, ev: Event, role: str | None) -> list[Trigger]:
        return []

    def cancel(self, state: dict, ev: Event, role: str | None) -> None:
        return None

    def open(self, state: dict, ev: Event, role: str | None) -> list[tuple[float, str]]:
        """Open deadlines; returns (due time, deadline key) of those newly opened."""
        return []

    def due(self, state: dict) -> list[tuple[float, str]]:
        """(due time, deadline key) of every open deadline."""
        return []

    def current_due(self, state: dict, key: str) -> float | None:
        """The due time of the open deadline `key`, or None when it is not open."""
        return None

    def fire_due(self, state: dict, key: str, due: float) -> tuple[Trigger | None, float | None]:
        """Fire the deadline `key` due at `due`; returns the trigger and the next due time, if any."""
        return None, None

    def prune(self, state: dict, clock: float) -> None:
        """Drop what can no longer matter at `clock` (old window events, stale partial matches)."""
        return None


@dataclass(frozen=True)
class Rule:
    index: int
    id: str
    title: str
    category: str
    target: str
    roles: frozenset[str] | None
    type: str
    score: float
    half_life: float
    alert: bool
    enabled: bool
    description: str
    logic: RuleLogic


