"""Alerts (docs/contract.md §5): raising at alert_level or by `alert: true`, one open alert, upgrades, assignees."""


from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H


def found(eid, at, loc="L1", **kw):
    return ek.event(eid, "hazard", "found", at, loc=loc, **kw)


def alerts(recs):
    return [{k: a[k] for k in ("entity", "level", "rules", "at")} for a in ek.of_type(recs, "alert")]


def test_raised_when_the_level_reaches_alert_level(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=20)])
    # 20 + 20 (low, medium), then the third firing: 59.99998 rounds to 60.00, high
    recs = ek.records(cfg, [found(f"e{i}", i) for i in range(4)])
    assert alerts(recs) == [{"entity": "location:L1", "level": "high", "rules": ["m"], "at": ek.utc(2)}]
    assert ek.of_type(recs, "summary")[0]["alerts"] == 1


def test_not_raised_below_alert_level(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=59.99)])
    recs = ek.records(cfg, [found("e", 0)])
    assert alerts(recs) == [] and ek.of_type(recs, "summary")[0]["alerts"] == 0
    assert ek.entity_line(recs, "location:L1")["level"] == "medium"


def test_alert_true_raises_at_the_entitys_level_even_low(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("loud", when={"kind": "hazard", "type": "reopened"}, score=5, alert=True),
        ek.rule("quiet", when={"kind": "hazard", "type": "found"}, score=30),
    ])
    recs = ek.records(cfg, [ek.event("r", "hazard", "reopened", 0, loc="L1"),
                            found("f", 1, "L2"), ek.event("r2", "hazard", "reopened", 2, loc="L2")])
    assert alerts(recs) == [
        {"entity": "location:L1", "level": "low", "rules": ["loud"], "at": ek.utc(0)},
        {"entity": "location:L2", "level": "medium", "rules": ["loud"], "at": ek.utc(2)},
    ]


def test_one_open_alert_per_entity_further_firings_attach_silently(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("loud", when={"kind": "hazard"}, score=5, alert=True)])
    res = ek.run(cfg, [found(f"e{i}", i) for i in range(4)])
    changes = [(a.change, a.level) for a in res.alert_changes]
    assert changes == [("raised", "low"), ("attached", "low"), ("attached", "low"), ("attached", "low")]
    recs = ek.records(cfg, [found(f"e{i}", i) for i in range(4)])
    assert len(ek.of_type(recs, "alert")) == 1
    assert ek.of_type(recs, "summary")[0]["alerts"] == 1


def test_upgrade_emits_a_new_alert_line_with_the_higher_level(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("loud", when={"kind": "hazard", "type": "reopened"}, score=10, alert=True),
        ek.rule("m", when={"kind": "hazard", "type": "found"}, score=25),
    ])
    events = [ek.event("r", "hazard", "reopened", 0, loc="L1")] + [found(f"f{i}", i + 1) for i in range(4)]
    recs = ek.records(cfg, events)
    # 10 (low), 35 (medium: upgrade), 60 (high: upgrade), 85 (high: attach), 110 (critical: upgrade)
    assert alerts(recs) == [
        {"entity": "location:L1", "level": "low", "rules": ["loud"], "at": ek.utc(0)},
        {"entity": "location:L1", "level": "medium", "rules": ["loud", "m"], "at": ek.utc(1)},
        {"entity": "location:L1", "level": "high", "rules": ["loud", "m"], "at": ek.utc(2)},
        {"entity": "location:L1", "level": "critical", "rules": ["loud", "m"], "at": ek.utc(4)},
    ]
    # the summary counts alerts raised, not upgrades
    assert ek.of_type(recs, "summary")[0]["alerts"] == 1
    res = ek.run(cfg, events)
    assert [a.change for a in res.alert_changes] == ["raised", "upgraded", "upgraded", "attached", "upgraded"]
    assert len({a.alert_id for a in res.alert_changes}) == 1


def test_level_that_decays_and_rises_again_does_not_reraise(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=65, half_life="1d")])
    recs = ek.records(cfg, [found("a", 0), found("b", 10 * D)])
    assert alerts(recs) == [{"entity": "location:L1", "level": "high", "rules": ["m"], "at": ek.utc(0)}]


