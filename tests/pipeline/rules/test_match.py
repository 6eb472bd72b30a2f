"""`match` rules and entity references (docs/contract.md §2, §3)."""


from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import H


def test_fires_on_every_matching_event(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard", "type": "found"})])
    res = ek.run(cfg, [
        ek.event("e1", "hazard", "found", 0, loc="L1"),
        ek.event("e2", "hazard", "rectified", 1 * H, loc="L1"),
        ek.event("e3", "hazard", "found", 2 * H, loc="L1"),
        ek.event("e4", "hazard", "found", 3 * H, loc="L2"),
    ])
    got = [(c.entity, c.at, c.events) for c in res.contributions]
    assert got == [
        ("location:L1", ek.epoch(0), ("e1",)),
        ("location:L1", ek.epoch(2 * H), ("e3",)),
        ("location:L2", ek.epoch(3 * H), ("e4",)),
    ]


def test_entity_refs_for_every_target(tmp_path):
    rules = [ek.rule(t, target=t, when={"kind": "dispute"})
             for t in ("person", "business", "location", "building", "checkpoint")]
    cfg = ek.config(tmp_path, rules)
    res = ek.run(cfg, [ek.event(
        "e1", "dispute", "reported", 0,
        location={"id": "HD-1-1203", "building": "1", "checkpoint": "CP-1-F12", "floor": 12, "unit": "03"},
        subjects=[{"type": "person", "id": "P-1", "role": "party"},
                  {"type": "person", "id": "P-2", "role": "witness"},
                  {"type": "business", "id": "B-1", "role": "operator"}],
    )])
    assert sorted((c.rule, c.entity) for c in res.contributions) == [
        ("building", "building:1"),
        ("business", "business:B-1"),
        ("checkpoint", "checkpoint:CP-1-F12"),
        ("location", "location:HD-1-1203"),
        ("person", "person:P-1"),
        ("person", "person:P-2"),
    ]


def test_event_lacking_the_target_id_does_not_match(tmp_path):
    rules = [ek.rule(t, target=t, when={"kind": "hazard"})
             for t in ("person", "business", "location", "building", "checkpoint")]
    cfg = ek.config(tmp_path, rules)
    res = ek.run(cfg, [
        ek.event("e1", "hazard", "found", 0),
        ek.event("e2", "hazard", "found", 1, location={"floor": 3, "unit": "01"}),
        ek.event("e3", "hazard", "found", 2, building="2"),  # building only
    ])
    assert [(c.rule, c.entity, c.events) for c in res.contributions] == [("building", "building:2", ("e3",))]


def test_roles_filter_subjects(tmp_path):
    cfg = ek.config(tmp_path, [
        ek.rule("parties", target="person", roles=["party"], when={"kind": "dispute"}),
        ek.rule("operators", target="business", roles=["operator"], when={"kind": "dispute"}),
    ])
    res = ek.run(cfg, [ek.event("e1", "dispute", "reported", 0, subjects=[
        {"type": "person", "id": "P-1", "role": "party"},
        {"type": "person", "id": "P-2", "role": "witness"},
        {"type": "business", "id": "B-1", "role": "party"},
        {"type": "business", "id": "B-2", "role": "operator"},
    ])])
    assert sorted((c.rule, c.entity) for c in res.contributions) == [
        ("operators", "business:B-2"), ("parties", "person:P-1")]


def test_subject_role_condition_reads_the_scored_subjects_role(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", target="person", when={"kind": "dispute", "subject.role": "mediator"})])
    res = ek.run(cfg, [ek.event("e1", "dispute", "reported", 0, subjects=[
        {"type": "person", "id": "P-1", "role": "party"},
        {"type": "person", "id": "P-2", "role": "mediator"},
    ])])
    assert [c.entity for c in res.contributions] == ["person:P-2"]


def test_a_subject_listed_twice_is_scored_once(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", target="person", when={"kind": "dispute"})])
    res = ek.run(cfg, [ek.event("e1", "dispute", "reported", 0, subjects=[
        {"type": "person", "id": "P-1", "role": "party"},
        {"type": "person", "id": "P-1", "role": "party"},
    ])])
    assert [c.entity for c in res.contributions] == ["person:P-1"]


def test_petition_never_scores_a_person(tmp_path):
    """Even a person rule that does not mention kind never scores a petition (runtime guardrail)."""
    cfg = ek.config(tmp_path, [
        ek.rule("anything", target="person", when={"type": {"in": ["received", "reported"]}}),
        ek.rule("biz", target="business", when={"type": "received"}),
        ek.rule("seq", "sequence", target="person", steps=[{"source": "x"}, {"source": "x"}], within="1d"),
        ek.rule("thr", "threshold", target="person", when={"source": "x"}, count=1, window="1d"),
        ek.rule("abs", "absence", target="person", start={"source": "x"}, expect={"source": "never"}, within="1h"),
    ])
    res = ek.run(cfg, [
        ek.event("p1", "petition", "received", 0, source="x", person="P-1", business="B-1"),
        ek.event("p2", "petition", "received", 1, source="x", person="P-1"),
        ek.event("d1", "dispute", "reported", 2, person="P-2"),
    ], until=10 * H)
    assert sorted((c.rule, c.entity) for c in res.contributions) == [
        ("anything", "person:P-2"), ("biz", "business:B-1")]


def test_disabled_rules_never_fire(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, enabled=False)])
    res = ek.run(cfg, [ek.event("e1", "hazard", "found", 0, loc="L1")])
    assert res.contributions == []


def test_kind_and_type_index_with_operator_conditions(tmp_path):
    """Rules are indexed by kind/type; conditions written with operators still match the right events."""
    cfg = ek.config(tmp_path, [
        ek.rule("a", when={"kind": {"in": ["hazard", "monitoring"]}, "type": {"ne": "found"}}),
        ek.rule("b", when={"kind": {"not": {"eq": "hazard"}}}),
        ek.rule("c", when={"type": ["found", "smoke_alarm"]}),
        ek.rule("d", when={"tags": "x"}),
    ])
    res = ek.run(cfg, [
        ek.event("e1", "hazard", "found", 0, loc="L"),
        ek.event("e2", "hazard", "rectified", 1, loc="L", tags=["x"]),
        ek.event("e3", "monitoring", "smoke_alarm", 2, loc="L"),
        ek.event("e4", "patrol", "issue_found", 3, loc="L"),
    ])
    assert sorted((c.rule, c.events[0]) for c in res.contributions) == [
        ("a", "e2"), ("a", "e3"), ("b", "e3"), ("b", "e4"), ("c", "e1"), ("c", "e3"), ("d", "e2")]
