"""Every code a producer or the system can write has a Chinese label (pipeline/labels.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from pipeline import audit, labels
from pipeline.alerting import actions
from pipeline.area import load_area
from pipeline.simulate.simulation import simulate
from pipeline.storage import purge
from pipeline.storage.models import ALERT_STATUSES

ROOT = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def month() -> list[dict]:
    return simulate(days=35, seed=7).events


def _missing(table, codes) -> set[str]:
    return {c for c in codes if c not in table}


def test_every_vocabulary_kind_and_type_has_a_label():
    vocab = yaml.safe_load((ROOT / "vocabulary.yaml").read_text(encoding="utf-8"))["kinds"]
    assert _missing(labels.EVENT_KINDS, vocab) == set()
    for kind, types in vocab.items():
        assert _missing(labels.EVENT_TYPES[kind], types) == set(), kind


def test_every_rule_category_and_target_has_a_label():
    rules = yaml.safe_load((ROOT / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    assert _missing(labels.CATEGORIES, {r["category"] for r in rules if "category" in r}) == set()
    assert _missing(labels.ENTITY_KINDS, {r["target"] for r in rules}) == set()
    assignments = yaml.safe_load((ROOT / "assignments.yaml").read_text(encoding="utf-8"))
    cats = {a["category"] for a in assignments["assign"] if isinstance(a, dict) and "category" in a}
    assert _missing(labels.CATEGORIES, cats) == set()


def test_what_the_simulator_sends_has_labels(month):
    assert _missing(labels.SOURCES, {e["source"] for e in month}) == set()
    tags = {t for e in month for t in e.get("tags", [])}
    assert _missing(labels.TAGS | labels.DISPUTE_TYPES, tags) == set()
    hazard = {e["attributes"]["category"] for e in month if e["kind"] == "hazard" and "category" in e.get("attributes", {})}
    assert "electrical" in hazard
    assert _missing(labels.HAZARD_CATEGORIES, hazard) == set()
    channels = {e["attributes"]["channel"] for e in month if "channel" in e.get("attributes", {})}
    assert _missing(labels.CHANNELS, channels) == set()
    assert _missing(labels.DISPUTE_TYPES, {"rent_arrears", "neighbour_noise"}) == set()
    devices = {e["attributes"]["device_id"].split("-")[0] for e in month if "device_id" in e.get("attributes", {})}
    assert _missing(labels.DEVICE_KINDS, devices) == set()


def test_states_and_actions_have_labels():
    assert _missing(labels.ALERT_STATES, ALERT_STATUSES) == set()
    assert _missing(labels.CASE_STATES, ("open", "in_progress", "referred", "rectified", "closed")) == set()
    written = {v for k, v in vars(audit).items() if k.isupper() and isinstance(v, str) and k != "AUDIT"}
    written |= {actions.AUDIT_CLOSE, purge.PURGE_ACTION, "page_login"}
    assert _missing(labels.AUDIT_ACTIONS, written) == set()
    assert _missing(labels.ALERT_ACTIONS, ("raised", "upgraded", "notified", "acknowledged", "escalated",
                                           "resolved", "closed")) == set()
    assert _missing(labels.NOTIFICATION_STATES, ("pending", "sent", "failed")) == set()


def test_levels_are_named_and_coloured_apart():
    assert [labels.level_label(level, colour=True) for level in labels.LEVEL_ORDER] == \
        ["重大（红）", "较大（橙）", "一般（黄）", "低（蓝）"]
    assert len(set(labels.LEVEL_COLOURS.values())) == 4


def test_one_word_per_code_across_tables():
    # Words other modules used to spell differently must not come back as values here.
    words = {w for table in labels.TABLES.values() for w in table.values()}
    assert not words & {"点位", "已确认收到", "预警升级", "极高", "评分"}


@pytest.mark.parametrize(("ref", "text"), [
    ("person:P-0101", "重点人员 P-0101"),
    ("business:B-0003", "经营主体 B-0003"),
    ("location:HD-2-09-corridor", "2号楼9层走廊"),
    ("location:HD-2-1203", "2号楼12层1203室"),
    ("location:HD-2-01-S02", "2号楼底商S02"),
    ("location:HD-1-01-exit-east", "1号楼首层东安全出口"),
    ("location:HD-1-B1-pump", "1号楼消防泵房"),
    ("location:HD-1-B1-garage", "1号楼地下车库"),
    ("location:somewhere", "地点 somewhere"),
    ("checkpoint:CP-1-F06", "1号楼6层走廊"),
    ("building:2", "2号楼"),
])
def test_entity_label(ref, text):
    assert labels.entity_label(ref, load_area()) == text


def test_scores_times_and_weeks():
    assert labels.score_text(65.86) == "65"
    assert labels.score_text(29.999) == "29"          # never shows a threshold (一般 ≥ 30) not reached
    assert labels.score_text(4.5) == "4.5"
    assert labels.score_text(3.0) == "3"
    assert labels.time_text(datetime(2024, 11, 4, 20, 5, tzinfo=UTC)) == "11月5日 04:05"
    assert labels.week_text(date(2024, 11, 4)) == "2024年第45周（11月4日—11月10日）"
    assert labels.week_text(date(2024, 12, 30)) == "2025年第1周（2024年12月30日—2025年1月5日）"
    assert labels.percent_text(1, 3) == "33.3%"
    assert labels.percent_text(0, 0) == "—"
