"""docs/contract.md §1 (event contract and reason codes), §4 (scoring) and §6 (`riskwatch replay --json`):
the exact lines another system reads, checked through the command line only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.kit import ROOT, cli, event, write_events

RULES = """
version: 1
defaults:
  half_life: 14d
  levels: {medium: 30, high: 60, critical: 90}
  alert_level: high
rules:
  - id: threat
    title: 暴力威胁
    category: dispute
    target: person
    roles: [party]
    type: match
    when: {kind: dispute, tags: {any: [threat_of_violence]}}
    score: 60
  - id: smoke
    title: 烟感报警
    category: fire
    target: location
    type: match
    when: {kind: monitoring, type: smoke_alarm}
    score: 20
    half_life: 7d
"""

T0 = "2024-11-05T09:30:00+08:00"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


def threat(event_id: str, at: str, person: str = "P-0007") -> dict:
    return event(event_id, "dispute", "reported", at, "mediation", tags=["threat_of_violence"],
                 subjects=[{"type": "person", "id": person, "role": "party"}], attributes={"case_id": f"MD-{event_id}"})


def smoke(event_id: str, at: str, location: str = "HD-1-1203", building: str = "1") -> dict:
    return event(event_id, "monitoring", "smoke_alarm", at, "sensor-gw", location={"id": location, "building": building})


def test_line_order_keys_and_rounding(tmp_path: Path, rules: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [
        threat("e-1", T0),
        "{broken",
        smoke("e-2", "2024-11-06T09:30:00+08:00"),
        threat("e-1", T0),  # a duplicate: counted, never scored twice
        event("e-3", "patrol", "checkpoint_visit", "2024-11-12T09:30:00+08:00"),
    ])
    run = cli("replay", path, "--rules", rules, "--json")
    assert run.code == 0, run.stderr
    lines = run.json_lines()
    assert [line["type"] for line in lines] == ["reject", "alert", "entity", "entity", "summary"]
    reject, alert, first, second, summary = lines
    assert reject == {"type": "reject", "line": 2, "event_id": None, "reason": "invalid_json"}
    assert alert == {"type": "alert", "entity": "person:P-0007", "level": "high", "assignee": "L04",
                     "rules": ["threat"], "at": "2024-11-05T01:30:00Z"}
    assert set(alert) == {"type", "entity", "level", "assignee", "rules", "at"}
    # now = 2024-11-12T01:30Z: the threat is 7 days old (half of 14d), the smoke 6 days (of 7d), x1.5 for building 1
    threat_value = round(60 * 0.5 ** 0.5, 2)
    smoke_value = round(20 * 1.5 * 0.5 ** (6 / 7), 2)
    assert first == {"type": "entity", "entity": "person:P-0007", "score": threat_value, "level": "medium",
                     "contributions": [{"rule": "threat", "points": 60.0, "value": threat_value,
                                        "at": "2024-11-05T01:30:00Z", "events": ["e-1"]}]}
    assert second == {"type": "entity", "entity": "location:HD-1-1203", "score": smoke_value, "level": "low",
                      "contributions": [{"rule": "smoke", "points": 30.0, "value": smoke_value,
                                         "at": "2024-11-06T01:30:00Z", "events": ["e-2"]}]}
    assert summary == {"type": "summary", "events": 5, "accepted": 3, "duplicates": 1, "rejected": 1, "entities": 2,
                       "alerts": 1, "now": "2024-11-12T01:30:00Z"}


def test_alert_names_the_assignee_of_the_person(tmp_path: Path, rules: Path) -> None:
    """config/assignments.yaml: person:P-0101 -> L04 (the entity itself comes first)."""
    run = cli("replay", write_events(tmp_path / "e.jsonl", [threat("e-1", T0, "P-0101")]), "--rules", rules, "--json")
    alerts = [line for line in run.json_lines() if line["type"] == "alert"]
    assert [(a["entity"], a["assignee"], a["level"]) for a in alerts] == [("person:P-0101", "L04", "high")]


def test_entities_sorted_by_score_descending(tmp_path: Path, rules: Path) -> None:
    events = [smoke(f"s-{i}", f"2024-11-05T0{i}:00:00+08:00", location=f"HD-2-0{i}01", building="2") for i in range(1, 4)]
    events += [smoke("s-9", "2024-11-05T09:00:00+08:00", location="HD-2-0301", building="2")]
    run = cli("replay", write_events(tmp_path / "e.jsonl", events), "--rules", rules, "--json")
    entities = [line for line in run.json_lines() if line["type"] == "entity"]
    scores = [e["score"] for e in entities]
    assert scores == sorted(scores, reverse=True)
    assert entities[0]["entity"] == "location:HD-2-0301"


BIG = "x" * (64 * 1024)
REASONS = [
    ("[1, 2]", None, "not_an_object"),
    ("not json at all", None, "invalid_json"),
    (json.dumps({**event("big", "patrol", "checkpoint_visit", T0), "text": BIG}), "big", "too_large"),
    (json.dumps({k: v for k, v in event("m-1", "patrol", "checkpoint_visit", T0).items() if k != "occurred_at"}),
     "m-1", "missing_field:occurred_at"),
    (json.dumps({k: v for k, v in event("m-2", "patrol", "checkpoint_visit", T0).items() if k != "source"}),
     "m-2", "missing_field:source"),
    (json.dumps({k: v for k, v in event("x", "patrol", "checkpoint_visit", T0).items() if k != "event_id"}),
     None, "missing_field:event_id"),
    (json.dumps(event("bad id!", "patrol", "checkpoint_visit", T0)), None, "invalid_field:event_id"),
    (json.dumps(event("u-1", "weather", "rain", T0)), "u-1", "unknown_kind"),
    (json.dumps(event("u-2", "patrol", "smoke_alarm", T0)), "u-2", "unknown_type"),
    (json.dumps(event("n-1", "patrol", "checkpoint_visit", "2024-11-05T09:30:00")), "n-1", "naive_timestamp"),
    (json.dumps(event("f-1", "patrol", "checkpoint_visit", "9999-12-31T23:59:59+08:00")), "f-1", "future_timestamp"),
    (json.dumps({**event("x-1", "patrol", "checkpoint_visit", T0), "priority": 1}), "x-1", "unknown_field:priority"),
    (json.dumps(event("v-1", "patrol", "checkpoint_visit", T0, severity=9)), "v-1", "invalid_field:severity"),
    (json.dumps(event("v-2", "patrol", "checkpoint_visit", T0, severity="3")), "v-2", "invalid_field:severity"),
    (json.dumps(event("v-3", "patrol", "checkpoint_visit", T0, tags=[f"t{i}" for i in range(21)])), "v-3",
     "invalid_field:tags"),
    (json.dumps(event("v-4", "patrol", "checkpoint_visit", T0, location={"id": "HD-1", "floor": "3"})), "v-4",
     "invalid_field:location.floor"),
    (json.dumps(event("v-5", "patrol", "checkpoint_visit", T0, subjects=[{"type": "person", "id": "张三", "role": "party"}])),
     "v-5", "invalid_field:subjects"),
    (json.dumps(event("v-6", "patrol", "checkpoint_visit", T0, text="x" * 4001)), "v-6", "invalid_field:text"),
    (json.dumps(event("v-7", "patrol", "checkpoint_visit", T0, source="")), "v-7", "invalid_field:source"),
]


@pytest.mark.parametrize(("line", "event_id", "reason"), REASONS, ids=[r[2] + f"-{i}" for i, r in enumerate(REASONS)])
def test_reason_codes(tmp_path: Path, line: str, event_id: str | None, reason: str) -> None:
    path = write_events(tmp_path / "e.jsonl", [json.dumps(event("ok", "patrol", "checkpoint_visit", T0)), line])
    run = cli("replay", path, "--json")
    assert run.code == 0, run.stderr
    rejects = [r for r in run.json_lines() if r["type"] == "reject"]
    assert len(rejects) == 1, rejects
    got = rejects[0]
    assert got["line"] == 2
    # an oversized message is not parsed, so its id "cannot be read" (the product's reading): null
    assert got["event_id"] == (None if reason == "too_large" else event_id)
    if reason == "invalid_field:subjects":
        assert got["reason"].startswith("invalid_field:subjects"), got
    else:
        assert got["reason"] == reason


def test_future_event_moves_no_clock(tmp_path: Path, rules: Path) -> None:
    """One event dated 9999 is rejected future_timestamp, and `now` stays the greatest accepted occurred_at."""
    path = write_events(tmp_path / "e.jsonl", [
        threat("e-1", T0),
        threat("e-9", "9999-01-01T00:00:00+08:00", "P-0008"),
        threat("e-2", "2024-11-05T10:30:00+08:00", "P-0009"),
    ])
    lines = cli("replay", path, "--rules", rules, "--json").json_lines()
    assert lines[0] == {"type": "reject", "line": 2, "event_id": "e-9", "reason": "future_timestamp"}
    summary = lines[-1]
    assert summary["now"] == "2024-11-05T02:30:00Z"
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    entities = {e["entity"]: e for e in lines if e["type"] == "entity"}
    assert set(entities) == {"person:P-0007", "person:P-0009"}
    assert entities["person:P-0007"]["score"] == round(60 * 0.5 ** (1 / (14 * 24)), 2)


def test_until_is_the_clock_at_the_end(tmp_path: Path, rules: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [threat("e-1", T0)])
    lines = cli("replay", path, "--rules", rules, "--json", "--until", "2024-11-19T09:30:00+08:00").json_lines()
    assert lines[-1]["now"] == "2024-11-19T01:30:00Z"
    assert [e["score"] for e in lines if e["type"] == "entity"] == [30.0]  # 14 days: one half-life


def test_bad_command_line_and_refused_rules_exit_2(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [event("e-1", "patrol", "checkpoint_visit", T0)])
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - {id: x, target: person, type: match, score: -1}\n", encoding="utf-8")
    assert cli("replay", path, "--rules", bad, "--json").code == 2
    assert cli("replay", path, "--until", "tomorrow", "--json").code == 2


def test_criticality_own_value_then_building_then_one(tmp_path: Path, rules: Path) -> None:
    """§4: a location's own multiplier wins; else its building's (1.5 for building 1 in config/area.yaml); else 1.0."""
    config = tmp_path / "config"
    config.mkdir()
    area = (ROOT / "config" / "area.yaml").read_text(encoding="utf-8")
    assert '  "building:1": 1.5\n' in area
    (config / "area.yaml").write_text(area.replace('  "building:1": 1.5\n', '  "building:1": 1.5\n  "location:HD-1-0501": 2.0\n'),
                                      encoding="utf-8")
    path = write_events(tmp_path / "e.jsonl", [smoke("a", T0, "HD-1-0501"), smoke("b", T0, "HD-1-0601"),
                                               smoke("c", T0, "HD-9-0101", building="9")])
    lines = cli("replay", path, "--rules", rules, "--config", config, "--json").json_lines()
    points = {e["entity"]: e["contributions"][0]["points"] for e in lines if e["type"] == "entity"}
    assert points == {"location:HD-1-0501": 40.0, "location:HD-1-0601": 30.0, "location:HD-9-0101": 20.0}


def test_one_open_alert_per_entity_upgraded_not_repeated(tmp_path: Path) -> None:
    """§5: a rise in level upgrades the open alert (a second alert line, same entity); firings at the same
    level attach to it and print nothing."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("score: 60", "score: 35"), encoding="utf-8")
    path = write_events(tmp_path / "e.jsonl", [threat(f"e-{i}", f"2024-11-05T0{i}:00:00+08:00") for i in range(1, 6)])
    lines = cli("replay", path, "--rules", rules, "--json").json_lines()
    alerts = [(a["level"], a["at"]) for a in lines if a["type"] == "alert"]
    # 35, 70 (high: raised), 105 (critical: upgraded), 140 and 175 (critical: attached)
    assert alerts == [("high", "2024-11-04T18:00:00Z"), ("critical", "2024-11-04T19:00:00Z")]
    assert lines[-1]["alerts"] == 1  # alerts raised (docs/semantics.md: upgrades are lines, not new alerts)