def test_one_event_raises_for_several_entities(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("p", target="person", when={"kind": "dispute"}, score=60),
        ek.rule("b", target="building", when={"kind": "dispute"}, score=1, alert=True),
    ])
    recs = ek.records(cfg, [ek.event("e", "dispute", "escalated", 0, building="2", subjects=[
        {"type": "person", "id": "P-1", "role": "party"}, {"type": "person", "id": "P-2", "role": "party"}])])
    assert [(a["entity"], a["level"]) for a in ek.of_type(recs, "alert")] == [
        ("person:P-1", "high"), ("person:P-2", "high"), ("building:2", "low")]


def test_alert_from_a_deadline_is_at_its_due_time_and_level_then(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("a", "absence", start={"kind": "hazard", "type": "found"},
                expect={"kind": "hazard", "type": "rectified"}, within="1d", score=70, half_life="1d"),
    ])
    recs = ek.records(cfg, [found("f", 0), ek.event("x", "patrol", "patrol_started", 3 * D, loc="L9")])
    # fired in step 1 of x: level judged at the due time (70: high), not at x's time (17.5: low)
    assert alerts(recs) == [{"entity": "location:L1", "level": "high", "rules": ["a"], "at": ek.utc(1 * D)}]
    assert ek.entity_line(recs, "location:L1")["level"] == "low"


def test_alert_for_a_late_event_is_judged_at_the_engine_clock(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=70, half_life="1d")])
    recs = ek.records(cfg, [found("now", 2 * D, "L9"), found("late", 0, "L1")])
    # worth at the clock (2 d later): 17.5, low: no alert for L1
    assert [a["entity"] for a in ek.of_type(recs, "alert")] == ["location:L9"]
    recs = ek.records(cfg, [found("now", 1 * H, "L9"), found("late", 0, "L1")])
    assert alerts(recs)[1] == {"entity": "location:L1", "level": "high", "rules": ["m"], "at": ek.utc(0)}


# -- assignees ---------------------------------------------------------------------------------------

ASSIGN = {
    "leaders": {"LE": {"name": "entity lead"}, "LB": {"name": "building lead"}, "LC": {"name": "category lead"},
                "LD": {"name": "default lead"}},
    # listed in reverse priority: the contract's order decides, not the file order
    "assign": [
        {"category": "fire", "leader": "LC"},
        {"building": "1", "leader": "LB"},
        {"entity": "location:HD-1-0101", "leader": "LE"},
        {"entity": "person:P-1", "leader": "LE"},
    ],
    "default": "LD",
    "ack_timeout": {"high": "4h"},
}


def test_assignee_order_entity_building_category_default(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("fire", when={"kind": "monitoring"}, category="fire", score=1, alert=True),
        ek.rule("safety", when={"kind": "hazard"}, category="safety", score=1, alert=True),
        ek.rule("p", target="person", when={"kind": "hazard"}, category="fire", score=1, alert=True),
    ], assignments=ASSIGN)
    recs = ek.records(cfg, [
        ek.event("a", "monitoring", "smoke_alarm", 0, loc="HD-1-0101", building="1"),   # entity
        ek.event("b", "monitoring", "smoke_alarm", 1, loc="HD-1-0202", building="1"),   # building
        ek.event("c", "monitoring", "smoke_alarm", 2, loc="HD-2-0202", building="2"),   # category
        ek.event("d", "hazard", "found", 3, loc="HD-2-0303", building="2"),             # default
        ek.event("e", "hazard", "found", 4, loc="X", person="P-1"),                     # person entity
        ek.event("f", "hazard", "found", 5, loc="Y", person="P-2"),                     # person: category
    ])
    got = {a["entity"]: a["assignee"] for a in ek.of_type(recs, "alert")}
    assert got == {
        "location:HD-1-0101": "LE",
        "location:HD-1-0202": "LB",
        "location:HD-2-0202": "LC",
        "location:HD-2-0303": "LD",
        "person:P-1": "LE",
        "location:X": "LD",
        "person:P-2": "LC",
        "location:Y": "LD",
    }


