"""Scoring (docs/contract.md §4): decay, half-life override, criticality multipliers, levels, explanations."""


import pytest

from pipeline.engine.scoring import NEGLIGIBLE, explain, score_at, worth
from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H


def found(eid, at, loc="L1", **kw):
    return ek.event(eid, "hazard", "found", at, loc=loc, **kw)


def test_worth_formula():
    c = ["r", 40.0, 1000.0, ["e"], 3600.0]
    assert worth(c, 1000.0) == 40.0
    assert worth(c, 4600.0) == pytest.approx(20.0, abs=1e-9)
    assert worth(c, 1000.0 + 7200) == pytest.approx(10.0, abs=1e-9)
    assert worth(c, 1000.0 + 1234.5) == pytest.approx(40.0 * 0.5 ** (1234.5 / 3600), abs=1e-9)


def test_score_and_explain_leave_negligible_contributions_out():
    cs = [["a", 1.0, 0.0, ["e1"], 3600.0], ["b", 50.0, 0.0, ["e2"], 86400.0]]
    now = 7 * 3600.0  # a is worth 1/128 < 0.01
    assert worth(cs[0], now) < NEGLIGIBLE
    assert score_at(cs, now) == pytest.approx(50.0 * 0.5 ** (7 / 24), abs=1e-9)
    assert [e.rule for e in explain(cs, now)] == ["b"]
    ex = explain(cs, now)[0]
    assert (ex.points, ex.at, ex.events) == (50.0, 0.0, ("e2",))
    assert ex.value == pytest.approx(50.0 * 0.5 ** (7 / 24), abs=1e-9)


@pytest.mark.parametrize("elapsed", [0, 1, 3600, 3 * D, 14 * D, 40 * D])
def test_engine_score_decays_with_the_default_half_life(tmp_path, elapsed):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=40)])
    eng = ek.engine(cfg)
    ek.feed(eng, cfg, [found("f", 0)])
    expected = 40 * 0.5 ** (elapsed / (14 * D))
    assert score_at(eng.entities["location:L1"]["c"], ek.epoch(elapsed)) == pytest.approx(expected, abs=1e-9)


def test_rule_half_life_overrides_the_default(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("fast", when={"kind": "hazard"}, score=40, half_life="1d"),
        ek.rule("slow", when={"kind": "hazard"}, score=40),
    ], half_life="4d")
    recs = ek.records(cfg, [found("f", 0)], until=2 * D)
    line = ek.entity_line(recs, "location:L1")
    values = {c["rule"]: c["value"] for c in line["contributions"]}
    assert values == {"fast": round(40 * 0.25, 2), "slow": round(40 * 0.5 ** 0.5, 2)}
    assert line["score"] == round(10 + 40 * 0.5 ** 0.5, 2)


def test_contributions_sum_each_with_its_own_firing_time(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=25, half_life="10h")])
    eng = ek.engine(cfg)
    ek.feed(eng, cfg, [found("a", 0), found("b", 3 * H), found("c", 7 * H)])
    now = ek.epoch(12 * H)
    expected = sum(25 * 0.5 ** ((12 - t) / 10) for t in (0, 3, 7))
    assert score_at(eng.entities["location:L1"]["c"], now) == pytest.approx(expected, abs=1e-9)
    rec = ek.records(cfg, [found("a", 0), found("b", 3 * H), found("c", 7 * H)], until=12 * H)
    assert ek.entity_line(rec, "location:L1")["score"] == round(expected, 2)


def test_absence_contribution_decays_from_its_due_time(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("a", "absence", start={"kind": "hazard", "type": "found"},
                                       expect={"kind": "hazard", "type": "rectified"}, within="2h",
                                       score=40, half_life="1h")])
    recs = ek.records(cfg, [found("f", 0), ek.event("x", "patrol", "patrol_started", 5 * H, loc="L9")])
    c = ek.entity_line(recs, "location:L1")["contributions"][0]
    assert c["at"] == ek.utc(2 * H)
    assert c["value"] == round(40 * 0.5 ** 3, 2)


# -- multipliers ---------------------------------------------------------------------------------


def points_of(res, ref):
    return [c.points for c in res.contributions if c.entity == ref]


def test_project_criticality_multiplies_points(tmp_path):
    """Project area.yaml: building:1 and building:2 are 1.5; locations and checkpoints inherit."""
    targets = ("location", "building", "checkpoint", "person", "business")
    cfg = ek.config(tmp_path, [ek.rule(t, target=t, when={"kind": "dispute"}, score=20) for t in targets])
    res = ek.run(cfg, [
        ek.event("e1", "dispute", "reported", 0, loc="HD-1-1203", building="1", checkpoint="CP-1-F12",
                 person="P-1", business="B-1"),
        ek.event("e2", "dispute", "reported", 1, loc="NOWHERE-1", building="9", person="P-2"),
        ek.event("e3", "dispute", "reported", 2, loc="NOWHERE-2"),
    ])
    assert points_of(res, "location:HD-1-1203") == [30.0]
    assert points_of(res, "building:1") == [30.0]
    assert points_of(res, "checkpoint:CP-1-F12") == [30.0]
    # persons and businesses do not inherit their event's building
    assert points_of(res, "person:P-1") == [20.0]
    assert points_of(res, "business:B-1") == [20.0]
    # unknown building, no building: 1.0
    assert points_of(res, "location:NOWHERE-1") == [20.0]
    assert points_of(res, "building:9") == [20.0]
    assert points_of(res, "location:NOWHERE-2") == [20.0]


def test_known_checkpoint_inherits_without_a_building_in_the_event(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("c", target="checkpoint", when={"kind": "patrol"}, score=10)])
    res = ek.run(cfg, [ek.event("v", "patrol", "checkpoint_visit", 0, checkpoint="CP-2-ROOF")])
    assert points_of(res, "checkpoint:CP-2-ROOF") == [15.0]


