"""`config/assignments.yaml` (包保, docs/contract.md §5): assignee order and refusal with every error listed."""


import pytest

from pipeline.assignments import load_assignments
from pipeline.config_errors import ConfigError
from pipeline.settings import DEFAULT_CONFIG_DIR
from tests.pipeline import enginekit as ek

LEVELS = ["low", "medium", "high", "critical"]


def load(tmp_path, data, levels=LEVELS):
    return load_assignments(ek.write_yaml(tmp_path / "assignments.yaml", data), levels)


def refused(tmp_path, data, levels=LEVELS):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, data, levels)
    return {i.key for i in info.value.issues}


BASE = {
    "leaders": {"L01": {"name": "甲", "chain": ["L10"]}, "L02": {"name": "乙", "chain": ["L01", "L10"]},
                "L10": {"name": "丙"}},
    "assign": [
        {"category": "fire", "leader": "L10"},
        {"building": 1, "leader": "L01"},
        {"entity": "person:P-0007", "leader": "L02"},
        {"entity": "person:P-0007", "leader": "L10"},   # later duplicate: the first match wins
    ],
    "default": "L10",
    "ack_timeout": {"medium": "24h", "high": "4h", "critical": "30m"},
}


def test_project_assignments_load():
    a = load_assignments(DEFAULT_CONFIG_DIR / "assignments.yaml", LEVELS)
    assert a.default == "L10"
    assert a.ack_timeout == {"medium": 86400, "high": 14400, "critical": 1800}
    assert a.leaders["L01"].chain == ("L05", "L10")
    assert a.assignee("person:P-0101", "1", "fire") == "L04"
    assert a.assignee("location:HD-1-0101", "1", "dispute") == "L01"
    assert a.assignee("location:HD-2-0101", "2", "fire") == "L02"
    assert a.assignee("location:X", None, "fire") == "L03"
    assert a.assignee("location:X", "9", "safety") == "L10"


def test_assignee_order_entity_building_category_default(tmp_path):
    a = load(tmp_path, BASE)
    assert a.assignee("person:P-0007", "1", "fire") == "L02"       # entity first
    assert a.assignee("person:P-0008", "1", "fire") == "L01"       # then building (int key read as "1")
    assert a.assignee("location:HD-2-0101", "2", "fire") == "L10"  # then category
    assert a.assignee("location:HD-2-0101", None, "safety") == "L10"  # then default
    assert a.leaders["L02"].chain == ("L01", "L10")
    assert a.leaders["L10"].chain == ()


def test_every_error_is_listed(tmp_path):
    keys = refused(tmp_path, {
        "leaders": {
            "L01": {"name": "甲", "chain": ["L99", "L01"]},
            "bad id!": {"name": "x"},
            "L03": {"chain": []},
            "L04": {"name": "丁", "phone": "123"},
        },
        "assign": [
            {"building": "1"},
            {"building": "1", "category": "fire", "leader": "L01"},
            {"entity": "P-0007", "leader": "L01"},
            {"entity": "person:P-1", "leader": "L77"},
            {"category": "", "leader": "L01"},
            "nope",
            {"color": "red", "building": "2", "leader": "L01"},
        ],
        "default": "L00",
        "ack_timeout": {"severe": "1h", "high": "4 hours"},
        "extra": True,
    })
    assert {
        "leaders.L01.chain[0]", "leaders.L01.chain[1]", "leaders.bad id!", "leaders.L03.name", "leaders.L04.phone",
        "assign[0].leader", "assign[1]", "assign[2].entity", "assign[3].leader", "assign[4].category", "assign[5]",
        "assign[6].color", "default", "ack_timeout.severe", "ack_timeout.high", "extra",
    } <= keys


def test_empty_leaders_refused(tmp_path):
    assert "leaders" in refused(tmp_path, {"leaders": {}, "default": "L1"})


def test_ack_timeout_levels_follow_the_rules_levels(tmp_path):
    data = {**BASE, "ack_timeout": {"watch": "1h"}}
    assert "ack_timeout.watch" in refused(tmp_path, data)
    assert load(tmp_path, data, ["low", "watch"]).ack_timeout == {"watch": 3600}


def test_config_refuses_assignments_whose_levels_the_rules_do_not_have(tmp_path):
    with pytest.raises(ConfigError) as info:
        ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"})], levels={"watch": 10}, alert_level="watch")
    assert any(i.key == "ack_timeout.medium" for i in info.value.issues)
