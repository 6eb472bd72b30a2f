"""The engine: applies rules to accepted events in the order of docs/contract.md §3 and keeps per-entity state.

Per-entity state is plain data, so it can live in a changelog-backed table and be restored:
    {"b": building | None,
     "c": [[rule_id, points, fired_at, [event ids], half_life], ...],   # contributions
     "r": {rule_id: <rule type state>},
     "a": <open alert> | None}
The deadline heap is derived from that state (`restore` rebuilds it), never the other way round.

Everything the engine decides is appended to `outbox` (Contribution and AlertChange records) for
the caller to print, store or publish.
"""

from __future__ import annotations

import heapq
from collections.abc import Container
from dataclasses import dataclass

from pipeline.assignments import Assignments
from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange, on_firing
from pipeline.engine.scoring import prune, score_at
from pipeline.engine.targets import targets_of
from pipeline.rules.base import Rule, Trigger
from pipeline.rules.loader import RuleSet

SWEEP_EVERY = 86400.0  # prune idle entities at most once per day of engine clock,
# and only once events have come since the last sweep for at least a quarter of the entities held: a
# sweep walks every entity, and a sparse input over a long span (a year's dispute ledger: thousands of
# entities, a few events a day) spent most of its time sweeping. Memory stays within a constant
# factor of what a daily sweep keeps; results never depend on when sweeps run.
SWEEP_ENTITIES_PER_EVENT = 4
# Threshold windows and sequence partial matches are kept this long beyond what in-order events need,
# so an event up to a day late counts them exactly as docs/contract.md §3 says; an event later than that sees them
# as pruned at clock − LATENESS, whether or not a sweep ran (pruning never changes a result).
LATENESS = 86400.0


@dataclass(frozen=True)
class Contribution:
    entity: str
    rule: str
    category: str
    points: float
    at: float
    events: tuple[str, ...]
    half_life: float
    building: str | None
    # the entity's score and level right after this firing (score over time); None outside the engine
    score: float | None = None
    level: str | None = None


