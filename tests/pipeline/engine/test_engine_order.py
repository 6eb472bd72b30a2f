"""The processing order of docs/contract.md §3, the clock, out-of-order events, duplicates and rejections."""


from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import H, M


def found(eid, at, loc="L1", **kw):
    return ek.event(eid, "hazard", "found", at, loc=loc, **kw)


def other(eid, at, loc="L9", **kw):
    return ek.event(eid, "patrol", "patrol_started", at, loc=loc, **kw)


def absence(rid, within, start=None, expect=None, **kw):
    return ek.rule(rid, "absence", start=start or {"kind": "hazard", "type": "found"},
                   expect=expect or {"kind": "hazard", "type": "rectified"}, within=within, **kw)


def order(res):
    return [(c.rule, c.entity, round(c.at - ek.epoch(0))) for c in res.contributions]


def test_step1_deadlines_due_before_t_fire_before_the_events_rules(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("m", when={"kind": "patrol"}, target="location"),
        absence("a", "1h"),
    ])
    res = ek.run(cfg, [found("f", 0, "L9"), other("x", 2 * H)])
    assert order(res) == [("a", "location:L9", 1 * H), ("m", "location:L9", 2 * H)]


def test_step1_fires_in_due_order_repeats_included(tmp_path):
    cfg = ek.config(tmp_path, [
        absence("r1", "1h", repeat_every="1h", max_repeats=10),
        absence("r2", "150m", start={"kind": "hazard", "type": "reopened"}),
    ])
    res = ek.run(cfg, [found("f", 0), ek.event("o", "hazard", "reopened", 0, loc="L1"), other("x", 4.5 * H)])
    assert order(res) == [("r1", "location:L1", 1 * H), ("r1", "location:L1", 2 * H),
                          ("r2", "location:L1", 150 * M), ("r1", "location:L1", 3 * H),
                          ("r1", "location:L1", 4 * H)]


def test_step1_ties_fire_in_rules_file_order(tmp_path):
    # "first" is opened later than "second" but is first in the file: same due time, fires first
    cfg = ek.config(tmp_path, [
        absence("first", "2h", start={"kind": "hazard", "type": "reopened"}),
        absence("second", "3h"),
    ])
    res = ek.run(cfg, [found("f", 0), ek.event("o", "hazard", "reopened", 1 * H, loc="L1"), other("x", 5 * H)])
    assert order(res) == [("first", "location:L1", 3 * H), ("second", "location:L1", 3 * H)]
    # the same at the end of the replay
    res = ek.run(cfg, [found("f", 0), ek.event("o", "hazard", "reopened", 1 * H, loc="L1")], until=5 * H)
    assert order(res) == [("first", "location:L1", 3 * H), ("second", "location:L1", 3 * H)]


def test_step2_rules_apply_in_rules_file_order(tmp_path):
    smoke = {"kind": "monitoring", "type": "smoke_alarm"}
    cfg = ek.config(tmp_path, [
        ek.rule("s", "sequence", steps=[{"kind": "monitoring", "type": "ebike_indoor_charging"}, smoke], within="1h"),
        ek.rule("m", when=smoke),
        ek.rule("t", "threshold", when={"kind": "monitoring"}, count=2, window="1h"),
        ek.rule("m2", when={"kind": "monitoring"}),
    ])
    res = ek.run(cfg, [ek.event("c", "monitoring", "ebike_indoor_charging", 0, loc="L1"),
                       ek.event("s1", "monitoring", "smoke_alarm", 60, loc="L1")])
    assert [c.rule for c in res.contributions] == ["m2", "s", "m", "t", "m2"]


def test_step2_expect_cancels_before_step3_start_opens(tmp_path):
    """One event that is both expect and start of a rule cancels the old deadline and opens a new one."""
    cfg = ek.config(tmp_path, [absence("gap", "1h", start={"kind": "hazard"}, expect={"kind": "hazard"})])
    res = ek.run(cfg, [found("f1", 0), found("f2", 50 * M), found("f3", 100 * M)], until=3 * H)
    assert [(c.at - ek.epoch(0), c.events) for c in res.contributions] == [(160 * M, ("f3",))]


