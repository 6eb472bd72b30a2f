"""Conditions (docs/contract.md §3): every operator on every path, scalars and lists; nothing ever raises."""


import pytest

from pipeline.rules.conditions import ConditionProblems, compile_condition
from tests.pipeline import enginekit as ek

DOC = {
    "event_id": "e-1",
    "kind": "dispute",
    "type": "reported",
    "occurred_at": "2024-11-05T09:00:00+08:00",
    "source": "mediation",
    "location": {"id": "HD-1-1203", "building": "1", "floor": 12, "unit": "03", "checkpoint": "CP-1-F12"},
    "subjects": [{"type": "person", "id": "P-1", "role": "party"}],
    "severity": 3,
    "tags": ["noise", "threat_of_violence"],
    "attributes": {
        "case_id": "C-9",
        "amount": 2.5,
        "count": 4,
        "flag": True,
        "zero": 0,
        "codes": ["a", "b", 7],
        "outcome": "failed",
    },
    "text": "邻里噪音纠纷，当事人情绪激动",
}


def compiled(spec):
    problems = ConditionProblems()
    holds = compile_condition(spec, "when", problems)
    assert not problems, problems
    return holds


def holds(spec, doc=DOC, role="party"):
    return compiled(spec)(doc, role)


def problems_of(spec):
    problems = ConditionProblems()
    holds = compile_condition(spec, "when", problems)
    assert problems
    # a refused condition never holds
    assert holds(DOC, "party") is False
    return [k for k, _ in problems]


# -- scalars mean equality, lists "one of" ---------------------------------------------------------


@pytest.mark.parametrize(
    "path,yes,no",
    [
        ("kind", "dispute", "petition"),
        ("type", "reported", "resolved"),
        ("source", "mediation", "patrol-app"),
        ("severity", 3, 4),
        ("text", "邻里噪音纠纷，当事人情绪激动", "邻里噪音纠纷"),
        ("location.id", "HD-1-1203", "HD-1-1204"),
        ("location.building", "1", "2"),
        ("location.floor", 12, 13),
        ("location.unit", "03", "04"),
        ("location.checkpoint", "CP-1-F12", "CP-1-F06"),
        ("attributes.case_id", "C-9", "C-8"),
        ("attributes.amount", 2.5, 2.4),
        ("attributes.flag", True, False),
        ("subject.role", "party", "witness"),
    ],
)
def test_scalar_equality_and_one_of_on_every_path(path, yes, no):
    assert holds({path: yes})
    assert not holds({path: no})
    assert holds({path: [no, yes]})
    assert not holds({path: [no]})
    assert holds({path: {"eq": yes}})
    assert not holds({path: {"eq": no}})
    assert holds({path: {"ne": no}})
    assert not holds({path: {"ne": yes}})
    assert holds({path: {"in": [no, yes]}})
    assert not holds({path: {"in": [no]}})
    assert holds({path: {"exists": True}})
    assert not holds({path: {"exists": False}})
    assert holds({path: {"not": {"eq": no}}})
    assert not holds({path: {"not": {"eq": yes}}})


def test_all_entries_of_a_condition_must_hold():
    assert holds({"kind": "dispute", "type": "reported", "severity": 3, "tags": "noise"})
    assert not holds({"kind": "dispute", "type": "reported", "severity": 4, "tags": "noise"})
    # more entries than the unrolled sizes
    five = {"kind": "dispute", "type": "reported", "severity": 3, "source": "mediation", "location.building": "1"}
    assert holds(five)
    assert not holds({**five, "location.floor": 1})


def test_bool_is_not_a_number():
    assert not holds({"attributes.flag": 1})
    assert not holds({"attributes.zero": False})
    assert holds({"attributes.zero": 0})
    assert not holds({"attributes.count": True})
    assert not holds({"attributes.flag": {"gte": 1}})


def test_int_and_float_compare_equal():
    assert holds({"severity": 3.0})
    assert holds({"attributes.amount": {"in": [1, 2.5]}})


# -- list fields: a scalar means "contains", a list "contains one of" -------------------------------


def test_list_fields_scalar_means_contains():
    assert holds({"tags": "noise"})
    assert not holds({"tags": "weapon"})
    assert holds({"tags": ["weapon", "noise"]})
    assert not holds({"tags": ["weapon", "fire"]})
    assert holds({"tags": {"eq": "threat_of_violence"}})
    assert holds({"tags": {"ne": "weapon"}})
    assert not holds({"tags": {"ne": "noise"}})
    assert holds({"tags": {"in": ["weapon", "noise"]}})
    assert holds({"attributes.codes": 7})
    assert holds({"attributes.codes": "a"})
    assert not holds({"attributes.codes": "7"})


