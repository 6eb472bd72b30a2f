"""docs/contract.md §3 rule types and processing order, observed through `riskwatch replay --json`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.acceptance.kit import cli, event, write_events

HEAD = "version: 1\ndefaults: {half_life: 14d, levels: {medium: 1000, high: 2000, critical: 3000}, alert_level: high}\nrules:\n"
T0 = datetime.fromisoformat("2024-11-05T08:00:00+08:00")


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def z(minutes: float) -> str:
    """The UTC `Z` form of `at(minutes)`, as replay prints times."""
    return (T0 + timedelta(minutes=minutes - 480)).strftime("%Y-%m-%dT%H:%M:%SZ")


def firings(tmp: Path, rules: str, events: list[dict], *extra: str) -> list[tuple[str, str, list[str]]]:
    (tmp / "rules.yaml").write_text(HEAD + rules, encoding="utf-8")
    run = cli("replay", write_events(tmp / "e.jsonl", events), "--rules", tmp / "rules.yaml", "--json", *extra)
    assert run.code == 0, run.stderr
    return sorted((c["at"], c["rule"], c["events"]) for line in run.json_lines() if line["type"] == "entity"
                  for c in line["contributions"])


def visit(eid: str, minutes: float, checkpoint: str = "CP-1-LOBBY") -> dict:
    return event(eid, "patrol", "checkpoint_visit", at(minutes), location={"id": "HD-1-01-lobby", "building": "1",
                                                                          "checkpoint": checkpoint})


def smoke(eid: str, minutes: float, location: str = "HD-1-0501") -> dict:
    return event(eid, "monitoring", "smoke_alarm", at(minutes), "sensor-gw", location={"id": location, "building": "1"})


ABSENCE = """  - {id: gap, title: 巡查间隔, category: patrol, target: checkpoint, type: absence,
     start: {type: checkpoint_visit}, expect: {type: checkpoint_visit}, within: 2h, repeat_every: 1h, score: 5}
"""


def test_absence_fires_at_its_due_time_and_repeats_at_most_30_times(tmp_path: Path) -> None:
    got = firings(tmp_path, ABSENCE, [visit("v-1", 0)], "--until", at(3 * 24 * 60))
    assert [g[0] for g in got] == [z(120 + 60 * k) for k in range(31)]  # due + 30 repeats (max_repeats default)
    assert all(g[1] == "gap" for g in got)


def test_an_expect_at_the_due_time_cancels_it(tmp_path: Path) -> None:
    """Deadlines due strictly before an event fire before it; one due at the event's time is cancelled by it."""
    got = firings(tmp_path, ABSENCE, [visit("v-1", 0), visit("v-2", 120), visit("v-3", 241)])
    assert [g[0] for g in got] == [z(240)]


THRESHOLD = """  - {id: many, title: 多次报警, category: fire, target: location, type: threshold,
     when: {type: smoke_alarm}, count: 3, window: 1h, score: 10}
  - {id: spread, title: 多处报警, category: fire, target: building, type: threshold,
     when: {type: smoke_alarm}, count: 2, window: 1h, distinct: location.id, score: 10}
"""


def test_threshold_consumes_its_evidence(tmp_path: Path) -> None:
    events = [smoke(f"s-{m}", m) for m in (0, 10, 20, 30, 40, 50)]
    got = [g for g in firings(tmp_path, THRESHOLD, events) if g[1] == "many"]
    assert got == [(z(20), "many", ["s-0", "s-10", "s-20"]), (z(50), "many", ["s-30", "s-40", "s-50"])]


def test_threshold_counts_distinct_values(tmp_path: Path) -> None:
    events = [smoke("a-1", 0), smoke("a-2", 5), smoke("b-1", 10, "HD-1-0601"), smoke("c-1", 100, "HD-1-0701")]
    got = [g for g in firings(tmp_path, THRESHOLD, events) if g[1] == "spread"]
    assert [(g[0], g[2][-1]) for g in got] == [(z(10), "b-1")]


SEQUENCE = """  - {id: seq, title: 调解后升级, category: dispute, target: person, type: sequence,
     steps: [{type: mediation_held}, {type: escalated}], within: 1d, score: 10}
"""


def dispute(eid: str, type_: str, minutes: float) -> dict:
    return event(eid, "dispute", type_, at(minutes), "mediation", subjects=[{"type": "person", "id": "P-1", "role": "party"}],
                 attributes={"case_id": "MD-1"})


def test_sequence_fires_once_and_clears_partial_matches(tmp_path: Path) -> None:
    events = [dispute("m-1", "mediation_held", 0), dispute("m-2", "mediation_held", 10), dispute("e-1", "escalated", 20),
              dispute("e-2", "escalated", 30), dispute("m-3", "mediation_held", 40), dispute("e-3", "escalated", 40 + 25 * 60)]
    got = firings(tmp_path, SEQUENCE, events)
    assert [(g[0], g[2][-1]) for g in got] == [(z(20), "e-1")]


