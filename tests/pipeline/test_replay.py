"""`riskwatch replay --json` (docs/contract.md §6): line order, keys, rounding, UTC times, line numbers, exit codes."""

import json
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.replay import replay
from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "replay_small.jsonl"
SMALL_RULES = DATA / "replay_small_rules.yaml"
DAY = DATA / "scenario_day.jsonl"
UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
KEYS = {
    "reject": ["type", "line", "event_id", "reason"],
    "alert": ["type", "entity", "level", "assignee", "rules", "at"],
    "entity": ["type", "entity", "score", "level", "contributions"],
    "summary": ["type", "events", "accepted", "duplicates", "rejected", "entities", "alerts", "now"],
}
CONTRIBUTION_KEYS = ["rule", "points", "value", "at", "events"]
runner = CliRunner()


def cli(*args):
    result = runner.invoke(app, ["replay", *map(str, args)])
    return result


def cli_json(*args):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def check_shape(recs):
    """docs/contract.md §6 order, keys, rounding and time format of a whole output."""
    order = {"reject": 0, "alert": 1, "entity": 2, "summary": 3}
    ranks = [order[r["type"]] for r in recs]
    assert ranks == sorted(ranks)
    assert recs[-1]["type"] == "summary" and ranks.count(3) == 1
    for r in recs:
        assert list(r) == KEYS[r["type"]]
        if r["type"] == "alert":
            assert UTC_Z.fullmatch(r["at"])
        if r["type"] == "entity":
            assert round(r["score"], 2) == r["score"]
            for c in r["contributions"]:
                assert list(c) == CONTRIBUTION_KEYS
                assert round(c["points"], 2) == c["points"] and round(c["value"], 2) == c["value"]
                assert UTC_Z.fullmatch(c["at"])
    scores = [r["score"] for r in recs if r["type"] == "entity"]
    assert scores == sorted(scores, reverse=True)
    s = recs[-1]
    assert s["now"] is None or UTC_Z.fullmatch(s["now"])
    assert s["accepted"] + s["duplicates"] + s["rejected"] == s["events"]
    assert s["rejected"] == ranks.count(0)
    assert s["entities"] == ranks.count(2)


def test_small_file_exact_output():
    recs = cli_json(SMALL, "--rules", SMALL_RULES, "--until", "2024-11-06T09:00:00+08:00")
    loc = 60 * 0.5 ** (24 / 24) + 60 * 0.5 ** (22 / 24)
    person = 10 * 0.5 ** (23 / 24)
    assert recs == [
        {"type": "reject", "line": 2, "event_id": None, "reason": "invalid_json"},
        {"type": "reject", "line": 4, "event_id": "e-4", "reason": "missing_field:occurred_at"},
        {"type": "reject", "line": 6, "event_id": None, "reason": "invalid_field:event_id"},
        {"type": "alert", "entity": "location:HD-1-0101", "level": "high", "assignee": "L01",
         "rules": ["hazard-found"], "at": "2024-11-05T01:00:00Z"},
        {"type": "alert", "entity": "person:P-0007", "level": "low", "assignee": "L04",
         "rules": ["dispute-threat"], "at": "2024-11-05T02:00:00Z"},
        {"type": "alert", "entity": "location:HD-1-0101", "level": "critical", "assignee": "L01",
         "rules": ["hazard-found"], "at": "2024-11-05T03:00:00Z"},
        {"type": "entity", "entity": "location:HD-1-0101", "score": round(loc, 2), "level": "high",
         "contributions": [
             {"rule": "hazard-found", "points": 60.0, "value": 30.0, "at": "2024-11-05T01:00:00Z", "events": ["e-1"]},
             {"rule": "hazard-found", "points": 60.0, "value": round(60 * 0.5 ** (22 / 24), 2),
              "at": "2024-11-05T03:00:00Z", "events": ["e-8"]},
         ]},
        {"type": "entity", "entity": "person:P-0007", "score": round(person, 2), "level": "low",
         "contributions": [
             {"rule": "dispute-threat", "points": 10.0, "value": round(person, 2), "at": "2024-11-05T02:00:00Z",
              "events": ["e-7"]},
         ]},
        {"type": "summary", "events": 7, "accepted": 3, "duplicates": 1, "rejected": 3, "entities": 2,
         "alerts": 2, "now": "2024-11-06T01:00:00Z"},
    ]
    check_shape(recs)


def test_stdout_is_only_json_lines_and_byte_identical_twice():
    a = cli(SMALL, "--rules", SMALL_RULES, "--json")
    b = cli(SMALL, "--rules", SMALL_RULES, "--json")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout
    assert a.stdout.endswith("\n")
    for line in a.stdout.splitlines():
        json.loads(line)


def test_without_until_now_is_the_last_event():
    recs = cli_json(SMALL, "--rules", SMALL_RULES)
    assert recs[-1]["now"] == "2024-11-05T03:00:00Z"
    check_shape(recs)


def test_until_earlier_than_the_last_event_changes_nothing():
    assert cli_json(SMALL, "--rules", SMALL_RULES, "--until", "2024-11-01T00:00:00Z") == cli_json(
        SMALL, "--rules", SMALL_RULES)


