"""`threshold` rules (docs/contract.md §3): [t − window, t] inclusive, consumption, distinct."""


from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H

WHEN = {"kind": "monitoring", "type": "device_offline"}


def thr(tmp_path, count=3, window="1h", **kw):
    return ek.config(tmp_path, [ek.rule("t", "threshold", when=WHEN, count=count, window=window, **kw)])


def offline(eid, at, loc="L1", **kw):
    return ek.event(eid, "monitoring", "device_offline", at, loc=loc, **kw)


def firings(cfg, events, until=None):
    return [(c.entity, c.at, c.events) for c in ek.run(cfg, events, until).contributions]


def test_fires_at_t_when_count_is_reached_with_the_events_as_evidence(tmp_path):
    got = firings(thr(tmp_path), [offline("a", 0), offline("b", 600), offline("c", 1200)])
    assert got == [("location:L1", ek.epoch(1200), ("a", "b", "c"))]


def test_window_lower_bound_is_inclusive(tmp_path):
    # exactly t - window: counted
    got = firings(thr(tmp_path), [offline("a", 0), offline("b", 1800), offline("c", 3600)])
    assert got == [("location:L1", ek.epoch(3600), ("a", "b", "c"))]


def test_event_just_outside_the_window_is_not_counted(tmp_path):
    got = firings(thr(tmp_path), [offline("a", 0), offline("b", 1800), offline("c", 3601)])
    assert got == []
    got = firings(thr(tmp_path), [offline("a", 0), offline("b", 1800), offline("c", 3601), offline("d", 3602)])
    assert got == [("location:L1", ek.epoch(3602), ("b", "c", "d"))]


def test_events_at_the_same_time_count(tmp_path):
    got = firings(thr(tmp_path), [offline("a", 5), offline("b", 5), offline("c", 5)])
    assert got == [("location:L1", ek.epoch(5), ("a", "b", "c"))]


def test_consumption_restarts_the_count(tmp_path):
    events = [offline(f"e{i}", i * 60) for i in range(7)]
    got = firings(thr(tmp_path), events)
    assert got == [
        ("location:L1", ek.epoch(120), ("e0", "e1", "e2")),
        ("location:L1", ek.epoch(300), ("e3", "e4", "e5")),
    ]


def test_count_is_per_entity(tmp_path):
    events = [offline("a", 0, "L1"), offline("b", 1, "L2"), offline("c", 2, "L1"), offline("d", 3, "L2"),
              offline("e", 4, "L1")]
    assert firings(thr(tmp_path), events) == [("location:L1", ek.epoch(4), ("a", "c", "e"))]


def test_non_matching_events_are_not_counted(tmp_path):
    events = [offline("a", 0), ek.event("x", "monitoring", "smoke_alarm", 1, loc="L1"), offline("b", 2)]
    assert firings(thr(tmp_path), events) == []


def test_out_of_order_event_counts_the_window_before_its_own_time(tmp_path):
    # a at 0, b at 50 min; then c arrives late at 10 min: window [−50 min, 10 min] holds a and c only
    cfg = thr(tmp_path)
    assert firings(cfg, [offline("a", 0), offline("b", 3000), offline("c", 600)]) == []
    # with count 2, the late event fires with a (not b, which is after it)
    cfg2 = thr(tmp_path / "2", count=2)
    assert firings(cfg2, [offline("a", 0), offline("b", 3600 * 5), offline("c", 600)]) == [
        ("location:L1", ek.epoch(600), ("a", "c"))]


def test_late_event_does_not_count_later_events_but_is_counted_by_them(tmp_path):
    cfg = thr(tmp_path, count=3)
    # a 0, b 30 min (2 in window), late 10 min: [−50 min, 10 min] holds a and late only (2),
    # c 40 min: [−20 min, 40 min] holds a, late, b, c: 4 >= 3, fires with all of them
    got = firings(cfg, [offline("a", 0), offline("b", 1800), offline("late", 600), offline("c", 2400)])
    assert got == [("location:L1", ek.epoch(2400), ("a", "late", "b", "c"))]


def test_distinct_counts_distinct_values(tmp_path):
    cfg = thr(tmp_path, target="building", distinct="location.id")
    events = [
        offline("a", 0, "L1", building="1"),
        offline("b", 60, "L1", building="1"),
        offline("c", 120, "L2", building="1"),
        offline("d", 180, "L2", building="1"),
        offline("e", 240, "L3", building="1"),
    ]
    assert firings(cfg, events) == [("building:1", ek.epoch(240), ("a", "b", "c", "d", "e"))]


def test_distinct_consumes_every_counted_event(tmp_path):
    cfg = thr(tmp_path, count=2, target="building", distinct="location.id")
    events = [
        offline("a", 0, "L1", building="1"),
        offline("b", 60, "L2", building="1"),
        offline("c", 120, "L2", building="1"),  # L2 again: alone after consumption
        offline("d", 180, "L2", building="1"),
        offline("e", 240, "L3", building="1"),
    ]
    assert firings(cfg, events) == [
        ("building:1", ek.epoch(60), ("a", "b")),
        ("building:1", ek.epoch(240), ("c", "d", "e")),
    ]


def test_distinct_skips_events_lacking_the_path(tmp_path):
    cfg = thr(tmp_path, count=2, distinct="attributes.sensor")
    events = [offline("a", 0), offline("b", 1, attributes={"sensor": "S1"}), offline("c", 2),
              offline("d", 3, attributes={"sensor": "S2"})]
    assert firings(cfg, events) == [("location:L1", ek.epoch(3), ("b", "d"))]


def test_distinct_on_a_list_valued_attribute_and_type_sensitivity(tmp_path):
    cfg = thr(tmp_path, count=3, distinct="attributes.v")
    events = [offline("a", 0, attributes={"v": 1}), offline("b", 1, attributes={"v": "1"}),
              offline("c", 2, attributes={"v": True}), offline("d", 3, attributes={"v": [1, 2]})]
    # 1, "1" and true are three distinct values
    assert firings(cfg, events) == [("location:L1", ek.epoch(2), ("a", "b", "c"))]


def test_count_one_fires_on_every_event(tmp_path):
    got = firings(thr(tmp_path, count=1), [offline("a", 0), offline("b", 0)])
    assert got == [("location:L1", ek.epoch(0), ("a",)), ("location:L1", ek.epoch(0), ("b",))]


def test_long_windows(tmp_path):
    cfg = thr(tmp_path, count=3, window="7d")
    got = firings(cfg, [offline("a", 0), offline("b", 3 * D), offline("c", 7 * D)])
    assert got == [("location:L1", ek.epoch(7 * D), ("a", "b", "c"))]
    got = firings(cfg, [offline("a", 0), offline("b", 3 * D), offline("c", 7 * D + 1)])
    assert got == []


def test_a_late_event_counts_its_window_even_after_a_sweep(tmp_path):
    """Windows are kept a day beyond what in-order events need: an event a few hours late still counts
    [t − window, t] as the contract says, whether or not the engine swept in between."""
    cfg = thr(tmp_path, count=2)
    for sweep in (False, True):
        eng = ek.engine(cfg)
        ek.feed(eng, cfg, [offline("a", 0), offline("x", 20 * H, "L9")])
        if sweep:
            eng.sweep()
        out = ek.feed(eng, cfg, [offline("late", 30 * 60)])
        assert [(c.entity, c.at, c.events) for c in out] == [("location:L1", ek.epoch(30 * 60), ("a", "late"))]
