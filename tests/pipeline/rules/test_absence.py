"""`absence` rules (docs/contract.md §3): deadlines, cancellation, repeats, correlation, end of replay."""


from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H, M

START = {"kind": "hazard", "type": "found"}
EXPECT = {"kind": "hazard", "type": "rectified"}


def absence(tmp_path, within="3h", **kw):
    return ek.config(tmp_path, [ek.rule("a", "absence", start=START, expect=EXPECT, within=within, **kw)])


def found(eid, at, loc="L1", **kw):
    return ek.event(eid, "hazard", "found", at, loc=loc, **kw)


def rectified(eid, at, loc="L1", **kw):
    return ek.event(eid, "hazard", "rectified", at, loc=loc, **kw)


def other(eid, at, loc="L9"):
    """An unrelated accepted event: it only moves the clock."""
    return ek.event(eid, "patrol", "patrol_started", at, loc=loc)


def firings(cfg, events, until=None):
    return [(c.entity, c.at, c.events) for c in ek.run(cfg, events, until).contributions]


def at_offsets(got):
    return [t - ek.epoch(0) for _, t, _ in got]


def test_fires_at_the_deadline_with_the_due_time_and_the_start_event(tmp_path):
    got = firings(absence(tmp_path), [found("f", 0), other("x", 5 * H)])
    assert got == [("location:L1", ek.epoch(3 * H), ("f",))]


def test_deadline_is_counted_from_occurred_at(tmp_path):
    got = firings(absence(tmp_path), [found("f", 30 * M)], until=10 * H)
    assert at_offsets(got) == [3 * H + 30 * M]


def test_nothing_fires_before_the_deadline(tmp_path):
    assert firings(absence(tmp_path), [found("f", 0), other("x", 3 * H - 1)]) == []


def test_expect_before_the_deadline_cancels(tmp_path):
    assert firings(absence(tmp_path), [found("f", 0), rectified("r", 2 * H)], until=1 * D) == []


def test_expect_at_exactly_the_deadline_cancels(tmp_path):
    assert firings(absence(tmp_path), [found("f", 0), rectified("r", 3 * H)], until=1 * D) == []


def test_event_at_exactly_the_deadline_does_not_fire_it_first(tmp_path):
    """Step 1 fires deadlines due strictly before t: an unrelated event at d does not fire it yet."""
    cfg = absence(tmp_path)
    eng = ek.engine(cfg)
    assert ek.feed(eng, cfg, [found("f", 0), other("x", 3 * H)]) == []
    # ... but the end of replay (clock = d) fires it: due at or before the clock
    eng.finish()
    assert [(c.rule, c.at) for c in eng.drain()] == [("a", ek.epoch(3 * H))]
    assert at_offsets(firings(cfg, [found("f", 0), other("x", 3 * H)])) == [3 * H]


def test_expect_after_the_deadline_comes_too_late(tmp_path):
    got = firings(absence(tmp_path), [found("f", 0), rectified("r", 3 * H + 1)], until=1 * D)
    assert at_offsets(got) == [3 * H]


def test_expect_for_another_entity_does_not_cancel(tmp_path):
    got = firings(absence(tmp_path), [found("f", 0, "L1"), rectified("r", 1 * H, "L2")], until=1 * D)
    assert [(e, t - ek.epoch(0)) for e, t, _ in got] == [("location:L1", 3 * H)]


def test_repeats_every_repeat_every_after_the_deadline_up_to_max_repeats(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="30m", max_repeats=3)
    got = firings(cfg, [found("f", 0)], until=1 * D)
    assert at_offsets(got) == [1 * H, 1.5 * H, 2 * H, 2.5 * H]
    assert all(e == ("f",) for _, _, e in got)


def test_max_repeats_zero_fires_once(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="30m", max_repeats=0)
    assert at_offsets(firings(cfg, [found("f", 0)], until=1 * D)) == [1 * H]


