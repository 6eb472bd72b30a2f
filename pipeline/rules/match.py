"""`match`: fires on every event that satisfies `when`."""

from __future__ import annotations

from typing import Literal

from pipeline.rules.base import RuleLogic, Trigger
from pipeline.rules.conditions import compile_condition, reads_role
from pipeline.rules.spec import Condition, RuleSpec


class MatchSpec(RuleSpec):
    type: Literal["match"]
    when: Condition


class MatchRule(RuleLogic):
    Spec = MatchSpec

    def __init__(self, spec: MatchSpec, problems):
        self.when_spec = spec.when
        self.when = compile_condition(self.when_spec, "when", problems)
        self._role_free = not reads_role(self.when_spec)

    def conditions(self):
        return [("when", self.when_spec)]

    def may_apply(self, doc):
        return not self._role_free or self.when(doc, None)

    def observe(self, state, ev, role):
        if self.when(ev.doc, role):
            return [Trigger(ev.t, (ev.event_id,))]
        return []