def test_custom_criticality_own_values_and_inheritance(tmp_path):
    area = ek.project_area_with(criticality={
        "building:1": 2.0,
        "building:2": 1.25,
        "location:HD-1-1203": 3.0,
        "checkpoint:CP-1-F12": 0.5,
        "person:P-1": 4.0,
        "business:B-1": 1.5,
    })
    targets = ("location", "building", "checkpoint", "person", "business")
    cfg = ek.config(tmp_path, [ek.rule(t, target=t, when={"kind": "dispute"}, score=10) for t in targets],
                    area=area)
    res = ek.run(cfg, [
        ek.event("e1", "dispute", "reported", 0, loc="HD-1-1203", building="1", checkpoint="CP-1-F12",
                 person="P-1", business="B-1"),
        ek.event("e2", "dispute", "reported", 1, loc="HD-1-0101", building="1", checkpoint="CP-1-F06",
                 person="P-2", business="B-2"),
        ek.event("e3", "dispute", "reported", 2, loc="HD-2-0101", building="2"),
    ])
    assert points_of(res, "location:HD-1-1203") == [30.0]      # own value wins over building's
    assert points_of(res, "checkpoint:CP-1-F12") == [5.0]
    assert points_of(res, "person:P-1") == [40.0]
    assert points_of(res, "business:B-1") == [15.0]
    assert points_of(res, "location:HD-1-0101") == [20.0]      # inherits building 1
    assert points_of(res, "checkpoint:CP-1-F06") == [20.0]
    assert points_of(res, "person:P-2") == [10.0]              # never inherits
    assert points_of(res, "business:B-2") == [10.0]
    assert points_of(res, "building:1") == [20.0, 20.0]
    assert points_of(res, "location:HD-2-0101") == [12.5]
    assert points_of(res, "building:2") == [12.5]


def test_points_and_values_in_output_carry_the_multiplier(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=33.333, half_life="1h")])
    recs = ek.records(cfg, [found("f", 0, "HD-1-0101", building="1")], until=1 * H)
    c = ek.entity_line(recs, "location:HD-1-0101")["contributions"][0]
    assert c["points"] == round(33.333 * 1.5, 2) == 50.0
    assert c["value"] == round(33.333 * 1.5 / 2, 2)


# -- levels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "score,level",
    [(0.5, "low"), (29.99, "low"), (29.994, "low"), (29.995, "medium"), (30, "medium"), (59.99, "medium"),
     (60, "high"), (89.999, "critical"), (90, "critical"), (500, "critical")],
)
def test_levels_are_judged_on_the_score_rounded_to_two_decimals(tmp_path, score, level):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=score)])
    line = ek.entity_line(ek.records(cfg, [found("f", 0)]), "location:L1")
    assert line["level"] == level
    assert line["score"] == round(score, 2)


def test_custom_levels(tmp_path):
    levels = {"watch": 5, "act": 50}
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=5)], levels=levels,
                    alert_level="act", assignments={"leaders": {"L1": {"name": "x"}}, "default": "L1",
                                                    "ack_timeout": {"act": "1h"}})
    recs = ek.records(cfg, [found("a", 0), found("b", 0, "L2")] + [found(f"c{i}", 0, "L3") for i in range(10)])
    assert ek.entity_line(recs, "location:L1")["level"] == "watch"
    assert ek.entity_line(recs, "location:L3")["level"] == "act"
    assert [a["entity"] for a in ek.of_type(recs, "alert")] == ["location:L3"]


def test_level_falls_as_the_score_decays(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=70, half_life="1d")])
    assert ek.entity_line(ek.records(cfg, [found("f", 0)]), "location:L1")["level"] == "high"
    assert ek.entity_line(ek.records(cfg, [found("f", 0)], until=1 * D), "location:L1")["level"] == "medium"
    assert ek.entity_line(ek.records(cfg, [found("f", 0)], until=2 * D), "location:L1")["level"] == "low"


# -- explanation ---------------------------------------------------------------------------------


def test_entity_line_explains_every_contribution(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("m", when={"kind": "hazard", "type": "found"}, score=10, half_life="1d"),
        ek.rule("t", "threshold", when={"kind": "hazard"}, count=2, window="1h", score=20, half_life="2d"),
    ])
    recs = ek.records(cfg, [found("a", 0), ek.event("b", "hazard", "rectified", 30 * 60, loc="L1")], until=1 * D)
    line = ek.entity_line(recs, "location:L1")
    assert line == {
        "type": "entity",
        "entity": "location:L1",
        "score": round(5 + 20 * 0.5 ** ((1 * D - 1800) / (2 * D)), 2),
        "level": "low",
        "contributions": [
            {"rule": "m", "points": 10.0, "value": 5.0, "at": ek.utc(0), "events": ["a"]},
            {"rule": "t", "points": 20.0, "value": round(20 * 0.5 ** ((1 * D - 1800) / (2 * D)), 2),
             "at": ek.utc(1800), "events": ["a", "b"]},
        ],
    }


def test_negligible_contributions_and_entities_are_left_out(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=1, half_life="1h")])
    recs = ek.records(cfg, [found("old", 0), found("new", 7 * H, "L2"), found("new2", 7 * H, "L1")])
    assert ek.entity_line(recs, "location:L1")["contributions"] == [
        {"rule": "m", "points": 1.0, "value": 1.0, "at": ek.utc(7 * H), "events": ["new2"]}]
    recs = ek.records(cfg, [found("old", 0), found("new", 7 * H, "L2")])
    assert ek.entity_line(recs, "location:L1") is None
    assert ek.of_type(recs, "summary")[0]["entities"] == 1