def test_an_event_at_t_does_not_fire_deadlines_due_at_t_in_step1(tmp_path):
    """Due exactly at t: not before t, so the event's expect still cancels it."""
    cfg = ek.config(tmp_path, [absence("a", "1h", expect={"kind": "hazard", "type": "rectified"})])
    res = ek.run(cfg, [found("f", 0), ek.event("r", "hazard", "rectified", 1 * H, loc="L1")], until=5 * H)
    assert res.contributions == []


def test_clock_is_the_greatest_accepted_occurred_at(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"})])
    res = ek.run(cfg, [found("a", 5 * H), found("b", 1 * H), found("c", 3 * H)])
    assert res.now == ek.epoch(5 * H)
    assert [c.at - ek.epoch(0) for c in res.contributions] == [5 * H, 1 * H, 3 * H]


def test_out_of_order_start_opens_a_deadline_already_past(tmp_path):
    cfg = ek.config(tmp_path, [absence("a", "1h")])
    res = ek.run(cfg, [other("x", 10 * H), found("late", 0), other("y", 10 * H)])
    # the late start's deadline (1h) is due before y's time: fires in y's step 1 with its due time
    assert order(res) == [("a", "location:L1", 1 * H)]
    res = ek.run(cfg, [other("x", 10 * H), found("late", 0)])
    assert order(res) == [("a", "location:L1", 1 * H)]  # end of replay: due <= clock


def test_out_of_order_events_score_at_their_own_time(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=40, half_life="1h")])
    recs = ek.records(cfg, [found("a", 2 * H), found("late", 0)])
    line = ek.entity_line(recs, "location:L1")
    assert [c["at"] for c in line["contributions"]] == [ek.utc(2 * H), ek.utc(0)]
    assert [c["value"] for c in line["contributions"]] == [40.0, 10.0]
    assert line["score"] == 50.0


def test_rejected_events_neither_fire_rules_nor_move_the_clock(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}), absence("a", "1h")])
    bad_type = found("bad", 5 * H)
    bad_type["type"] = "exploded"
    unknown_field = found("bad2", 6 * H)
    unknown_field["colour"] = "red"
    res = ek.run(cfg, [found("f", 0), bad_type, unknown_field,
                       {**found("bad3", 7 * H), "attributes": {"religion": "x"}}])
    assert res.now == ek.epoch(0)
    assert [c.rule for c in res.contributions] == ["m"]
    assert [r.reason for _, r in res.rejections] == ["unknown_type", "unknown_field:colour",
                                                     "invalid_field:attributes.religion"]


def test_duplicates_neither_fire_rules_nor_move_the_clock(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}), absence("a", "1h")])
    res = ek.run(cfg, [found("f", 0), found("f", 5 * H), found("f", 0, loc="L2")])
    assert res.now == ek.epoch(0)
    assert (res.accepted, res.duplicates) == (1, 2)
    assert [(c.rule, c.entity) for c in res.contributions] == [("m", "location:L1")]


def test_a_duplicate_of_a_rejected_event_is_not_a_duplicate(tmp_path):
    """Only an accepted event_id makes a later one a duplicate."""
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"})])
    bad = found("f", 0)
    bad["severity"] = 9
    res = ek.run(cfg, [bad, found("f", 1)])
    assert (res.accepted, res.duplicates, len(res.rejections)) == (1, 0, 1)
    assert [c.events for c in res.contributions] == [("f",)]


def test_engine_process_directly_drains_in_order(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}), absence("a", "1h")])
    eng = ek.engine(cfg)
    out = ek.feed(eng, cfg, [found("f", 0), other("x", 2 * H)])
    assert [(o.rule, o.at - ek.epoch(0)) for o in out] == [("m", 0), ("a", 1 * H)]
    assert eng.clock == ek.epoch(2 * H)
    assert eng.drain() == []
