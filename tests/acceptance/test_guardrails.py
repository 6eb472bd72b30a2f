"""docs/contract.md §3 guardrails: protected attribute names (English, Chinese, disguised) are refused in rules
and in events; a person rule may not match petitions and a petition never raises a person's score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.kit import cli, event, sqlite_db, write_events

RULE = """
  - id: {rid}
    title: 规则
    category: dispute
    target: {target}
    type: match
    when: {when}
    score: 10
"""

PROTECTED = ["民族", "ethnicity", "Ethnic_Group", "ｒｅｌｉｇｉｏｎ", "宗教信仰", "political-affiliation", "政治面貌",
             "是否党员", "party.membership", "Sexual Orientation", "health\u200bstatus", "健康状况", "medical_history",
             "残疾等级", "Union_Membership", "工会会员", "race", "faith", "RELIGIOUS", "disabled"]
ALLOWED = ["channel", "case_id", "healthy_building", "raceway", "religion_building_no"]


def rules_file(tmp: Path, *rules: str) -> Path:
    path = tmp / "rules.yaml"
    path.write_text("version: 1\nrules:" + "".join(rules), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", PROTECTED)
def test_a_rule_on_a_protected_attribute_is_refused(tmp_path: Path, name: str) -> None:
    when = json.dumps({"kind": "dispute", f"attributes.{name}": "x"}, ensure_ascii=False)
    path = rules_file(tmp_path, RULE.format(rid="on-protected", target="person", when=when))
    run = cli("rules", "check", path)
    assert run.code == 2
    assert "on-protected" in run.stderr and name in run.stderr
    events = write_events(tmp_path / "e.jsonl", [event("e-1", "patrol", "checkpoint_visit", "2024-11-05T09:00:00+08:00")])
    refused = cli("replay", events, "--rules", path, "--json")
    assert refused.code == 2 and refused.stdout == ""


@pytest.mark.parametrize("name", ALLOWED)
def test_ordinary_attributes_are_allowed(tmp_path: Path, name: str) -> None:
    when = json.dumps({"kind": "dispute", f"attributes.{name}": "x"}, ensure_ascii=False)
    assert cli("rules", "check", rules_file(tmp_path, RULE.format(rid="fine", target="person", when=when))).code == 0


def test_every_error_is_listed_with_its_rule_and_key(tmp_path: Path) -> None:
    path = rules_file(
        tmp_path,
        RULE.format(rid="one", target="person", when='{kind: dispute, "attributes.民族": 汉}'),
        RULE.format(rid="two", target="location", when='{kind: monitoring, "attributes.religion": x}'),
        RULE.format(rid="three", target="person", when="{kind: {in: [dispute, petition]}}"),
        RULE.format(rid="four", target="person", when="{kind: {not: {eq: dispute}}}"),
    )
    run = cli("rules", "check", path)
    assert run.code == 2
    for rid, key in [("one", "民族"), ("two", "religion"), ("three", "kind"), ("four", "kind")]:
        assert any(rid in line and key in line for line in run.stderr.splitlines()), (rid, run.stderr)


@pytest.mark.parametrize("name", ["民族", "ethnicity", "Ｈｅａｌｔｈ", "宗教", "sexual_orientation", "union membership"])
def test_an_event_with_a_protected_attribute_is_rejected(tmp_path: Path, name: str) -> None:
    bad = event("e-2", "dispute", "reported", "2024-11-05T10:00:00+08:00", "mediation",
                attributes={"case_id": "MD-1", name: "x"})
    path = write_events(tmp_path / "e.jsonl", [event("e-1", "patrol", "checkpoint_visit", "2024-11-05T09:00:00+08:00"), bad])
    lines = cli("replay", path, "--json").json_lines()
    assert lines[0] == {"type": "reject", "line": 2, "event_id": "e-2", "reason": f"invalid_field:attributes.{name}"}
    assert lines[-1]["accepted"] == 1


def test_a_petition_never_raises_a_persons_score(tmp_path: Path) -> None:
    """A person rule matching on `type: received` alone (no kind) still never sees the petition."""
    rules = rules_file(tmp_path, RULE.format(rid="any-received", target="person", when="{type: [received, reported]}"))
    assert cli("rules", "check", rules).code == 0
    person = [{"type": "person", "id": "P-0300", "role": "party"}]
    path = write_events(tmp_path / "e.jsonl", [
        event("p-1", "petition", "received", "2024-11-05T09:00:00+08:00", "mediation", subjects=person),
        event("d-1", "dispute", "reported", "2024-11-05T10:00:00+08:00", "mediation", subjects=person,
              attributes={"case_id": "MD-1"}),
    ])
    entities = [line for line in cli("replay", path, "--rules", rules, "--json").json_lines() if line["type"] == "entity"]
    assert [(e["entity"], [c["events"] for c in e["contributions"]]) for e in entities] == [("person:P-0300", [["d-1"]])]


def test_a_broken_rules_file_lists_every_error_with_rule_and_key() -> None:
    """§3: refused as a whole, every error listed with the rule id and the offending key (bad_rules.yaml has 14)."""
    run = cli("rules", "check", Path(__file__).with_name("bad_rules.yaml"))
    assert run.code == 2
    problems = [line.strip() for line in run.stderr.splitlines() if "bad_rules.yaml:" in line]
    expected = ["rules.dup.id", "rules.typ.type", "rules.nowhen.when", "rules.seq1.steps", "rules.zero.score",
                "rules.dur.half_life", "rules.op.when.severity.like", "rules.roles-loc.roles", "rules.path.when.foo.bar",
                "rules.tgt.target", "rules.thr.count", "rules.kindx.when.kind", "rules.extra.colour"]
    for key in expected:
        assert any(f": {key}:" in p for p in problems), (key, problems)
    assert len(problems) == len(expected) + 1  # and the invalid id Bad_ID (named by its position)


def test_a_refused_file_never_replaces_the_rules_in_force(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    good = rules_file(tmp_path, RULE.format(rid="fine", target="person", when="{kind: dispute}"))
    in_force = good.read_text(encoding="utf-8")
    (config / "rules.yaml").write_text(in_force, encoding="utf-8")
    db = sqlite_db(tmp_path)
    bad = tmp_path / "new.yaml"
    bad.write_text(in_force.replace("{kind: dispute}", '{kind: dispute, "attributes.民族": 汉}'), encoding="utf-8")
    run = cli("rules", "apply", bad, "--yes", "--config", config, "--db", db)
    assert run.code == 2 and "民族" in run.stderr
    assert (config / "rules.yaml").read_text(encoding="utf-8") == in_force
