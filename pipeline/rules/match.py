"""`match`: fires on every event that satisfies `when`."""

from __future__ import annotations

from pipeline.rules.base import RuleLogic, Trigger
from pipeline.rules.conditions import compile_condition


class MatchRule(RuleLogic):
    FIELDS = ("when",)

    def __init__(self, spec: dict, problems):
        self.when_spec = spec.get("when")
        self.when = compile_condition(self.when_spec, "when", problems)

    def conditions(self):
        return [("when", self.when_spec)]

    def observe(self, state, ev, role):
        if self.when(ev.doc, role):
            return [Trigger(ev.t, (ev.event_id,))]
        return []
