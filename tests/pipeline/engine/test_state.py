"""Engine state: JSON-serialisable, restorable mid-run with identical results, and bounded."""

import json
from pathlib import Path

import orjson
import pytest

from pipeline.contract import Event, parse_event
from pipeline.engine.engine import LATENESS, Engine
from pipeline.replay import ReplayResult, _collect, output_records
from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H, M

DATA = Path(__file__).resolve().parents[1] / "data"


def scenario_events():
    """A mixed day and a half for the project's rules: every rule type, alerts, repeats, ties."""
    b1 = dict(building="1")
    ev = ek.event
    return [
        ev("c1", "monitoring", "ebike_indoor_charging", 0, loc="HD-1-1203", **b1),
        ev("v1", "patrol", "checkpoint_visit", 0, checkpoint="CP-2-LOBBY", building="2"),
        ev("v2", "patrol", "checkpoint_visit", 0, checkpoint="CP-1-LOBBY", **b1),
        ev("h1", "hazard", "found", 10 * M, loc="HD-1-B1-pump", attributes={"hazard_id": "HZ-1"}, **b1),
        ev("h2", "hazard", "found", 10 * M, loc="HD-1-B1-pump", attributes={"hazard_id": "HZ-2"}, **b1),
        ev("d1", "dispute", "reported", 20 * M, person="P-0007", attributes={"case_id": "C-1"}),
        ev("c2", "monitoring", "ebike_indoor_charging", 1 * H, loc="HD-1-1203", **b1),
        ev("m1", "dispute", "mediation_held", 2 * H, person="P-0007", attributes={"outcome": "failed", "case_id": "C-1"}),
        ev("c3", "monitoring", "ebike_indoor_charging", 3 * H, loc="HD-1-1203", **b1),
        ev("s1", "monitoring", "smoke_alarm", 4 * H, loc="HD-1-1203", **b1),
        ev("d2", "dispute", "reported", 5 * H, person="P-0007", attributes={"case_id": "C-2"}),
        ev("x1", "dispute", "escalated", 6 * H, person="P-0007", tags=["weapon"]),
        ev("a1", "monitoring", "access_forced", 7 * H, loc="HD-2-01-lobby", building="2"),
        ev("a2", "monitoring", "access_forced", 7 * H + 5 * M, loc="HD-2-05-corridor", building="2"),
        ev("v3", "patrol", "checkpoint_visit", 8 * H, checkpoint="CP-1-LOBBY", **b1),
        ev("late", "monitoring", "access_forced", 6 * H, loc="HD-2-B1-garage", building="2"),
        ev("a3", "monitoring", "access_forced", 7 * H + 10 * M, loc="HD-2-05-corridor", building="2"),
        ev("r1", "hazard", "rectified", 20 * H, loc="HD-1-B1-pump", attributes={"hazard_id": "HZ-1"}, **b1),
        ev("o1", "monitoring", "device_offline", 30 * H, loc="HD-2-06-corridor", building="2"),
        ev("o2", "monitoring", "device_offline", 31 * H, loc="HD-2-06-corridor", building="2"),
        ev("d1", "dispute", "reported", 32 * H, person="P-0009"),  # duplicate id
        ev("o3", "monitoring", "device_offline", 33 * H, loc="HD-2-06-corridor", building="2"),
        ev("v4", "patrol", "checkpoint_visit", 34 * H, checkpoint="CP-2-LOBBY", building="2"),
        ev("h3", "hazard", "found", 36 * H, loc="HD-2-B1-pump", attributes={"hazard_id": "HZ-3"}, building="2"),
    ]


def tie_rules():
    """Alerting deadlines of one rule due at the same time for several entities and keys."""
    return [
        ek.rule("gap", "absence", target="checkpoint", start={"kind": "patrol"}, expect={"kind": "patrol"},
                within="2h", repeat_every="1h", max_repeats=3, score=5, alert=True),
        ek.rule("open", "absence", start={"kind": "hazard", "type": "found"},
                expect={"kind": "hazard", "type": "rectified"}, correlate="attributes.hazard_id",
                within="2h", score=30, alert=True),
        ek.rule("m", when={"kind": "hazard"}, score=20),
    ]