def test_max_repeats_defaults_to_30(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h")
    got = firings(cfg, [found("f", 0)], until=100 * H)
    assert at_offsets(got) == [h * H for h in range(1, 32)]


def test_max_repeats_unlimited_repeats_until_the_expect_event(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats="unlimited")
    assert at_offsets(firings(cfg, [found("f", 0)], until=100 * H)) == [h * H for h in range(1, 101)]
    got = firings(cfg, [found("f", 0), rectified("r", 50.5 * H)], until=100 * H)
    assert at_offsets(got) == [h * H for h in range(1, 51)]


def test_max_repeats_refuses_any_other_word(tmp_path):
    import pytest

    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="max_repeats.*unlimited"):
        ek.ruleset(tmp_path, [ek.rule("a", "absence", start=START, expect=EXPECT, within="1h", repeat_every="1h",
                                      max_repeats="forever")])


def test_repeats_fire_in_step_1_of_a_later_event(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats=5)
    got = firings(cfg, [found("f", 0), other("x", 3.5 * H)])
    # due 1h, 2h, 3h fire before x; 4h is not yet due; the end of replay (clock 3.5h) leaves it
    assert at_offsets(got) == [1 * H, 2 * H, 3 * H]


def test_expect_stops_the_repeats(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats=10)
    got = firings(cfg, [found("f", 0), rectified("r", 2.5 * H)], until=1 * D)
    assert at_offsets(got) == [1 * H, 2 * H]


def test_expect_at_exactly_a_repeat_cancels_it(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats=10)
    got = firings(cfg, [found("f", 0), rectified("r", 3 * H)], until=1 * D)
    assert at_offsets(got) == [1 * H, 2 * H]


def test_a_late_expect_stops_repeats(tmp_path):
    """An expect arriving after its deadline fired (occurred before it) still cancels the repeats."""
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats=10)
    got = firings(cfg, [found("f", 0), other("x", 1.5 * H), rectified("late", 30 * M)], until=1 * D)
    assert at_offsets(got) == [1 * H]


def test_without_repeat_every_it_fires_once_and_a_new_start_opens_again(tmp_path):
    cfg = absence(tmp_path)
    got = firings(cfg, [found("f1", 0), other("x", 10 * H), found("f2", 11 * H)], until=1 * D)
    assert [(t - ek.epoch(0), e) for _, t, e in got] == [(3 * H, ("f1",)), (14 * H, ("f2",))]


def test_a_start_while_open_does_not_reopen(tmp_path):
    cfg = absence(tmp_path)
    got = firings(cfg, [found("f1", 0), found("f2", 2 * H)], until=1 * D)
    assert [(t - ek.epoch(0), e) for _, t, e in got] == [(3 * H, ("f1",))]


def test_a_start_while_repeating_does_not_reopen(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats=2)
    got = firings(cfg, [found("f1", 0), found("f2", 90 * M)], until=1 * D)
    assert [(t - ek.epoch(0), e) for _, t, e in got] == [(1 * H, ("f1",)), (2 * H, ("f1",)), (3 * H, ("f1",))]


def test_correlate_keys_are_independent(tmp_path):
    cfg = absence(tmp_path, correlate="attributes.hazard_id")
    got = firings(cfg, [
        found("f1", 0, attributes={"hazard_id": "H1"}),
        found("f2", 1 * H, attributes={"hazard_id": "H2"}),
        found("f1b", 1 * H, attributes={"hazard_id": "H1"}),   # H1 already open: no reopen
        rectified("r1", 2 * H, attributes={"hazard_id": "H1"}),
        rectified("r3", 2 * H, attributes={"hazard_id": "H3"}),  # no such deadline
    ], until=1 * D)
    assert [(t - ek.epoch(0), e) for _, t, e in got] == [(4 * H, ("f2",))]


def test_correlate_value_missing_neither_opens_nor_cancels(tmp_path):
    cfg = absence(tmp_path, correlate="attributes.hazard_id")
    got = firings(cfg, [
        found("f0", 0),
        found("f1", 0, attributes={"hazard_id": "H1"}),
        rectified("r", 1 * H),
    ], until=1 * D)
    assert [(t - ek.epoch(0), e) for _, t, e in got] == [(3 * H, ("f1",))]


def test_correlate_keys_are_per_entity(tmp_path):
    cfg = absence(tmp_path, correlate="attributes.hazard_id")
    got = firings(cfg, [
        found("f1", 0, "L1", attributes={"hazard_id": "H1"}),
        found("f2", 0, "L2", attributes={"hazard_id": "H1"}),
        rectified("r", 1 * H, "L1", attributes={"hazard_id": "H1"}),
    ], until=1 * D)
    assert [e for e, _, _ in got] == ["location:L2"]


