"""`sequence`: events matching `steps` in order for one entity, last within `within` of the first.

State: {"p": [[next_step, start_t, [event ids]], ...]} — at most one partial match per next step:
of two partials waiting for the same step, the later-started one can complete whenever the older
can (it has more of `within` left), so keeping only it bounds memory without losing a firing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from pipeline.contract import Event
from pipeline.rules.base import RuleLogic, Trigger
from pipeline.rules.conditions import compile_condition
from pipeline.rules.spec import Condition, Duration, RuleSpec


class SequenceSpec(RuleSpec):
    type: Literal["sequence"]
    steps: Annotated[list[Condition], Field(min_length=2)]
    within: Duration


class SequenceRule(RuleLogic):
    Spec = SequenceSpec

    def __init__(self, spec: SequenceSpec, problems):
        self.step_specs = list(spec.steps)
        self.steps = [compile_condition(s, f"steps[{i}]", problems) for i, s in enumerate(self.step_specs)]
        self.within = spec.within

    def conditions(self):
        return [(f"steps[{i}]", s) for i, s in enumerate(self.step_specs)]

    def observe(self, state: dict, ev: Event, role: str | None) -> list[Trigger]:
        partials = state.get("p", [])
        doc, t, last = ev.doc, ev.t, len(self.steps) - 1
        advanced: dict[int, list] = {}
        # Highest step first, so one event advances each partial by one step at most.
        for nxt, start, ids in sorted(partials, key=lambda p: -p[0]):
            if t - start <= self.within and self.steps[nxt](doc, role):
                if nxt == last:
                    state["p"] = []
                    return [Trigger(t, tuple(ids) + (ev.event_id,))]
                _keep_latest(advanced, [nxt + 1, start, ids + [ev.event_id]])
        merged: dict[int, list] = {p[0]: p for p in partials}
        for p in advanced.values():
            _keep_latest(merged, p)
        if self.steps[0](doc, role):
            _keep_latest(merged, [1, t, [ev.event_id]])
        if merged:
            state["p"] = [merged[k] for k in sorted(merged)]
        return []

    def prune(self, state, clock):
        partials = state.get("p")
        if partials:
            state["p"] = [p for p in partials if clock - p[1] <= self.within]


def _keep_latest(by_step: dict[int, list], partial: list) -> None:
    held = by_step.get(partial[0])
    if held is None or held[1] <= partial[1]:
        by_step[partial[0]] = partial