def tie_events():
    ev = ek.event
    return [
        ev("p1", "patrol", "checkpoint_visit", 0, checkpoint="CP-Z"),
        ev("p2", "patrol", "checkpoint_visit", 0, checkpoint="CP-A"),
        ev("p3", "patrol", "checkpoint_visit", 0, checkpoint="CP-M"),
        ev("h1", "hazard", "found", 0, loc="L", attributes={"hazard_id": "Z"}),
        ev("h2", "hazard", "found", 0, loc="L", attributes={"hazard_id": "A"}),
        ev("h3", "hazard", "found", 0, loc="K", attributes={"hazard_id": "A"}),
        ev("p4", "patrol", "checkpoint_visit", 1 * H, checkpoint="CP-A"),
        ev("x", "inspection", "unit_inspected", 2 * H, loc="Q"),
        ev("y", "inspection", "unit_inspected", 10 * H, loc="Q"),
    ]


class Runner:
    """The replay loop, with the engine swappable mid-run for a restored one."""

    def __init__(self, cfg, until=None):
        self.cfg = cfg
        self.until = until
        self.engine = ek.engine(cfg)
        self.result = ReplayResult(self.engine)
        self.seen = set()

    def feed(self, lines, start_line=1):
        r = self.result
        for number, raw in enumerate(lines, start=start_line):
            r.events += 1
            parsed = parse_event(raw, self.cfg.vocabulary)
            if not isinstance(parsed, Event):
                r.rejections.append((number, parsed))
            elif parsed.event_id in self.seen:
                r.duplicates += 1
            else:
                self.seen.add(parsed.event_id)
                r.accepted += 1
                self.engine.process(parsed)
                _collect(self.engine.drain(), r.contributions, r.alert_changes)

    def snapshot_and_restore(self):
        saved = json.dumps(self.engine.entities)
        clock = self.engine.clock
        fresh = ek.engine(self.cfg)
        fresh.restore(json.loads(saved), clock)
        self.engine = self.result.engine = fresh

    def finish(self):
        self.engine.finish(None if self.until is None else ek.epoch(self.until))
        _collect(self.engine.drain(), self.result.contributions, self.result.alert_changes)
        return [json.loads(orjson.dumps(rec)) for rec in output_records(self.result, self.cfg)]


def uninterrupted(cfg, lines, until):
    run = Runner(cfg, until)
    run.feed(lines)
    return run.finish()


def interrupted(cfg, lines, until, cuts):
    run = Runner(cfg, until)
    prev = 0
    for cut in cuts:
        run.feed(lines[prev:cut], prev + 1)
        run.snapshot_and_restore()
        prev = cut
    run.feed(lines[prev:], prev + 1)
    return run.finish()


def test_runner_matches_replay():
    cfg = ek.project_config()
    lines = ek.jsonl(scenario_events())
    assert uninterrupted(cfg, lines, 3 * D) == ek.records(cfg, scenario_events(), until=3 * D)


def test_scenario_exercises_every_rule_type_and_alerts():
    recs = ek.records(ek.project_config(), scenario_events(), until=4 * D)
    rules = {c["rule"] for r in ek.of_type(recs, "entity") for c in r["contributions"]}
    assert {"ebike-charging-repeated", "ebike-charging-then-smoke", "hazard-overdue", "checkpoint-patrol-gap",
            "dispute-repeated", "mediation-failed-then-escalated", "threat-of-violence",
            "device-offline-repeated", "access-forced-building"} <= rules
    assert ek.of_type(recs, "alert")
    assert ek.of_type(recs, "summary")[0]["duplicates"] == 1


def test_entities_are_json_serialisable_after_every_event():
    cfg = ek.project_config()
    eng = ek.engine(cfg)
    seen = set()
    for doc in scenario_events():
        if doc["event_id"] in seen:
            continue
        seen.add(doc["event_id"])
        eng.process(ek.parsed(cfg, doc))
        eng.drain()
        text = json.dumps(eng.entities)  # plain JSON, no default= hook
        assert json.loads(text) == eng.entities
    eng.finish(ek.epoch(3 * D))
    assert json.loads(json.dumps(eng.entities)) == eng.entities


@pytest.mark.parametrize("until", [None, 4 * D])
def test_restore_at_every_point_gives_the_uninterrupted_output(until):
    cfg = ek.project_config()
    lines = ek.jsonl(scenario_events())
    expected = uninterrupted(cfg, lines, until)
    for cut in range(len(lines) + 1):
        assert interrupted(cfg, lines, until, [cut]) == expected, f"restored after line {cut}"
    assert interrupted(cfg, lines, until, list(range(len(lines) + 1))) == expected


