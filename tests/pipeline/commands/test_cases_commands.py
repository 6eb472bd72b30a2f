"""`riskwatch replay --db` keeps the cases; `cases`, `decisions` and `meeting brief` on the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.pipeline.cases.casekit import scenario_events, write_lines

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def db(engine, tmp_path) -> str:
    url = str(engine.url)
    events = write_lines(tmp_path / "events.jsonl", scenario_events())
    run("replay", str(events), "--db", url, "--until", "2024-11-25T00:00:00+08:00", "--json")
    return url


def test_decisions_add_prints_the_id_alone_on_the_first_line(db):
    first = run("decisions", "add", "--case", "hazard:HZ-A", "--text", "限期整改，分管副主任督办", "--owner", "L02",
                "--due", "2024-11-15", "--week", "2024-W46", "--db", db)
    second = run("decisions", "add", "--case", "dispute:MD-1", "--text", "再次调解", "--owner", "L01",
                 "--due", "2024-11-20", "--week", "2024-W47", "--db", db)
    one, two = (int(r.stdout.splitlines()[0]) for r in (first, second))
    assert first.stdout.splitlines()[0] == str(one) and two > one
    run("decisions", "done", str(two), "--note", "双方达成协议", "--db", db)
    listed = [json.loads(line) for line in run("decisions", "list", "--json", "--db", db).stdout.splitlines()]
    assert [(d["id"], d["state"]) for d in listed] == [(one, "overdue"), (two, "done")]
    assert [json.loads(x)["id"] for x in run("decisions", "list", "--state", "overdue", "--json",
                                              "--db", db).stdout.splitlines()] == [one]


def test_decision_refusals_exit_with_the_error_code(db):
    unknown = runner.invoke(app, ["decisions", "add", "--case", "hazard:NOPE", "--text", "x", "--owner", "L02",
                                  "--due", "2024-11-15", "--db", db])
    assert unknown.exit_code == 3 and "hazard:NOPE" in unknown.output
    bad_due = runner.invoke(app, ["decisions", "add", "--case", "hazard:HZ-A", "--text", "x", "--owner", "L02",
                                  "--due", "15.11.2024", "--db", db])
    assert bad_due.exit_code == 2 and "--due" in bad_due.output


def test_meeting_brief_json_is_the_core_brief_and_follows_case_actions(db, engine, config):
    from pipeline.cases.brief import meeting_brief

    run("cases", "reassign", "hazard:HZ-A", "--to", "L05", "--reason", "督办", "--db", db)
    run("cases", "note", "dispute:MD-1", "--text", "已约谈", "--kind", "measure", "--db", db)
    shown = json.loads(run("cases", "show", "dispute:MD-1", "--json", "--db", db).stdout)
    assert [(a["action"], a["note_kind"], a["text"]) for a in shown["actions"]] == [("note", "measure", "已约谈")]
    out = run("meeting", "brief", "--week", "2026-W50", "--db", db, "--json").stdout
    assert len(out.splitlines()) == 1
    brief = json.loads(out)
    with engine.connect() as conn:
        assert brief == meeting_brief(conn, config.area, config.assignments, "2026-W50")
    cases = {c["ref"]: c for c in brief["open_cases"]}
    assert cases["hazard:HZ-A"]["leader"] == "L05"
    listed = run("cases", "list", "--leader", "L05", "--json", "--db", db).stdout.splitlines()
    assert [json.loads(x)["ref"] for x in listed] == ["hazard:HZ-A"]


def test_meeting_brief_refuses_a_bad_week(db):
    result = runner.invoke(app, ["meeting", "brief", "--week", "W47", "--db", db, "--json"])
    assert result.exit_code == 2 and "--week" in result.output


def test_meeting_brief_without_json_writes_the_review_around_the_brief(db, tmp_path):
    import openpyxl

    out = tmp_path / "review"
    paths = run("meeting", "brief", "--week", "2024-W47", "--db", db, "--out", str(out)).stdout.split()
    assert sorted(p.rsplit(".", 1)[1] for p in paths) == ["pdf", "xlsx"]
    wb = openpyxl.load_workbook(out / "weekly-review-2024-W47.xlsx")
    late = [r[0] for r in wb["逾期未办结"].iter_rows(min_row=3, values_only=True)]
    assert "hazard:HZ-A" in late and "dispute:MD-2" in late and "hazard:HZ-B" not in late
    closed = {r[1]: r[-1] for r in wb["本周新增及办结"].iter_rows(min_row=3, values_only=True) if r[0] == "办结"}
    assert closed == {"dispute:MD-3": "已化解", "hazard:HZ-C": "已验收"}