def test_any_and_all():
    assert holds({"tags": {"any": ["weapon", "threat_of_violence"]}})
    assert not holds({"tags": {"any": ["weapon", "fire"]}})
    assert holds({"tags": {"all": ["noise", "threat_of_violence"]}})
    assert not holds({"tags": {"all": ["noise", "weapon"]}})
    assert holds({"attributes.codes": {"all": ["a", 7]}})
    # on a scalar field any/all treat the value as a one-element list
    assert holds({"kind": {"any": ["dispute", "hazard"]}})
    assert holds({"kind": {"all": ["dispute"]}})
    assert not holds({"kind": {"all": ["dispute", "hazard"]}})
    # missing field: no element
    assert not holds({"attributes.nope": {"any": ["x"]}})
    assert not holds({"attributes.nope": {"all": ["x"]}})


def test_contains():
    assert holds({"text": {"contains": "噪音"}})
    assert not holds({"text": {"contains": "火灾"}})
    assert holds({"tags": {"contains": "noise"}})
    assert not holds({"tags": {"contains": "nois"}})  # list membership, not substring
    assert holds({"attributes.case_id": {"contains": "C-"}})
    assert not holds({"attributes.count": {"contains": "4"}})
    assert not holds({"attributes.nope": {"contains": "x"}})


@pytest.mark.parametrize(
    "op,arg,expected",
    [
        ("gt", 2, True), ("gt", 3, False), ("gte", 3, True), ("gte", 4, False),
        ("lt", 4, True), ("lt", 3, False), ("lte", 3, True), ("lte", 2, False),
        ("gt", 2.5, True), ("lte", 3.0, True),
    ],
)
def test_numeric_comparisons(op, arg, expected):
    assert holds({"severity": {op: arg}}) is expected


def test_comparisons_on_other_paths_and_strings():
    assert holds({"location.floor": {"gte": 12, "lt": 13}})
    assert not holds({"location.floor": {"gte": 12, "lt": 12}})
    assert holds({"attributes.amount": {"gt": 2, "lt": 3}})
    assert holds({"location.id": {"gt": "HD-1-1202"}})
    assert holds({"attributes.case_id": {"lte": "C-9"}})
    assert not holds({"attributes.case_id": {"lt": "C-9"}})


def test_comparison_type_mismatches_never_hold_and_never_raise():
    assert not holds({"severity": {"gt": "1"}})
    assert not holds({"location.id": {"gt": 1}})
    assert not holds({"tags": {"gt": "a"}})
    assert not holds({"attributes.flag": {"lt": 5}})
    assert not holds({"attributes.codes": {"gte": 0}})
    assert not holds({"attributes.nope": {"gt": 0}})
    assert not holds({"attributes.nope": {"lt": 0}})


def test_type_mismatches_in_equality_never_raise():
    weird = {"kind": "dispute", "type": "reported", "location": {"floor": 3}, "attributes": {"x": [1, "1", True]}}
    for value in (1, "1", True, 1.0, [1, "x"]):
        for path in ("kind", "severity", "tags", "text", "location.id", "location.floor", "attributes.x",
                     "subject.role"):
            compiled({path: value})(weird, None)
            compiled({path: {"ne": value if not isinstance(value, list) else "x"}})(weird, None)
            compiled({path: {"contains": "1"}})(weird, None)
            compiled({path: {"any": [value] if not isinstance(value, list) else value}})(weird, None)
    assert holds({"attributes.x": 1}, weird) and holds({"attributes.x": "1"}, weird)
    assert holds({"attributes.x": True}, weird)
    assert not holds({"attributes.x": 2}, weird)


# -- missing fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["severity", "tags", "text", "location.id", "location.building", "location.floor", "location.unit",
     "location.checkpoint", "attributes.case_id", "subject.role"],
)
def test_missing_field_satisfies_only_exists_false_ne_and_negations(path):
    bare = {"event_id": "e-2", "kind": "hazard", "type": "found", "occurred_at": DOC["occurred_at"],
            "source": "patrol-app"}
    assert not holds({path: "x"}, bare, None)
    assert not holds({path: ["x", 1]}, bare, None)
    assert not holds({path: {"eq": 1}}, bare, None)
    assert not holds({path: {"in": ["x"]}}, bare, None)
    assert not holds({path: {"gte": 0}}, bare, None)
    assert not holds({path: {"lte": "zzz"}}, bare, None)
    assert not holds({path: {"contains": "x"}}, bare, None)
    assert not holds({path: {"any": ["x"]}}, bare, None)
    assert not holds({path: {"exists": True}}, bare, None)
    assert holds({path: {"exists": False}}, bare, None)
    assert holds({path: {"ne": "x"}}, bare, None)
    assert holds({path: {"not": {"eq": "x"}}}, bare, None)
    assert holds({path: {"not": {"gt": 0}}}, bare, None)
    assert holds({path: {"not": {"exists": True}}}, bare, None)