def test_restore_with_tied_deadlines_gives_the_uninterrupted_output(tmp_path):
    cfg = ek.config(tmp_path, tie_rules())
    lines = ek.jsonl(tie_events())
    expected = uninterrupted(cfg, lines, 1 * D)
    assert len(ek.of_type(expected, "alert")) >= 6
    for cut in range(len(lines) + 1):
        assert interrupted(cfg, lines, 1 * D, [cut]) == expected, f"restored after line {cut}"


def test_restore_rebuilds_deadlines_from_state_alone(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("a", "absence", start={"kind": "hazard"}, expect={"kind": "inspection"},
                                       within="1h", repeat_every="1h", max_repeats=2)])
    eng = ek.engine(cfg)
    ek.feed(eng, cfg, [ek.event("f", "hazard", "found", 0, loc="L"),
                       ek.event("x", "patrol", "patrol_started", 90 * M, loc="Z")])
    saved = json.loads(json.dumps(eng.entities))
    fresh = Engine(cfg.rules, cfg.area, cfg.assignments)
    fresh.restore(saved, eng.clock)
    fresh.finish(ek.epoch(10 * H))
    assert [(c.rule, c.at - ek.epoch(0)) for c in fresh.drain()] == [("a", 2 * H), ("a", 3 * H)]


# -- bounded memory ---------------------------------------------------------------------------------


def test_long_run_of_one_entity_is_pruned(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("m", when={"kind": "monitoring", "type": "device_offline"}, score=1, half_life="1h"),
        ek.rule("t", "threshold", when={"kind": "monitoring", "type": "device_offline"}, count=10 ** 6,
                window="1h"),
        ek.rule("s", "sequence", steps=[{"kind": "monitoring", "type": "device_offline"},
                                        {"kind": "monitoring", "type": "smoke_alarm"}], within="2h"),
        ek.rule("s3", "sequence", steps=[{"kind": "monitoring", "type": "device_offline"},
                                         {"kind": "monitoring", "type": "device_offline", "severity": 5},
                                         {"kind": "monitoring", "type": "smoke_alarm"}], within="2h"),
    ])
    eng = ek.engine(cfg)
    step = 10 * M
    n = int(30 * D / step)
    for i in range(n):
        doc = ek.event(f"e{i}", "monitoring", "device_offline", i * step, loc="L1",
                       **({"severity": 5} if i % 7 == 0 else {}))
        eng.process(ek.parsed(cfg, doc))
        eng.drain()
    eng.sweep()
    state = eng.entities["location:L1"]
    # contributions worth >= 0.01 of 1 point with a 1 h half-life: at most 6.64 h of them
    assert len(state["c"]) <= 6.65 * H / step + 1
    assert len(state["r"]["t"]["w"]) <= (1 * H + LATENESS) / step + 1
    assert len(state["r"]["s"]["p"]) <= 1
    assert len(state["r"]["s3"]["p"]) <= 2
    assert len(json.dumps(eng.entities)) < 20_000
    # two days later (one beyond engine.LATENESS) nothing is left for it: the entity is forgotten
    eng.process(ek.parsed(cfg, ek.event("z", "patrol", "patrol_started", 32 * D, loc="Z")))
    eng.sweep()
    assert "location:L1" not in eng.entities



def test_sweeps_wait_for_events_in_proportion_to_the_entities_held(tmp_path):
    """A sweep walks every entity: over a sparse input (a few events a day, many entities) a daily
    sweep cost more than the events. It runs once a day has passed and events have come for a
    quarter of the entities held (engine.SWEEP_ENTITIES_PER_EVENT)."""
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "monitoring", "type": "device_offline"}, score=1,
                                       half_life="30d")])
    eng = ek.engine(cfg)
    sweeps = []
    sweep = eng.sweep
    eng.sweep = lambda: (sweeps.append(eng.clock), sweep())
    n = 0

    def send(t: float, count: int) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            eng.process(ek.parsed(cfg, ek.event(f"e{n}", "monitoring", "device_offline", t + n, loc=f"L{n}")))

    send(0, 400)                          # 400 entities on the first day: one sweep, at the first event
    assert len(sweeps) == 1 and len(eng.entities) == 400
    send(2 * D, 1)                        # a day later, after 400 events: the next
    assert len(sweeps) == 2
    for day in range(3, 53):              # then one event a day: 50 events for 451 entities
        send(day * D, 1)
    assert len(sweeps) == 2 and len(eng.entities) == 451
    send(60 * D, 83)                      # 133 events for 534 entities: still under a quarter
    assert len(sweeps) == 2
    send(60 * D, 1)                       # 134 for 535
    assert len(sweeps) == 3


