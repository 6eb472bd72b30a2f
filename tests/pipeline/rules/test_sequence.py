"""`sequence` rules (docs/contract.md §3): order, the `within` boundary, clearing of partials after firing."""


from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import H

A = {"kind": "monitoring", "type": "ebike_indoor_charging"}
B = {"kind": "monitoring", "type": "smoke_alarm"}
C = {"kind": "monitoring", "type": "gas_alarm"}
TYPES = {"A": "ebike_indoor_charging", "B": "smoke_alarm", "C": "gas_alarm"}


def seq(tmp_path, steps=(A, B), within="24h", **kw):
    return ek.config(tmp_path, [ek.rule("s", "sequence", steps=list(steps), within=within, **kw)])


def ev(eid, step, at, loc="L1"):
    return ek.event(eid, "monitoring", TYPES[step], at, loc=loc)


def firings(cfg, events):
    return [(c.entity, c.at, c.events) for c in ek.run(cfg, events).contributions]


def test_fires_at_the_last_steps_time_with_all_step_events(tmp_path):
    got = firings(seq(tmp_path), [ev("a", "A", 0), ev("b", "B", 2 * H)])
    assert got == [("location:L1", ek.epoch(2 * H), ("a", "b"))]


def test_within_boundary_is_inclusive(tmp_path):
    cfg = seq(tmp_path)
    assert firings(cfg, [ev("a", "A", 0), ev("b", "B", 24 * H)]) == [("location:L1", ek.epoch(24 * H), ("a", "b"))]
    assert firings(cfg, [ev("a", "A", 0), ev("b", "B", 24 * H + 1)]) == []


def test_within_is_measured_from_the_first_step(tmp_path):
    cfg = seq(tmp_path, steps=(A, B, C), within="10h")
    assert firings(cfg, [ev("a", "A", 0), ev("b", "B", 9 * H), ev("c", "C", 10 * H)]) == [
        ("location:L1", ek.epoch(10 * H), ("a", "b", "c"))]
    assert firings(cfg, [ev("a", "A", 0), ev("b", "B", 1 * H), ev("c", "C", 10 * H + 1)]) == []


def test_a_step_matched_out_of_order_does_not_count(tmp_path):
    cfg = seq(tmp_path)
    assert firings(cfg, [ev("b", "B", 0), ev("a", "A", 1)]) == []
    assert firings(cfg, [ev("b", "B", 0), ev("a", "A", 1), ev("b2", "B", 2)]) == [
        ("location:L1", ek.epoch(2), ("a", "b2"))]
    cfg3 = seq(tmp_path / "3", steps=(A, B, C))
    assert firings(cfg3, [ev("a", "A", 0), ev("c", "C", 1), ev("b", "B", 2)]) == []
    assert firings(cfg3, [ev("a", "A", 0), ev("c", "C", 1), ev("b", "B", 2), ev("c2", "C", 3)]) == [
        ("location:L1", ek.epoch(3), ("a", "b", "c2"))]
    assert firings(cfg3, [ev("a", "A", 0), ev("b", "B", 1), ev("b2", "B", 2), ev("c", "C", 3)])[0][2][-1] == "c"


def test_partials_are_cleared_after_firing(tmp_path):
    cfg = seq(tmp_path)
    got = firings(cfg, [ev("a1", "A", 0), ev("a2", "A", 1 * H), ev("b1", "B", 2 * H), ev("b2", "B", 3 * H)])
    assert len(got) == 1 and got[0][1] == ek.epoch(2 * H) and got[0][2][-1] == "b1"
    # a new first step starts over
    got = firings(cfg, [ev("a1", "A", 0), ev("b1", "B", 1 * H), ev("b2", "B", 2 * H), ev("a2", "A", 3 * H),
                        ev("b3", "B", 4 * H)])
    assert [(t, e) for _, t, e in got] == [(ek.epoch(1 * H), ("a1", "b1")), (ek.epoch(4 * H), ("a2", "b3"))]


def test_partials_of_three_steps_are_all_cleared(tmp_path):
    cfg = seq(tmp_path, steps=(A, B, C))
    # a1 b1 (partial at C), a2 (partial at B), c1 fires; then b2 c2 must not fire from a2's partial
    got = firings(cfg, [ev("a1", "A", 0), ev("b1", "B", 1), ev("a2", "A", 2), ev("c1", "C", 3), ev("b2", "B", 4),
                        ev("c2", "C", 5)])
    assert [(t, e) for _, t, e in got] == [(ek.epoch(3), ("a1", "b1", "c1"))]