def test_location_present_but_field_missing():
    doc = {**DOC, "location": {"id": "HD-1-1203"}}
    assert not holds({"location.building": "1"}, doc)
    assert holds({"location.building": {"exists": False}}, doc)


def test_subject_role_is_the_role_of_the_scored_subject():
    assert holds({"subject.role": "witness"}, DOC, "witness")
    assert not holds({"subject.role": "party"}, DOC, "witness")
    # location/building/checkpoint targets score no subject: the role is missing
    assert not holds({"subject.role": {"exists": True}}, DOC, None)
    assert holds({"subject.role": {"exists": False}}, DOC, None)


def test_operators_combine_in_one_object():
    assert holds({"severity": {"gte": 2, "lte": 4, "ne": 5}})
    assert not holds({"severity": {"gte": 2, "lte": 4, "ne": 3}})
    assert holds({"tags": {"any": ["noise"], "not": {"any": ["weapon"]}}})
    assert holds({"severity": {"not": {"in": [1, 2]}}})
    assert holds({"severity": {"not": {"not": {"eq": 3}}}})


# -- refused conditions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,key",
    [
        ({}, "when"),
        ("kind: dispute", "when"),
        ({"nope": 1}, "when.nope"),
        ({"location": "x"}, "when.location"),
        ({"location.street": "x"}, "when.location.street"),
        ({"attributes.": "x"}, "when.attributes."),
        ({"subject.id": "x"}, "when.subject.id"),
        ({"kind": {"like": "d%"}}, "when.kind.like"),
        ({"kind": {}}, "when.kind"),
        ({"kind": []}, "when.kind"),
        ({"kind": [{"a": 1}]}, "when.kind"),
        ({"kind": None}, "when.kind"),
        ({"kind": {"eq": [1]}}, "when.kind.eq"),
        ({"kind": {"in": "dispute"}}, "when.kind.in"),
        ({"kind": {"in": []}}, "when.kind.in"),
        ({"severity": {"gt": True}}, "when.severity.gt"),
        ({"severity": {"gt": [1]}}, "when.severity.gt"),
        ({"text": {"contains": 1}}, "when.text.contains"),
        ({"tags": {"any": "x"}}, "when.tags.any"),
        ({"tags": {"all": []}}, "when.tags.all"),
        ({"tags": {"exists": "yes"}}, "when.tags.exists"),
        ({"tags": {"not": "x"}}, "when.tags.not"),
        ({"tags": {"not": {"bogus": 1}}}, "when.tags.not.bogus"),
        ({"attributes.religion": "x"}, "when.attributes.religion"),
        ({"attributes.Religion": "x"}, "when.attributes.Religion"),
        ({"attributes.HEALTH": {"exists": True}}, "when.attributes.HEALTH"),
        ({"attributes.union_membership": {"exists": False}}, "when.attributes.union_membership"),
    ],
)
def test_refused_conditions_name_the_key(spec, key):
    assert key in problems_of(spec)


def test_every_problem_of_a_condition_is_listed():
    keys = problems_of({"nope": 1, "kind": {"like": 1, "in": []}, "attributes.ethnicity": "x"})
    assert set(keys) == {"when.nope", "when.kind.like", "when.kind.in", "when.attributes.ethnicity"}


def test_events_through_the_engine_never_raise_on_odd_values(tmp_path):
    """Conditions of every shape over events with odd but valid values: the replay just runs."""
    whens = [
        {"attributes.v": {"gt": 1}}, {"attributes.v": {"contains": "a"}}, {"attributes.v": {"all": [1, "a"]}},
        {"attributes.v": "a"}, {"attributes.v": {"lt": "b"}}, {"tags": {"gte": "a"}}, {"location.floor": {"contains": "1"}},
    ]
    rules = [ek.rule(f"r{i}", when={"kind": "hazard", **w}) for i, w in enumerate(whens)]
    cfg = ek.config(tmp_path, rules)
    values = [1, 1.5, "a", True, [], [1, "a", False], ["b"], "", 0]
    events = [ek.event(f"e{i}", "hazard", "found", i, loc="L", attributes={"v": v}, tags=["a"],
                       location={"floor": 1})
              for i, v in enumerate(values)]
    recs = ek.records(cfg, events)
    assert ek.of_type(recs, "summary")[0]["accepted"] == len(values)
    fired = {(c["rule"], e) for r in ek.of_type(recs, "entity") for c in r["contributions"] for e in c["events"]}
    assert ("r0", "e1") in fired and ("r0", "e0") not in fired and ("r0", "e3") not in fired
    assert ("r1", "e2") in fired and ("r1", "e5") in fired
    assert ("r2", "e5") in fired and ("r2", "e0") not in fired
    assert ("r3", "e2") in fired and ("r3", "e5") in fired
    assert ("r4", "e2") in fired and ("r4", "e7") in fired and ("r4", "e6") not in fired
    assert not any(r in ("r5", "r6") for r, _ in fired)