class Engine:
    def __init__(self, ruleset: RuleSet, area, assignments: Assignments):
        self.ruleset = ruleset
        self.area = area
        self.assignments = assignments
        self.clock = float("-inf")
        self.entities: dict[str, dict] = {}
        self.outbox: list[Contribution | AlertChange] = []
        # (due, rule index, entity, key): ties beyond the rules-file order are broken by entity and key,
        # which the state holds, so a restored engine fires them in the same order as an uninterrupted one
        self._heap: list[tuple[float, int, str, str]] = []
        self._queued: dict[tuple[int, str, str], float] = {}   # earliest heap entry per deadline
        self._rule_at = {r.index: r for r in ruleset.rules}
        self._last_sweep = float("-inf")
        self._since_sweep = 0      # events processed since the last sweep
        self._multipliers: dict[tuple[str, str | None], float] = {}
        self._relevant: dict[tuple[str, str], list[Rule]] = {}

    # -- processing -------------------------------------------------------------------------

    def process(self, ev: Event, only: Container[str] | None = None) -> None:
        """Apply one accepted, non-duplicate event (docs/contract.md §3 steps 1-3).

        `only`: apply the event to these entities and leave its other targets alone (a stream
        partition holds some of an event's entities; the others see the event on their partitions)."""
        t = ev.t
        if self._heap and self._heap[0][0] < t:
            self._fire_due(lambda due: due < t)
        self._since_sweep += 1
        if t > self.clock:
            self.clock = t
            if (t - self._last_sweep >= SWEEP_EVERY
                    and self._since_sweep * SWEEP_ENTITIES_PER_EVENT >= len(self.entities)):
                self.sweep()
        rules = self._relevant.get((ev.kind, ev.type))
        if rules is None:
            rules = self._relevant[(ev.kind, ev.type)] = self.ruleset.relevant(ev.kind, ev.type)
        if rules:
            self._apply(ev, rules, only)

    def advance(self, until: float) -> None:
        """Fire every open deadline due strictly before `until` (docs/contract.md §3 step 1 without an event); the
        clock does not move. For a caller that knows no event earlier than `until` is still to come
        (the stream's low watermark), this fires now exactly what the next event would fire first."""
        if self._heap and self._heap[0][0] < until:
            self._fire_due(lambda due: due < until)

    def finish(self, until: float | None = None) -> None:
        """End of input: the clock moves to `until` when later, and every deadline due by then fires."""
        if until is not None and until > self.clock:
            self.clock = until
        clock = self.clock
        self._fire_due(lambda due: due <= clock)

    def _apply(self, ev: Event, rules: list[Rule], only: Container[str] | None = None) -> None:
        doc = ev.doc
        deadline_rules = []
        # A late event (t < clock) sees windows and partial matches as pruned at clock − LATENESS,
        # whether or not a sweep ran since: sweep times differ between an uninterrupted run, a restored
        # one and the stream. In-order events are unaffected by pruning.
        late = ev.t < self.clock
        for rule in rules:
            logic = rule.logic
            if not logic.may_apply(doc):
                continue
            targets = targets_of(rule, ev)
            if only is not None:
                targets = [target for target in targets if target[0] in only]
            if rule.type == "absence":
                deadline_rules.append((rule, targets))
                continue
            for entity, role, building in targets:
                state = self._state(entity, building)
                rule_state = self._rule_state(state, rule)
                if late:
                    logic.prune(rule_state, self.clock - LATENESS)
                for trigger in logic.observe(rule_state, ev, role):
                    self._fire(entity, state, rule, trigger)
        if not deadline_rules:
            return
        entities = self.entities
        for rule, targets in deadline_rules:
            for entity, role, _ in targets:
                held = entities.get(entity)
                if held is not None and rule.id in held["r"]:
                    rule.logic.cancel(held["r"][rule.id], ev, role)
        for rule, targets in deadline_rules:
            for entity, role, building in targets:
                state = self._state(entity, building)
                for due, key in rule.logic.open(self._rule_state(state, rule), ev, role):
                    self._push(due, rule, entity, key)

    def _fire_due(self, is_due) -> None:
        heap = self._heap
        while heap and is_due(heap[0][0]):
            due, index, entity, key = heapq.heappop(heap)
            slot = (index, entity, key)
            if self._queued.get(slot) == due:
                del self._queued[slot]
            rule = self._rule_at[index]
            state = self.entities.get(entity)
            if state is None:
                continue
            rule_state = state["r"].get(rule.id)
            if rule_state is None:
                continue
            current = rule.logic.current_due(rule_state, key)
            if current is None or current < due:
                continue
            if current > due:
                self._push(current, rule, entity, key)
                continue
            trigger, next_due = rule.logic.fire_due(rule_state, key, due)
            if next_due is not None:
                self._push(next_due, rule, entity, key)
            if trigger is not None:
                self._fire(entity, state, rule, trigger)

    def _fire(self, entity: str, state: dict, rule: Rule, trigger: Trigger) -> None:
        points = rule.score * self._multiplier(entity, state["b"])
        contributions = state["c"]
        contributions.append([rule.id, points, trigger.t, list(trigger.events), rule.half_life])
        now = max(self.clock, trigger.t)
        score = score_at(contributions, now)
        level = self.ruleset.level_of(round(score, 2))
        self.outbox.append(
            Contribution(
                entity, rule.id, rule.category, points, trigger.t, trigger.events, rule.half_life, state["b"],
                score, level,
            )
        )
        change = on_firing(state, entity, rule, level, score, trigger.t, self.ruleset, self.assignments)
        if change is not None:
            self.outbox.append(change)

    def _multiplier(self, entity: str, building: str | None) -> float:
        key = (entity, building)
        value = self._multipliers.get(key)
        if value is None:
            value = self._multipliers[key] = self.area.multiplier(entity, building)
        return value

    # -- state ------------------------------------------------------------------------------

    def _state(self, entity: str, building: str | None) -> dict:
        state = self.entities.get(entity)
        if state is None:
            if building is None:
                # "its building" (docs/contract.md §5) for checkpoints and listed places whose events omit it
                building = self.area.building_of(entity)
            state = self.entities[entity] = {"b": building, "c": [], "r": {}, "a": None}
        elif building is not None and state["b"] is None:
            state["b"] = building
        return state

    @staticmethod
    def _rule_state(state: dict, rule: Rule) -> dict:
        rule_state = state["r"].get(rule.id)
        if rule_state is None:
            rule_state = state["r"][rule.id] = {}
        return rule_state

    def _push(self, due: float, rule: Rule, entity: str, key: str) -> None:
        # Lazy heap: a deadline already queued no later than `due` stays queued; when that entry pops,
        # the deadline's current due is read from the state and it is queued again there. A patrol
        # checkpoint moves its deadline on every visit, and this saves a heap entry per visit.
        slot = (rule.index, entity, key)
        queued = self._queued.get(slot)
        if queued is not None and queued <= due:
            return
        self._queued[slot] = due
        heapq.heappush(self._heap, (due, rule.index, entity, key))

    def sweep(self) -> None:
        """Prune what can no longer matter (bounded memory). An entity with nothing left keeps what
        identifies it, its building: the building of its first event decides its multiplier and its
        leader, and forgetting it would let the next event decide instead, so a result would depend
        on when a sweep ran (replay and a restored stream sweep on different schedules). An entity
        without a building is forgotten: recreating it gives the same state."""
        now = self.clock
        self._last_sweep = now
        self._since_sweep = 0
        self._multipliers.clear()
        by_id = {r.id: r for r in self.ruleset.rules}
        for entity in list(self.entities):
            state = self.entities[entity]
            state["c"] = prune(state["c"], now)
            for rule_id in list(state["r"]):
                rule = by_id.get(rule_id)
                rule_state = state["r"][rule_id]
                if rule is not None:
                    rule.logic.prune(rule_state, now - LATENESS)
                if rule is None or not any(rule_state.values()):
                    del state["r"][rule_id]
            if not state["c"] and not state["r"] and state["a"] is None and state["b"] is None:
                del self.entities[entity]

    def restore(self, entities: dict[str, dict], clock: float) -> None:
        """Adopt saved per-entity state (e.g. from a changelog) and rebuild the deadline heap from it."""
        self.entities = entities
        self.clock = clock
        self._heap = []
        self._queued = {}
        by_id = {r.id: r for r in self.ruleset.rules}
        for entity in sorted(entities):
            for rule_id, rule_state in entities[entity]["r"].items():
                rule = by_id.get(rule_id)
                if rule is not None:
                    for due, key in rule.logic.due(rule_state):
                        self._push(due, rule, entity, key)

    def end_alert(self, entity: str, alert_id: str) -> bool:
        """Forget the entity's open alert once the workflow resolved or closed it (docs/contract.md §5), so that
        the next firing at alert level raises a new alert instead of attaching to the ended one.
        Returns whether that alert was the open one (a stale or repeated notice changes nothing)."""
        state = self.entities.get(entity)
        if state is None or state["a"] is None or state["a"]["id"] != alert_id:
            return False
        state["a"] = None
        return True

    def drain(self) -> list[Contribution | AlertChange]:
        out, self.outbox = self.outbox, []
        return out