def test_an_expired_start_does_not_block_a_later_one(tmp_path):
    cfg = seq(tmp_path)
    got = firings(cfg, [ev("a1", "A", 0), ev("a2", "A", 20 * H), ev("b", "B", 30 * H)])
    assert got == [("location:L1", ek.epoch(30 * H), ("a2", "b"))]


def test_one_event_advances_a_partial_by_one_step_only(tmp_path):
    any_monitoring = {"kind": "monitoring"}
    cfg = seq(tmp_path, steps=(any_monitoring, any_monitoring, any_monitoring), within="1h")
    got = firings(cfg, [ev(f"e{i}", "A", i) for i in range(7)])
    assert [e for _, _, e in got] == [("e0", "e1", "e2"), ("e3", "e4", "e5")]


def test_event_matching_several_steps(tmp_path):
    cfg = seq(tmp_path, steps=({"kind": "monitoring"}, B))
    # the smoke alarm completes a's partial: it fires once, and its own (step 0) partial is cleared too
    got = firings(cfg, [ev("a", "A", 0), ev("b1", "B", 1), ev("b2", "B", 2), ev("b3", "B", 3)])
    assert [e for _, _, e in got] == [("a", "b1"), ("b2", "b3")]


def test_sequences_are_per_entity(tmp_path):
    cfg = seq(tmp_path)
    got = firings(cfg, [ev("a1", "A", 0, "L1"), ev("b2", "B", 1, "L2"), ev("a2", "A", 2, "L2"), ev("b1", "B", 3, "L1")])
    assert got == [("location:L1", ek.epoch(3), ("a1", "b1"))]


def test_person_sequence_with_attribute_condition(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule(
        "s", "sequence", target="person", roles=["party"], within="14d",
        steps=[{"kind": "dispute", "type": "mediation_held", "attributes.outcome": "failed"},
               {"kind": "dispute", "type": "escalated"}])])
    events = [
        ek.event("m1", "dispute", "mediation_held", 0, person="P-1", attributes={"outcome": "agreed"}),
        ek.event("x1", "dispute", "escalated", 1 * H, person="P-1"),
        ek.event("m2", "dispute", "mediation_held", 2 * H, person="P-1", attributes={"outcome": "failed"}),
        ek.event("x2", "dispute", "escalated", 3 * H, person="P-1", role="witness"),
        ek.event("x3", "dispute", "escalated", 4 * H, person="P-1"),
    ]
    assert firings(cfg, events) == [("person:P-1", ek.epoch(4 * H), ("m2", "x3"))]


def test_a_late_step_completes_a_partial_even_after_a_sweep(tmp_path):
    cfg = seq(tmp_path, within="1h")
    for sweep in (False, True):
        eng = ek.engine(cfg)
        ek.feed(eng, cfg, [ev("a", "A", 0), ev("x", "A", 20 * H, "L9")])
        if sweep:
            eng.sweep()
        out = ek.feed(eng, cfg, [ev("late", "B", 30 * 60)])
        assert [(c.entity, c.at, c.events) for c in out] == [("location:L1", ek.epoch(30 * 60), ("a", "late"))]


# -- which event is evidence when a step's event repeats (docs/semantics.md: the latest) ------------------


def test_a_repeated_first_step_gives_the_latest_as_evidence(tmp_path):
    got = firings(seq(tmp_path), [ev("a1", "A", 0), ev("a2", "A", 1 * H), ev("b", "B", 2 * H)])
    assert got == [("location:L1", ek.epoch(2 * H), ("a2", "b"))]


def test_a_repeated_middle_step_gives_the_latest_as_evidence(tmp_path):
    cfg = seq(tmp_path, steps=(A, B, C))
    got = firings(cfg, [ev("a", "A", 0), ev("b1", "B", 1 * H), ev("b2", "B", 2 * H), ev("c", "C", 3 * H)])
    assert got == [("location:L1", ek.epoch(3 * H), ("a", "b2", "c"))]


def test_the_latest_repeat_is_evidence_even_when_the_earlier_one_would_still_be_within(tmp_path):
    # a1 alone would also complete in time; the rule still names a2 (the later start has more time left)
    got = firings(seq(tmp_path, within="10h"), [ev("a1", "A", 0), ev("a2", "A", 9 * H), ev("b", "B", 9 * H + 1)])
    assert got == [("location:L1", ek.epoch(9 * H + 1), ("a2", "b"))]