def test_sweep_never_changes_results(tmp_path):
    """Sweeping after every event gives the same output as never sweeping explicitly."""
    cfg = ek.project_config()
    lines = ek.jsonl(scenario_events())
    expected = uninterrupted(cfg, lines, 3 * D)
    run = Runner(cfg, 3 * D)
    for i, line in enumerate(lines, start=1):
        run.feed([line], i)
        run.engine.sweep()
    assert run.finish() == expected


def test_entities_with_an_open_alert_are_kept(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=70, half_life="1h")])
    eng = ek.engine(cfg)
    ek.feed(eng, cfg, [ek.event("f", "hazard", "found", 0, loc="L1"),
                       ek.event("x", "patrol", "patrol_started", 30 * D, loc="Z")])
    eng.sweep()
    state = eng.entities["location:L1"]
    assert state["c"] == [] and state["a"]["level"] == "high"


def test_data_scenario_file_roundtrip():
    """The hand-written JSONL scenario under tests/pipeline/data restores cleanly at every line."""
    cfg = ek.project_config()
    lines = [line for line in (DATA / "scenario_day.jsonl").read_bytes().splitlines() if line.strip()]
    expected = uninterrupted(cfg, lines, None)
    for cut in range(0, len(lines) + 1, 3):
        assert interrupted(cfg, lines, None, [cut]) == expected


LATE_RULES = [
    ek.rule("t", "threshold", when={"kind": "monitoring", "type": "device_offline"}, count=2, window="1h"),
    ek.rule("s", "sequence", steps=[{"kind": "monitoring", "type": "smoke_alarm"},
                                    {"kind": "monitoring", "type": "gas_alarm"}], within="1h"),
]


def very_late_events():
    """Events arriving more than a day (engine.LATENESS) plus the window behind the clock, placed so that
    the engine's own daily sweep has not yet pruned what they would count."""
    ev = ek.event
    out = []
    for k in range(3):
        base = k * 4 * D
        out += [
            ev(f"a{k}", "monitoring", "device_offline", base, loc="L1"),
            ev(f"s{k}", "monitoring", "smoke_alarm", base, loc="L1"),
            ev(f"x{k}", "patrol", "patrol_started", base + 23 * H, loc="Z"),
            ev(f"y{k}", "patrol", "patrol_started", base + 24 * H + 10 * M, loc="Z"),
            ev(f"z{k}", "patrol", "patrol_started", base + 47 * H + 10 * M, loc="Z"),
            ev(f"b{k}", "monitoring", "device_offline", base + 30 * M, loc="L1"),
            ev(f"g{k}", "monitoring", "gas_alarm", base + 30 * M, loc="L1"),
            ev(f"c{k}", "monitoring", "device_offline", base + 40 * H, loc="L1"),
            ev(f"d{k}", "monitoring", "device_offline", base + 40 * H + 5 * M, loc="L1"),
        ]
    return out


def test_sweep_schedule_never_changes_results_for_very_late_events(tmp_path):
    """Late events see windows pruned at the clock whether or not a sweep ran: sweeping after every
    event, sweeping only when the engine does and restoring (which resets the sweep schedule) agree."""
    cfg = ek.config(tmp_path, LATE_RULES)
    lines = ek.jsonl(very_late_events())
    expected = uninterrupted(cfg, lines, 10 * D)
    run = Runner(cfg, 10 * D)
    for i, line in enumerate(lines, start=1):
        run.feed([line], i)
        run.engine.sweep()
    assert run.finish() == expected
    for cut in range(len(lines) + 1):
        assert interrupted(cfg, lines, 10 * D, [cut]) == expected, f"restored after line {cut}"
    # the engine's reading where the contract is silent: an event arriving more than a day plus `window`
    # (`within`) behind the clock no longer finds what preceded it; less late ones do (c, d: 7 h late)
    fired = [(c["rule"], c["events"]) for r in ek.of_type(expected, "entity") for c in r["contributions"]]
    assert fired == [("t", [f"c{k}", f"d{k}"]) for k in range(3)]