def test_day_scenario_with_project_config():
    recs = cli_json(DAY, "--until", "2024-11-12T00:00:00+08:00")
    check_shape(recs)
    rejects = [(r["line"], r["event_id"], r["reason"]) for r in ek.of_type(recs, "reject")]
    assert rejects == [
        (4, None, "invalid_json"),
        (5, "n-1", "naive_timestamp"),
        (11, None, "not_an_object"),
        (14, "r-1", "invalid_field:attributes.religion"),
        (17, "u-1", "unknown_kind"),
        (18, None, "missing_field:event_id"),
    ]
    s = recs[-1]
    assert (s["events"], s["accepted"], s["duplicates"], s["rejected"]) == (24, 17, 1, 6)
    assert s["now"] == "2024-11-11T16:00:00Z"
    entities = {r["entity"]: r for r in ek.of_type(recs, "entity")}
    # a petition never scores a person; P-0008 only has the dispute of line 1
    assert [c["events"] for c in entities["person:P-0008"]["contributions"]] == [["d-1"]]
    assert "person:P-0009" not in entities
    # the charging-then-smoke sequence alerts (alert: true) and the threat of violence too
    alerts = {(a["entity"], tuple(a["rules"])) for a in ek.of_type(recs, "alert")}
    assert ("location:HD-1-0807", ("ebike-charging-then-smoke",)) in {(e, r[:1]) for e, r in alerts}
    assert any(e == "person:P-0007" and "threat-of-violence" in r for e, r in alerts)
    # the overdue hazard HZ-1 (never rectified: h-2 rectifies HZ-9) fires at found + 3d and repeats daily
    overdue = [c for c in entities["location:HD-1-B1-pump"]["contributions"] if c["rule"] == "hazard-overdue"]
    assert [c["at"] for c in overdue] == [f"2024-11-{d:02d}T02:30:00Z" for d in range(8, 12)]
    # the same through the library: the CLI adds nothing of its own
    cfg = ek.project_config()
    lines = DAY.read_bytes().splitlines()
    assert recs == ek.records(cfg, lines, until=ek.parse_time_of({"occurred_at": "2024-11-12T00:00:00+08:00"})
                              - ek.T0_EPOCH)


def test_times_are_utc_with_z_and_fractions_kept(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=40, alert=True)])
    doc = ek.event("e", "hazard", "found", 0, loc="L")
    doc["occurred_at"] = "2024-11-05T09:00:00.5+08:00"
    recs = ek.records(cfg, [doc])
    assert ek.of_type(recs, "alert")[0]["at"] == "2024-11-05T01:00:00.500000Z"
    assert recs[-1]["now"] == "2024-11-05T01:00:00.500000Z"
    doc["occurred_at"] = "2024-11-04T20:00:00-05:00"
    recs = ek.records(cfg, [doc])
    assert ek.entity_line(recs, "location:L")["contributions"][0]["at"] == "2024-11-05T01:00:00Z"


def test_scores_and_values_are_rounded_to_two_decimals(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=10.0 / 3, half_life="7h")])
    recs = ek.records(cfg, [ek.event("e1", "hazard", "found", 0, loc="L"),
                            ek.event("e2", "hazard", "found", 1 * H, loc="L")], until=3 * H)
    line = ek.entity_line(recs, "location:L")
    exact = [10 / 3 * 0.5 ** (3 / 7), 10 / 3 * 0.5 ** (2 / 7)]
    assert line["score"] == round(sum(exact), 2)
    assert [c["value"] for c in line["contributions"]] == [round(x, 2) for x in exact]
    assert [c["points"] for c in line["contributions"]] == [3.33, 3.33]


def test_entities_sorted_by_score_descending_ties_by_ref(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=5)])
    events = [ek.event(f"e{i}", "hazard", "found", i, loc=loc) for i, loc in enumerate("BCABCAC")]
    recs = ek.records(cfg, events)
    assert [(r["entity"], r["score"]) for r in ek.of_type(recs, "entity")] == [
        ("location:C", 15.0), ("location:A", 10.0), ("location:B", 10.0)]