def sized(event_id: str, size: int) -> str:
    """A valid event of exactly `size` bytes (attributes padded)."""
    doc = {**event(event_id, "patrol", "checkpoint_visit", T0), "attributes": {f"k{i}": "" for i in range(20)}}
    missing = size - len(json.dumps(doc).encode())
    for i in range(20):
        doc["attributes"][f"k{i}"] = "y" * (missing // 20 + (1 if i < missing % 20 else 0))
    line = json.dumps(doc)
    assert len(line.encode()) == size
    return line


def test_64_kib_is_the_largest_message(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [sized("a", 64 * 1024), sized("b", 64 * 1024 + 1)])
    lines = cli("replay", path, "--json").json_lines()
    assert [(r["line"], r["reason"]) for r in lines if r["type"] == "reject"] == [(2, "too_large")]
    assert lines[-1]["accepted"] == 1


def test_a_late_event_scores_at_its_own_time(tmp_path: Path, rules: Path) -> None:
    """File order, clock = greatest occurred_at so far: a late event's contribution is dated by its occurred_at
    and decays from there; it does not move the clock back."""
    path = write_events(tmp_path / "e.jsonl", [smoke("a", "2024-11-12T09:30:00+08:00", "HD-1-0501"),
                                                smoke("late", T0, "HD-1-0601")])
    lines = cli("replay", path, "--rules", rules, "--json").json_lines()
    late = next(e for e in lines if e["type"] == "entity" and e["entity"] == "location:HD-1-0601")
    assert late["contributions"] == [{"rule": "smoke", "points": 30.0, "value": 15.0, "at": "2024-11-05T01:30:00Z",
                                      "events": ["late"]}]
    assert lines[-1]["now"] == "2024-11-12T01:30:00Z"