def test_correlate_typed_values(tmp_path):
    cfg = absence(tmp_path, correlate="attributes.hazard_id")
    got = firings(cfg, [
        found("f1", 0, attributes={"hazard_id": 1}),
        rectified("r", 1 * H, attributes={"hazard_id": "1"}),  # "1" is another key than 1
    ], until=1 * D)
    assert [e for _, _, e in got] == [("f1",)]


# -- start = expect: "at least one every `within`" ---------------------------------------------------


def patrol_gap(tmp_path, **kw):
    return ek.config(tmp_path, [ek.rule(
        "gap", "absence", target="checkpoint",
        start={"kind": "patrol", "type": "checkpoint_visit"},
        expect={"kind": "patrol", "type": "checkpoint_visit"},
        within="4h", **kw)])


def visit(eid, at, cp="CP-1"):
    return ek.event(eid, "patrol", "checkpoint_visit", at, checkpoint=cp)


def test_patrol_gap_regular_visits_never_fire(tmp_path):
    cfg = patrol_gap(tmp_path, repeat_every="2h")
    got = firings(cfg, [visit(f"v{i}", i * 3 * H) for i in range(10)])
    assert got == []


def test_patrol_gap_visit_exactly_on_time_is_not_late(tmp_path):
    cfg = patrol_gap(tmp_path)
    assert firings(cfg, [visit("v0", 0), visit("v1", 4 * H), visit("v2", 8 * H)]) == []


def test_patrol_gap_fires_and_the_next_visit_restarts(tmp_path):
    cfg = patrol_gap(tmp_path, repeat_every="2h", max_repeats=12)
    got = firings(cfg, [visit("v0", 0), visit("v1", 9 * H)], until=14 * H)
    # v0 + 4h, then repeats at 6h and 8h; v1 cancels, reopens: due 13h fires at the end (until 14h)
    assert [(t - ek.epoch(0), e) for _, t, e in got] == [
        (4 * H, ("v0",)), (6 * H, ("v0",)), (8 * H, ("v0",)), (13 * H, ("v1",))]


def test_patrol_gap_checkpoints_are_independent(tmp_path):
    cfg = patrol_gap(tmp_path)
    got = firings(cfg, [visit("a0", 0, "CP-A"), visit("b0", 0, "CP-B"), visit("a1", 3 * H, "CP-A")], until=5 * H)
    assert [(e, t - ek.epoch(0)) for e, t, _ in got] == [("checkpoint:CP-B", 4 * H)]


# -- end of replay -------------------------------------------------------------------------------------


def test_until_fires_deadlines_due_at_or_before_it(tmp_path):
    cfg = absence(tmp_path, correlate="attributes.hazard_id")
    events = [found("f1", 0, attributes={"hazard_id": "H1"}), found("f2", 1 * H, attributes={"hazard_id": "H2"})]
    assert at_offsets(firings(cfg, events, until=4 * H)) == [3 * H, 4 * H]  # exactly at until: fires
    assert at_offsets(firings(cfg, events, until=4 * H - 1)) == [3 * H]      # after until: not
    assert at_offsets(firings(cfg, events)) == []                            # clock = last event


def test_until_earlier_than_the_clock_changes_nothing(tmp_path):
    cfg = absence(tmp_path)
    res = ek.run(cfg, [found("f", 0), other("x", 2 * H)], until=-5 * H)
    assert res.contributions == [] and res.now == ek.epoch(2 * H)


def test_until_repeats_included(tmp_path):
    cfg = absence(tmp_path, within="1h", repeat_every="1h", max_repeats=10)
    assert at_offsets(firings(cfg, [found("f", 0)], until=4 * H)) == [1 * H, 2 * H, 3 * H, 4 * H]


def test_until_fires_deadlines_opened_by_the_last_event(tmp_path):
    cfg = absence(tmp_path)
    recs = ek.records(cfg, [found("f", 0)], until=5 * H)
    line = ek.entity_line(recs, "location:L1")
    assert line["contributions"][0]["at"] == ek.utc(3 * H)
    assert ek.of_type(recs, "summary")[0]["now"] == ek.utc(5 * H)