def test_line_numbers_count_blank_lines_but_events_do_not(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\n\n{\n   \n" + ek.jsonl([ek.event("a", "hazard", "found", 0, loc="L")])[0] + b"\r\n[]")
    recs = cli_json(path)
    assert [(r["line"], r["reason"]) for r in ek.of_type(recs, "reject")] == [(3, "invalid_json"), (6, "not_an_object")]
    assert recs[-1]["events"] == 3 and recs[-1]["accepted"] == 1


def test_unreadable_bytes_are_a_rejection_not_a_crash(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"event_id": "\xff\xfe"}\n' + b"\x00\x01\n" + b'"just a string"\n')
    recs = cli_json(path)
    assert [(r["line"], r["event_id"]) for r in ek.of_type(recs, "reject")] == [(1, None), (2, None), (3, None)]
    assert recs[-1]["accepted"] == 0


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert cli_json(path) == [{"type": "summary", "events": 0, "accepted": 0, "duplicates": 0, "rejected": 0,
                               "entities": 0, "alerts": 0, "now": None}]
    assert cli_json(path, "--until", "2024-11-05T00:00:00Z")[-1]["now"] == "2024-11-05T00:00:00Z"


def test_only_rejections_exit_0(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("nope\n{}\n")
    result = cli(path, "--json")
    assert result.exit_code == 0
    recs = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["reason"] for r in ek.of_type(recs, "reject")] == ["invalid_json", "missing_field:event_id"]


def test_human_report_exit_0():
    result = cli(SMALL, "--rules", SMALL_RULES)
    assert result.exit_code == 0
    assert "重点人员 P-0007" in result.stdout and "person:" not in result.stdout


@pytest.mark.parametrize("until", ["yesterday", "2024-11-06T01:00:00", "2024-13-01T00:00:00Z", ""])
def test_bad_until_exits_2(until):
    result = cli(SMALL, "--until", until, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--until" in result.stderr


def test_missing_file_exits_2(tmp_path):
    result = cli(tmp_path / "nope.jsonl", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    result = cli(tmp_path, "--json")  # a directory
    assert result.exit_code == 2


def test_bad_command_line_exits_2():
    assert cli("--json").exit_code == 2
    assert cli(SMALL, "--frobnicate").exit_code == 2


def test_refused_config_dir_exits_2(tmp_path):
    cfg = tmp_path / "cfg"
    ek.write_yaml(cfg / "assignments.yaml", {"leaders": {"L1": {"name": "x", "chain": ["L9"]}}, "default": "L2"})
    result = cli(SMALL, "--config", cfg, "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "leaders.L1.chain[0]" in result.stderr and "default" in result.stderr


def test_missing_rules_file_exits_2(tmp_path):
    result = cli(SMALL, "--rules", tmp_path / "nope.yaml", "--json")
    assert result.exit_code == 2 and result.stdout == ""


def test_config_dir_files_override_and_missing_ones_come_from_project(tmp_path):
    cfg = tmp_path / "cfg"
    ek.write_yaml(cfg / "assignments.yaml", {"leaders": {"X1": {"name": "值班"}}, "default": "X1",
                                            "ack_timeout": {"high": "1h"}})
    (cfg / "rules.yaml").write_text(SMALL_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    recs = cli_json(SMALL, "--config", cfg)
    assert {a["assignee"] for a in ek.of_type(recs, "alert")} == {"X1"}
    # area.yaml came from the project: building 1 is still 1.5
    assert ek.entity_line(recs, "location:HD-1-0101")["contributions"][0]["points"] == 60.0


def test_rules_option_overrides_the_config_dirs_rules(tmp_path):
    cfg = tmp_path / "cfg"
    ek.write_rules(cfg, [ek.rule("other", when={"kind": "hazard"}, score=1)])
    recs = cli_json(SMALL, "--config", cfg, "--rules", SMALL_RULES)
    assert {c["rule"] for r in ek.of_type(recs, "entity") for c in r["contributions"]} == {
        "hazard-found", "dispute-threat"}


def test_replay_alerts_counted_once_per_entity_and_upgrades_listed(tmp_path):
    cfg = ek.config(tmp_path, [ek.rule("m", when={"kind": "hazard"}, score=35)])
    recs = ek.records(cfg, [ek.event(f"e{i}", "hazard", "found", i * D, loc="L") for i in range(4)])
    assert [a["level"] for a in ek.of_type(recs, "alert")] == ["high", "critical"]
    assert recs[-1]["alerts"] == 1


# -- future_timestamp: one event from the future moves no clock ------------------------------------------


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("when", ["9999-12-31T23:59:59+08:00", "2099-01-01T00:00:00Z"])
def test_an_event_from_the_future_changes_nothing(where, when):
    cfg = ek.project_config()
    lines = DAY.read_bytes().splitlines()
    future = json.dumps(ek.event("from-the-future", "monitoring", "smoke_alarm", loc="HD-1-1203", building="1",
                                 occurred_at=when)).encode()
    at = {"first": 0, "middle": len(lines) // 2, "last": len(lines)}[where]
    plain = ek.records(cfg, lines)
    spiked = ek.records(cfg, [*lines[:at], future, *lines[at:]])
    rejects = ek.of_type(spiked, "reject")
    assert [r["reason"] for r in rejects if r["event_id"] == "from-the-future"] == ["future_timestamp"]
    assert ek.of_type(spiked, "alert") == ek.of_type(plain, "alert")
    assert ek.of_type(spiked, "entity") == ek.of_type(plain, "entity")
    assert ek.of_type(spiked, "summary")[0]["now"] == ek.of_type(plain, "summary")[0]["now"]


def test_replay_honours_the_configured_skew():
    cfg = ek.project_config()
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    doc = ek.event("soon", "monitoring", "smoke_alarm", loc="HD-1-1203", occurred_at=soon)
    assert replay(ek.jsonl([doc]), cfg, max_skew=300.0).rejections[0][1].reason == "future_timestamp"
    assert replay(ek.jsonl([doc]), cfg, max_skew=3600.0).accepted == 1
