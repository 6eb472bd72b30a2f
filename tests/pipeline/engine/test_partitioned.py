"""The engine split by entity, as the stream runs it (streams/scoring.py): one Engine per partition,
each applying an event only to its own entities (`process(ev, only=...)`), deadlines fired early up
to a low watermark (`advance`), and every partition finished at the greatest occurred_at.

With events in occurred_at order this gives exactly replay's contributions (with the score and level
after each firing) and alert changes, however the entities are spread and whenever `advance` runs.
"""

import random
import zlib

import pytest

from pipeline.contract import Event, parse_event
from pipeline.engine.engine import Contribution, Engine
from pipeline.engine.targets import all_targets
from pipeline.replay import replay
from tests.pipeline import enginekit as ek


def simulated_lines(days: int, seed: int) -> list[bytes]:
    from pipeline.simulate.simulation import simulate
    from pipeline.simulate.writer import iter_lines

    return list(iter_lines(simulate(days, seed, malformed_rate=0.02)))


def accepted_events(lines, cfg) -> list[Event]:
    seen, out = set(), []
    for raw in lines:
        ev = parse_event(raw, cfg.vocabulary)
        if isinstance(ev, Event) and ev.event_id not in seen:
            seen.add(ev.event_id)
            out.append(ev)
    return out


def partitioned(events: list[Event], cfg, partitions: int, rng: random.Random):
    engines = [Engine(cfg.rules, cfg.area, cfg.assignments) for _ in range(partitions)]
    relevant = {}
    end = float("-inf")
    for ev in events:
        if rng.random() < 0.2:  # a watermark passes: nothing earlier than ev.t is still to come
            engines[rng.randrange(partitions)].advance(ev.t)
        key = (ev.kind, ev.type)
        if key not in relevant:
            relevant[key] = cfg.rules.relevant(*key)
        by_partition: dict[int, set[str]] = {}
        for ref in all_targets(relevant[key], ev):
            by_partition.setdefault(zlib.crc32(ref.encode()) % partitions, set()).add(ref)
        for p, refs in by_partition.items():
            engines[p].process(ev, only=refs)
        end = max(end, ev.t)
    out = []
    for engine in engines:
        engine.finish(end)
        out += engine.drain()
    return engines, out


def by_entity(records):
    contributions, alerts = {}, {}
    for r in records:
        target = contributions if isinstance(r, Contribution) else alerts
        target.setdefault(r.entity, []).append(r)
    for d in (contributions, alerts):
        for rows in d.values():
            rows.sort(key=lambda r: (r.at, repr(r)))
    return contributions, alerts


@pytest.mark.parametrize("partitions,seed", [(1, 11), (3, 12), (8, 13)])
def test_partitioned_engines_give_replays_results(partitions, seed):
    cfg = ek.project_config()
    lines = simulated_lines(4, seed)
    oracle = replay(lines, cfg)
    engines, records = partitioned(accepted_events(lines, cfg), cfg, partitions, random.Random(seed))
    assert oracle.contributions, "the simulation should make the rules fire"
    assert by_entity(records) == by_entity(oracle.contributions + oracle.alert_changes)
    states = {}
    for engine in engines:
        assert not states.keys() & engine.entities.keys()
        states.update(engine.entities)
    assert {ref: s["c"] for ref, s in states.items() if s["c"]} == {
        ref: s["c"] for ref, s in oracle.engine.entities.items() if s["c"]
    }


def test_only_leaves_other_targets_alone():
    cfg = ek.project_config()
    doc = ek.event("x1", "dispute", "escalated", 0, tags=["threat_of_violence"], loc="HD-1-1203", building="1",
                   subjects=[{"type": "person", "id": "P-1", "role": "party"},
                             {"type": "person", "id": "P-2", "role": "party"}])
    ev = parse_event(ek.jsonl([doc])[0], cfg.vocabulary)
    targets = all_targets(cfg.rules.relevant(ev.kind, ev.type), ev)
    assert "person:P-1" in targets and len(targets) > 1
    engine = Engine(cfg.rules, cfg.area, cfg.assignments)
    engine.process(ev, only={"person:P-1"})
    assert set(engine.entities) == {"person:P-1"}
    assert {r.entity for r in engine.drain()} == {"person:P-1"}


def test_advance_fires_only_deadlines_due_strictly_before():
    cfg = ek.project_config()  # checkpoint-patrol-gap: a visit opens a 4h deadline
    engine = Engine(cfg.rules, cfg.area, cfg.assignments)
    visit = ek.event("v1", "patrol", "checkpoint_visit", 0, checkpoint="CP-1-LOBBY", building="1")
    engine.process(parse_event(ek.jsonl([visit])[0], cfg.vocabulary))
    due = min(d for d, *_ in engine._heap)
    clock = engine.clock
    engine.advance(due)
    assert not engine.drain() and engine.clock == clock
    engine.advance(due + 1)
    fired = engine.drain()
    assert fired and all(r.at == due for r in fired if isinstance(r, Contribution))
    assert engine.clock == clock