TARGETS = """  - {id: biz, title: 商户, category: c, target: business, roles: [operator], type: match,
     when: {type: warning_issued}, score: 1}
  - {id: who, title: 人员, category: c, target: person, type: match, when: {type: warning_issued}, score: 2}
  - {id: bld, title: 楼栋, category: c, target: building, type: match, when: {type: warning_issued}, score: 3}
  - {id: loc, title: 点位, category: c, target: location, type: match, when: {type: warning_issued}, score: 4}
  - {id: cp, title: 巡查点, category: c, target: checkpoint, type: match, when: {type: warning_issued}, score: 5}
  - {id: role, title: 角色, category: c, target: person, type: match, when: {type: warning_issued, subject.role: owner},
     score: 6}
"""


def test_targets_take_their_ids_from_the_event(tmp_path: Path) -> None:
    """§2: one entity per matching subject (roles filter), location.id / building / checkpoint; an event without
    the id for a target does not match that rule."""
    subjects = [{"type": "business", "id": "B-1", "role": "operator"}, {"type": "business", "id": "B-2", "role": "landlord"},
                {"type": "person", "id": "P-1", "role": "owner"}, {"type": "person", "id": "P-2", "role": "witness"}]
    events = [event("w-1", "enforcement", "warning_issued", at(0), subjects=subjects,
                    location={"id": "HD-9-0101", "building": "9", "checkpoint": "CP-X"}),
              event("w-2", "enforcement", "warning_issued", at(1))]
    (tmp_path / "rules.yaml").write_text(HEAD + TARGETS, encoding="utf-8")
    run = cli("replay", write_events(tmp_path / "e.jsonl", events), "--rules", tmp_path / "rules.yaml", "--json")
    got = sorted((e["entity"], c["rule"], c["events"][0]) for e in run.json_lines() if e["type"] == "entity"
                 for c in e["contributions"])
    assert got == [("building:9", "bld", "w-1"), ("business:B-1", "biz", "w-1"), ("checkpoint:CP-X", "cp", "w-1"),
                   ("location:HD-9-0101", "loc", "w-1"), ("person:P-1", "role", "w-1"), ("person:P-1", "who", "w-1"),
                   ("person:P-2", "who", "w-1")]


OPERATORS = {
    "eq": "{severity: {eq: 3}}", "scalar": "{severity: 3}", "list": "{severity: [2, 3]}", "ne": "{severity: {ne: 3}}",
    "in": "{source: {in: [patrol-app, x]}}", "gt": "{severity: {gt: 2}}", "gte": "{severity: {gte: 3}}",
    "lt": "{severity: {lt: 3}}", "lte": "{severity: {lte: 3}}", "contains": "{text: {contains: 电动车}}",
    "any": "{tags: {any: [a, z]}}", "all": "{tags: {all: [a, b]}}", "all-miss": "{tags: {all: [a, z]}}",
    "exists": "{attributes.unit_no: {exists: true}}", "absent": "{attributes.nothing: {exists: false}}",
    "not": "{severity: {not: {in: [1, 2]}}}", "floor": "{location.floor: {gte: 10}}", "attr": "{attributes.n: {lt: 5}}",
    "missing-attr": "{attributes.nothing: {lt: 5}}",
}


def test_condition_operators(tmp_path: Path) -> None:
    rules = "".join(f"  - {{id: op-{name}, title: 条件, category: c, target: location, type: match, when: {when}, score: 1}}\n"
                    for name, when in OPERATORS.items())
    e = event("o-1", "patrol", "issue_found", at(0), severity=3, tags=["a", "b"], text="楼道停放电动车",
              location={"id": "HD-1-1203", "building": "1", "floor": 12}, attributes={"unit_no": "1203", "n": 4})
    fired = {f[1].removeprefix("op-") for f in firings(tmp_path, rules, [e])}
    assert fired == set(OPERATORS) - {"ne", "lt", "all-miss", "missing-attr"}


def test_at_the_end_deadlines_due_at_the_clock_fire(tmp_path: Path) -> None:
    """§3: at the end of a replay every deadline due at or before the clock (--until) fires; ties in rules-file order."""
    two = ABSENCE + ABSENCE.replace("id: gap", "id: gap-b").replace("score: 5", "score: 7")
    (tmp_path / "rules.yaml").write_text(HEAD + two, encoding="utf-8")
    run = cli("replay", write_events(tmp_path / "e.jsonl", [visit("v-1", 0)]), "--rules", tmp_path / "rules.yaml",
              "--json", "--until", at(120))
    [entity] = [line for line in run.json_lines() if line["type"] == "entity"]
    assert [(c["rule"], c["at"]) for c in entity["contributions"]] == [("gap", z(120)), ("gap-b", z(120))]
    assert cli("replay", tmp_path / "e.jsonl", "--rules", tmp_path / "rules.yaml", "--json",
               "--until", at(119)).json_lines()[-1]["entities"] == 0