def test_project_assignments(tmp_path):
    """config/assignments.yaml lists `category: dispute` before `building: "1"`: building still wins."""
    cfg = ek.config(tmp_path, [
        ek.rule("d", when={"kind": "dispute"}, category="dispute", score=1, alert=True),
        ek.rule("p", target="person", when={"kind": "dispute"}, category="dispute", score=1, alert=True),
    ])
    recs = ek.records(cfg, [
        ek.event("a", "dispute", "reported", 0, loc="HD-1-0101", building="1", person="P-0101"),
        ek.event("b", "dispute", "reported", 1, loc="HD-9-0101", person="P-0202"),
    ])
    got = {a["entity"]: a["assignee"] for a in ek.of_type(recs, "alert")}
    assert got == {"location:HD-1-0101": "L01", "person:P-0101": "L04", "location:HD-9-0101": "L04",
                   "person:P-0202": "L04"}


def test_assignee_stays_with_the_open_alert(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("safety", when={"kind": "hazard"}, category="safety", score=1, alert=True),
        ek.rule("fire", when={"kind": "monitoring"}, category="fire", score=80),
    ], assignments=ASSIGN)
    recs = ek.records(cfg, [ek.event("a", "hazard", "found", 0, loc="HD-2-0101"),
                            ek.event("b", "monitoring", "smoke_alarm", 1, loc="HD-2-0101")])
    assert [(a["level"], a["assignee"]) for a in ek.of_type(recs, "alert")] == [("low", "LD"), ("high", "LD")]


def test_a_checkpoints_building_comes_from_area_yaml_when_the_event_lacks_it(tmp_path):
    """`its building` (docs/contract.md §5) for a checkpoint or listed location the event does not place: area.yaml's."""
    cfg = ek.config(tmp_path, [
        ek.rule("gap", target="checkpoint", when={"kind": "patrol"}, category="patrol", score=1, alert=True),
        ek.rule("loc", target="location", when={"kind": "monitoring"}, category="safety", score=1, alert=True),
    ], assignments=ASSIGN)
    recs = ek.records(cfg, [
        ek.event("v", "patrol", "checkpoint_visit", 0, checkpoint="CP-1-LOBBY"),
        ek.event("s", "monitoring", "smoke_alarm", 1, loc="HD-1-B1-garage"),   # sensor SMK-1-B101's place
        ek.event("u", "patrol", "checkpoint_visit", 2, checkpoint="CP-UNKNOWN"),
    ])
    got = {a["entity"]: a["assignee"] for a in ek.of_type(recs, "alert")}
    assert got == {"checkpoint:CP-1-LOBBY": "LB", "location:HD-1-B1-garage": "LB", "checkpoint:CP-UNKNOWN": "LD"}
    # and the multiplier agrees: building 1 counts 1.5
    assert ek.entity_line(recs, "checkpoint:CP-1-LOBBY")["contributions"][0]["points"] == 1.5


def test_an_ended_alert_lets_the_next_firing_raise_a_new_one():
    import orjson

    from pipeline.configset import load_config
    from pipeline.contract import parse_event
    from pipeline.engine.engine import Engine

    cfg = load_config()
    engine = Engine(cfg.rules, cfg.area, cfg.assignments)

    def threat(n: int, day: int):
        return parse_event(orjson.dumps({
            "event_id": f"t-{n}", "kind": "dispute", "type": "reported", "source": "mediation",
            "occurred_at": f"2024-11-{day:02d}T10:00:00+08:00", "tags": ["threat_of_violence"],
            "subjects": [{"type": "person", "id": "P-0900", "role": "party"}],
            "attributes": {"case_id": f"MD-{n}"},
        }), cfg.vocabulary)

    engine.process(threat(1, 4))
    first = [c for c in engine.drain() if getattr(c, "change", None) == "raised"]
    assert len(first) == 1
    assert not engine.end_alert("person:P-0900", "not-this-one")
    assert engine.end_alert("person:P-0900", first[0].alert_id)
    assert not engine.end_alert("person:P-0900", first[0].alert_id)
    engine.process(threat(2, 6))
    second = [c for c in engine.drain() if getattr(c, "change", None) == "raised"]
    assert len(second) == 1 and second[0].alert_id != first[0].alert_id
