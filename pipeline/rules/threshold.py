"""`threshold`: `count` matching events (or distinct values of a path) within `window` fire once.

State: {"w": [[t, event_id, distinct_key], ...]} in occurred_at order. Firing consumes the
counted events, so counting starts again from nothing (docs/contract.md §3).
"""

from __future__ import annotations

import bisect
from typing import Any, Literal

import orjson

from pipeline.rules.base import RuleLogic, Trigger
from pipeline.rules.conditions import MISSING, compile_condition, field_getter, reads_role
from pipeline.rules.spec import Condition, Duration, PositiveInt, RuleSpec


class ThresholdSpec(RuleSpec):
    type: Literal["threshold"]
    when: Condition
    count: PositiveInt
    window: Duration
    distinct: Any = None  # a field path, checked by conditions.field_getter


class ThresholdRule(RuleLogic):
    Spec = ThresholdSpec

    def __init__(self, spec: ThresholdSpec, problems):
        self.when_spec = spec.when
        self.when = compile_condition(self.when_spec, "when", problems)
        self._role_free = not reads_role(self.when_spec)
        self.count = spec.count
        self.window = spec.window
        self.distinct = None
        if spec.distinct is not None:
            self.distinct = field_getter(spec.distinct, "distinct", problems)

    def conditions(self):
        return [("when", self.when_spec)]

    def may_apply(self, doc):
        return not self._role_free or self.when(doc, None)

    def observe(self, state, ev, role):
        if not self.when(ev.doc, role):
            return []
        if self.distinct is None:
            key = None
        else:
            value = self.distinct(ev.doc, role)
            if value is MISSING:
                return []
            key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        window = state.setdefault("w", [])
        t = ev.t
        entry = [t, ev.event_id, key]
        # Entries compare as lists, time first, so the C bisect works on them directly: [x] sorts
        # before every entry whose time is x. In-order events (the norm) append at the end.
        if not window or window[-1][0] <= t:
            window.append(entry)
            hi = len(window)
        else:
            bisect.insort_right(window, entry, key=_time)
            hi = bisect.bisect_right(window, t, key=_time)
        lo = bisect.bisect_left(window, [t - self.window])
        inside = window[lo:hi]
        counted = len(inside) if key is None else len({e[2] for e in inside})
        if counted < self.count:
            return []
        del window[lo:hi]
        return [Trigger(ev.t, tuple(e[1] for e in inside))]

    def prune(self, state, clock):
        window = state.get("w")
        if window:
            cut = bisect.bisect_left(window, [clock - self.window])
            if cut:
                del window[:cut]


def _time(entry: list) -> float:
    return entry[0]
