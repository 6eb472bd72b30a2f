"""`absence`: a `start` event opens a deadline; an `expect` event cancels it; otherwise it fires.

State: {"d": {key: [due, repeats_fired, [start event ids]]}}, the key being the JSON of the
`correlate` value ("" without `correlate`). With `start` = `expect` this is "at least one every
`within`": each event cancels the open deadline (step 2) and opens the next one (step 3).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator

from pipeline.rules.base import RuleLogic, Trigger
from pipeline.rules.conditions import MISSING, compile_condition, field_getter, reads_role
from pipeline.rules.spec import Condition, Duration, RuleSpec

DEFAULT_MAX_REPEATS = 30
# `max_repeats: unlimited`: repeat until the expect event cancels the deadline. What "overdue while
# open" needs (an unrectified hazard keeps counting); see docs/semantics.md.
UNLIMITED = "unlimited"


def _max_repeats(value: Any) -> Any:
    if value == UNLIMITED or (type(value) is int and value >= 0):
        return value
    raise ValueError(f"must be an integer >= 0 or {UNLIMITED}")


class AbsenceSpec(RuleSpec):
    type: Literal["absence"]
    start: Condition
    expect: Condition
    within: Duration
    correlate: Any = None  # a field path, checked by conditions.field_getter
    repeat_every: Duration | None = None
    max_repeats: Annotated[Any, AfterValidator(_max_repeats)] = None

    def cross_field_problems(self) -> list[tuple[str, str]]:
        found = super().cross_field_problems()
        if self.max_repeats is not None and self.repeat_every is None:
            found.append(("max_repeats", "only meaningful with repeat_every"))
        return found


class AbsenceRule(RuleLogic):
    Spec = AbsenceSpec

    def __init__(self, spec: AbsenceSpec, problems):
        self.start_spec = spec.start
        self.expect_spec = spec.expect
        self.start = compile_condition(self.start_spec, "start", problems)
        self.expect = compile_condition(self.expect_spec, "expect", problems)
        self._role_free = not (reads_role(self.start_spec) or reads_role(self.expect_spec))
        self.within = spec.within
        self.repeat_every = spec.repeat_every
        self.max_repeats: int | None = (
            DEFAULT_MAX_REPEATS if spec.max_repeats is None
            else None if spec.max_repeats == UNLIMITED else int(spec.max_repeats)
        )
        self.correlate = None
        if spec.correlate is not None:
            self.correlate = field_getter(spec.correlate, "correlate", problems)

    def conditions(self):
        return [("start", self.start_spec), ("expect", self.expect_spec)]

    def may_apply(self, doc):
        return not self._role_free or self.expect(doc, None) or self.start(doc, None)

    def _key(self, ev, role) -> str | None:
        if self.correlate is None:
            return ""
        value = self.correlate(ev.doc, role)
        if value is MISSING:
            return None
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

    def cancel(self, state, ev, role):
        deadlines = state.get("d")
        if deadlines and self.expect(ev.doc, role):
            key = self._key(ev, role)
            if key is not None:
                deadlines.pop(key, None)

    def open(self, state, ev, role):
        if not self.start(ev.doc, role):
            return []
        key = self._key(ev, role)
        deadlines = state.setdefault("d", {})
        if key is None or key in deadlines:
            return []
        due = ev.t + self.within
        deadlines[key] = [due, 0, [ev.event_id]]
        return [(due, key)]

    def due(self, state):
        return [(entry[0], key) for key, entry in state.get("d", {}).items()]

    def current_due(self, state, key):
        entry = state.get("d", {}).get(key)
        return None if entry is None else entry[0]

    def fire_due(self, state, key, due):
        deadlines = state.get("d", {})
        entry = deadlines.get(key)
        if entry is None or entry[0] != due:
            return None, None
        trigger = Trigger(due, tuple(entry[2]))
        if self.repeat_every is not None and (self.max_repeats is None or entry[1] < self.max_repeats):
            entry[0] = due + self.repeat_every
            entry[1] += 1
            return trigger, entry[0]
        del deadlines[key]
        return trigger, None
