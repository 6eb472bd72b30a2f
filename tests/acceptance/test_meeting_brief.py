"""docs/contract.md §8: the meeting brief of the last week of a three-week scenario, stated by hand field by
field (open cases with leader, due, days overdue, score; new/closed; by_leader; the decisions rule), and the
decision commands, all through the command line."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.acceptance import meeting_scenario as ms
from tests.acceptance.kit import cli, event, sqlite_db, write_events


def decay(points: float, fired: str, as_of: str) -> float:
    age = (datetime.fromisoformat(as_of) - datetime.fromisoformat(fired)).total_seconds()
    return round(points * 0.5 ** (age / (14 * 86400)), 2)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("meeting")
    events, rules = ms.write(tmp)
    db = sqlite_db(tmp)
    run = cli("replay", events, "--rules", rules, "--db", db, "--until", "2024-11-26T00:00:00+08:00", "--json")
    assert run.code == 0, run.stderr
    ids = []
    for case, owner, due, week in ms.DECISIONS:
        run = cli("decisions", "add", "--case", case, "--text", "限期整改", "--owner", owner, "--due", due,
                  "--week", week, "--db", db)
        assert run.code == 0, run.stderr
        ids.append(int(run.stdout.splitlines()[0]))  # the id alone on the first line
    listed = cli("alerts", "list", "--json", "--db", db).json_lines()
    alerts = {a["entity"]: a["alert_id"] for a in listed}
    return {"db": db, "ids": ids, "alerts": alerts}


def brief(db: str, week: str) -> dict:
    run = cli("meeting", "brief", "--week", week, "--db", db, "--json")
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


def test_decisions_add_prints_the_id_alone(scenario: dict) -> None:
    assert scenario["ids"] == [1, 2, 3, 4, 5]


def test_last_week_brief_exactly(scenario: dict) -> None:
    as_of = "2024-11-24T16:00:00+00:00"
    p0600 = f"alert:{scenario['alerts']['person:P-0600']}"
    p0101 = f"alert:{scenario['alerts']['person:P-0101']}"
    s0600 = decay(60, "2024-11-08T01:00:00+00:00", as_of)
    s0101 = decay(60, "2024-11-14T01:00:00+00:00", as_of)
    s_hza = decay(30, "2024-11-05T02:10:00+00:00", as_of)  # building 2: x1.5

    def case(ref: str, kind: str, state: str, leader: str, building: str | None, place: str | None, opened: str,
             due: str | None, days: int, score: float | None, level: str | None, last: str) -> dict:
        return {"ref": ref, "kind": kind, "state": state, "leader": leader, "building": building, "place": place,
                "opened_at": opened, "due": due, "days_overdue": days, "score": score, "level": level,
                "last_action_at": last}

    expected_open = [
        # 16 days overdue each: the alert (raised + 4h for high) scores higher than the hazard
        case(p0600, "alert", "open", "L01", "1", None, "2024-11-08T01:00:00Z", "2024-11-08T05:00:00Z", 16, s0600,
             "low", "2024-11-08T01:00:00Z"),
        case("hazard:HZ-A", "hazard", "open", "L02", "2", "2号楼9层走廊", "2024-11-05T02:10:00Z", "2024-11-08T15:59:59Z",
             16, s_hza, "low", "2024-11-05T02:10:00Z"),
        case(p0101, "alert", "open", "L04", None, None, "2024-11-14T01:00:00Z", "2024-11-14T05:00:00Z", 10, s0101,
             "medium", "2024-11-14T01:00:00Z"),
        # the building's leader owns a dispute in building 2 (before the `category: dispute` assignment)
        case("dispute:MD-3", "dispute", "referred", "L02", "2", None, "2024-11-21T01:00:00Z", "2024-11-22T15:59:59Z", 2,
             None, None, "2024-11-21T07:00:00Z"),
        case("person:P-0101", "person", "open", "L04", None, None, "2024-11-14T01:00:00Z", None, 0, s0101, "medium",
             "2024-11-14T01:00:00Z"),
        # the dispute naming P-0600 was resolved, but the person's alert is still open: the person case is too
        case("person:P-0600", "person", "open", "L01", "1", None, "2024-11-08T01:00:00Z", None, 0, s0600, "low",
             "2024-11-15T01:00:00Z"),
        case("dispute:MD-2", "dispute", "open", "L04", None, None, "2024-11-14T01:00:00Z", None, 0, None, None,
             "2024-11-14T01:00:00Z"),
        case("hazard:HZ-C", "hazard", "open", "L10", None, None, "2024-11-07T01:00:00Z", None, 0, None, None,
             "2024-11-07T01:00:00Z"),
    ]
    got = brief(scenario["db"], "2024-W47")
    assert list(got) == ["week", "as_of", "open_cases", "new", "closed", "by_leader", "decisions"]
    assert got["week"] == "2024-W47" and got["as_of"] == "2024-11-24T16:00:00Z"
    assert got["open_cases"] == expected_open
    assert got["new"] == ["dispute:MD-3"]
    assert sorted(got["closed"]) == ["dispute:MD-1", "hazard:HZ-B"]
    assert got["by_leader"] == {"L01": {"open": 2, "overdue": 1}, "L02": {"open": 2, "overdue": 2},
                                "L04": {"open": 3, "overdue": 1}, "L10": {"open": 1, "overdue": 0}}
    one, _, three, _, five = scenario["ids"]
    assert sorted(got["decisions"], key=lambda d: d["id"]) == [
        {"id": one, "case": "hazard:HZ-A", "owner": "L02", "due": "2024-11-15", "state": "overdue", "done_at": None},
        {"id": three, "case": "dispute:MD-2", "owner": "L04", "due": "2024-12-31", "state": "open", "done_at": None},
        # due on Sunday, not done when Sunday 24:00 came: overdue at as_of
        {"id": five, "case": "hazard:HZ-A", "owner": "L02", "due": "2024-11-24", "state": "overdue", "done_at": None},
    ]


def test_middle_week_rectified_hazard_stays_open(scenario: dict) -> None:
    got = brief(scenario["db"], "2024-W46")
    assert got["as_of"] == "2024-11-17T16:00:00Z"
    states = {c["ref"]: c for c in got["open_cases"]}
    assert states["hazard:HZ-B"]["state"] == "rectified" and states["hazard:HZ-B"]["days_overdue"] == 0
    assert states["dispute:MD-1"]["state"] == "in_progress" and states["dispute:MD-1"]["leader"] == "L01"
    assert "dispute:MD-X" not in states and "dispute:MD-X" in got["closed"]
    assert sorted(got["new"]) == sorted(["dispute:MD-1", "dispute:MD-2", "person:P-0101",
                                         f"alert:{scenario['alerts']['person:P-0101']}"])
    days = [(c["days_overdue"], c["score"] if c["score"] is not None else -1) for c in got["open_cases"]]
    assert days == sorted(days, reverse=True)
    one, two, _, four, five = scenario["ids"]
    assert sorted(d["id"] for d in got["decisions"]) == [one, four, five]  # made in W46, or due and open


def test_first_week_brief_decisions_made_that_week(scenario: dict) -> None:
    got = brief(scenario["db"], "2024-W45")
    one, two, *_ = scenario["ids"]
    assert sorted(d["id"] for d in got["decisions"]) == [one, two]
    assert {c["ref"] for c in got["open_cases"]} >= {"hazard:HZ-A", "hazard:HZ-B", "hazard:HZ-C", "dispute:MD-X",
                                                      "person:P-0600"}
    assert got["closed"] == []


def test_decision_done_this_week(tmp_path: Path) -> None:
    """Done is dated by the wall clock, so this scenario lives in the current week."""
    now = datetime.now(UTC)
    year, week, _ = (now + timedelta(hours=8)).isocalendar()
    iso_week = f"{year}-W{week:02d}"
    at = (now - timedelta(minutes=5)).isoformat()
    db = sqlite_db(tmp_path)
    path = write_events(tmp_path / "e.jsonl", [event("h-1", "hazard", "found", at, attributes={"hazard_id": "HZ-9"},
                                                     location={"id": "HD-1-05-corridor", "building": "1"})])
    assert cli("replay", path, "--db", db).code == 0
    yesterday = (now + timedelta(hours=8)).date() - timedelta(days=1)
    added = cli("decisions", "add", "--case", "hazard:HZ-9", "--text", "清理", "--owner", "L01", "--due",
                yesterday.isoformat(), "--db", db)
    decision = int(added.stdout.splitlines()[0])
    assert cli("decisions", "done", str(decision), "--note", "已清理", "--db", db).code == 0
    got = brief(db, iso_week)
    [entry] = got["decisions"]
    assert entry["id"] == decision and entry["state"] == "done" and entry["due"] == yesterday.isoformat()
    assert entry["done_at"].endswith("Z")
    assert datetime.fromisoformat(entry["done_at"]) >= now - timedelta(minutes=1)
    assert date.fromisoformat(entry["due"]) == yesterday
    assert [c["leader"] for c in got["open_cases"] if c["ref"] == "hazard:HZ-9"] == ["L01"]


def test_unknown_case_or_bad_week_refused(scenario: dict) -> None:
    assert cli("meeting", "brief", "--week", "2024-47", "--db", scenario["db"], "--json").code == 2
    bad_due = cli("decisions", "add", "--case", "hazard:HZ-A", "--text", "x", "--owner", "L02", "--due", "soon",
                  "--db", scenario["db"])
    assert bad_due.code == 2


ASSIGNMENTS = """
leaders:
  L01: {name: 1号楼包保领导, chain: [L10]}
  L03: {name: 隐患专班负责人, chain: [L10]}
  L04: {name: 纠纷专班负责人, chain: [L10]}
  L05: {name: 重点人员专班负责人, chain: [L10]}
  L10: {name: 街道主要负责人}
assign:
  - {category: hazard, leader: L03}
  - {category: person, leader: L05}
  - {category: dispute, leader: L04}
  - {entity: "person:P-0101", leader: L04}
  - {building: "1", leader: L01}
default: L10
ack_timeout: {medium: 24h, high: 4h, critical: 30m}
"""


def test_owner_rule_person_then_building_then_case_kind_then_default(tmp_path: Path) -> None:
    """§8: the person's own assignment; else the building of the opening event's location; else the
    assignment whose category is the case kind; else default — whatever the order of assignments.yaml."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "assignments.yaml").write_text(ASSIGNMENTS, encoding="utf-8")
    events, rules = ms.write(tmp_path)
    db = sqlite_db(tmp_path)
    run = cli("replay", events, "--rules", rules, "--config", config, "--db", db, "--until", "2024-11-26T00:00:00+08:00")
    assert run.code == 0, run.stderr
    run = cli("meeting", "brief", "--week", "2024-W47", "--db", db, "--config", config, "--json")
    assert run.code == 0, run.stderr
    leaders = {c["ref"]: c["leader"] for c in json.loads(run.stdout)["open_cases"] if not c["ref"].startswith("alert:")}
    assert leaders == {
        "hazard:HZ-A": "L03",     # building 2 has no leader here: the hazard category's
        "hazard:HZ-C": "L03",     # no location: the hazard category's
        "dispute:MD-2": "L04",    # no location: the dispute category's
        "dispute:MD-3": "L04",    # building 2 has no leader: the dispute category's
        "person:P-0101": "L04",   # the person's own assignment, before `category: person`
        "person:P-0600": "L01",   # no own assignment; the building (1) of the dispute that raised the alert
    }


def test_acknowledge_reassign_and_close_this_week(tmp_path: Path) -> None:
    """Actions are dated by the wall clock: this scenario is the current week's."""
    now = datetime.now(UTC)
    year, week, _ = (now + timedelta(hours=8)).isocalendar()
    db = sqlite_db(tmp_path)
    events, rules = ms.write(tmp_path)
    at = (now - timedelta(hours=2)).isoformat()
    path = write_events(tmp_path / "now.jsonl", [
        ms.dispute("d-70", "reported", at, "MD-70", person="P-0700", tags=["threat_of_violence"]),
    ])
    assert cli("replay", path, "--rules", rules, "--db", db).code == 0
    [alert] = cli("alerts", "list", "--json", "--db", db).json_lines()
    assert cli("alerts", "ack", alert["alert_id"], "--db", db).code == 0
    assert cli("cases", "reassign", "dispute:MD-70", "--to", "L05", "--reason", "提级督办", "--db", db).code == 0
    refused = cli("cases", "close", "person:P-0700", "--reason", "已化解", "--db", db)
    assert refused.code == 5  # the dispute naming the person is still open
    got = brief(db, f"{year}-W{week:02d}")
    cases = {c["ref"]: c for c in got["open_cases"]}
    alert_case = cases[f"alert:{alert['alert_id']}"]
    assert (alert_case["state"], alert_case["due"], alert_case["days_overdue"]) == ("acknowledged", None, 0)
    assert cases["dispute:MD-70"]["leader"] == "L05"
    assert cases["person:P-0700"]["state"] == "open"
    assert sorted(got["new"]) == sorted(cases)


def test_rectified_hazard_is_not_overdue_until_reopened(tmp_path: Path) -> None:
    loc = {"id": "HD-1-05-corridor", "building": "1"}
    path = write_events(tmp_path / "e.jsonl", [
        ms.hazard("r-1", "found", "2024-11-04T09:00:00+08:00", "HZ-R", loc, due_at="2024-11-06T23:59:59+08:00"),
        ms.hazard("r-2", "rectified", "2024-11-12T09:00:00+08:00", "HZ-R", loc),
        ms.hazard("r-3", "reopened", "2024-11-19T09:00:00+08:00", "HZ-R", loc),
    ])
    db = sqlite_db(tmp_path)
    assert cli("replay", path, "--db", db, "--until", "2024-11-25T00:00:00+08:00").code == 0
    before = {c["ref"]: c for c in brief(db, "2024-W45")["open_cases"]}["hazard:HZ-R"]
    assert (before["state"], before["days_overdue"], before["due"]) == ("open", 4, "2024-11-06T15:59:59Z")
    rectified = {c["ref"]: c for c in brief(db, "2024-W46")["open_cases"]}["hazard:HZ-R"]
    assert (rectified["state"], rectified["days_overdue"]) == ("rectified", 0)
    got = brief(db, "2024-W47")
    reopened = {c["ref"]: c for c in got["open_cases"]}["hazard:HZ-R"]
    assert (reopened["state"], reopened["days_overdue"], reopened["leader"]) == ("open", 18, "L01")
    assert got["by_leader"]["L01"]["overdue"] >= 1


def test_the_api_gives_the_same_brief_and_decisions(tmp_path: Path) -> None:
    """§8 "and the same through the API": POST /decisions, GET /meeting/brief equal to the command line's."""
    with warnings.catch_warnings():
        # starlette's test client announces its move from httpx to httpx2 on import
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        from fastapi.testclient import TestClient

    from pipeline.api.app import create_app
    from pipeline.configset import load_config
    from pipeline.storage.db import make_engine

    events, rules = ms.write(tmp_path)
    db = sqlite_db(tmp_path)
    assert cli("replay", events, "--rules", rules, "--db", db, "--until", "2024-11-26T00:00:00+08:00").code == 0
    token = cli("tokens", "create", "analyst-1", "--role", "analyst", "--db", db).stdout.strip().splitlines()[-1]
    engine = make_engine(db)
    try:
        with TestClient(create_app(engine, load_config().assignments)) as client:
            auth = {"Authorization": f"Bearer {token}"}
            made = client.post("/decisions", headers=auth, json={"case": "hazard:HZ-A", "text": "限期整改", "owner": "L02",
                                                                 "due": "2024-11-22", "week": "2024-W46"})
            assert made.status_code == 201, made.text
            decision = made.json()["id"]
            assert isinstance(decision, int)
            over_http = client.get("/meeting/brief", params={"week": "2024-W47"}, headers=auth)
            assert over_http.status_code == 200, over_http.text
    finally:
        engine.dispose()
    from_cli = brief(db, "2024-W47")
    assert over_http.json() == from_cli
    assert [(d["id"], d["due"], d["state"]) for d in from_cli["decisions"]] == [(decision, "2024-11-22", "overdue")]


def test_overdue_by_hours_counts_as_overdue_with_zero_days(tmp_path: Path) -> None:
    """§8: overdue at any time after `due`; days_overdue counts whole days only."""
    loc = {"id": "HD-1-05-corridor", "building": "1"}
    path = write_events(tmp_path / "e.jsonl", [
        ms.hazard("r-1", "found", "2024-11-20T09:00:00+08:00", "HZ-H", loc, due_at="2024-11-24T20:00:00+08:00")])
    db = sqlite_db(tmp_path)
    assert cli("replay", path, "--db", db).code == 0
    got = brief(db, "2024-W47")
    assert [(c["ref"], c["days_overdue"]) for c in got["open_cases"]] == [("hazard:HZ-H", 0)]
    assert got["by_leader"] == {"L01": {"open": 1, "overdue": 1}}


def test_person_case_closed_by_hand_once_its_work_has_ended(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    year, week, _ = (now + timedelta(hours=8)).isocalendar()
    db = sqlite_db(tmp_path)
    _, rules = ms.write(tmp_path)
    path = write_events(tmp_path / "now.jsonl", [
        ms.dispute("d-80", "reported", (now - timedelta(hours=3)).isoformat(), "MD-80", person="P-0800",
                   tags=["threat_of_violence"]),
        ms.dispute("d-81", "resolved", (now - timedelta(hours=2)).isoformat(), "MD-80"),
    ])
    assert cli("replay", path, "--rules", rules, "--db", db).code == 0
    [alert] = cli("alerts", "list", "--json", "--db", db).json_lines()
    assert cli("alerts", "close", alert["alert_id"], "--reason", "已处置", "--db", db).code == 0
    got = brief(db, f"{year}-W{week:02d}")
    # its alert closed and its dispute resolved: the person's case waits to be closed by hand
    assert [c["ref"] for c in got["open_cases"]] == ["person:P-0800"]
    assert cli("cases", "close", "person:P-0800", "--reason", "矛盾已化解", "--db", db).code == 0
    got = brief(db, f"{year}-W{week:02d}")
    assert got["open_cases"] == [] and got["by_leader"] == {}
    assert sorted(got["closed"]) == sorted(["person:P-0800", "dispute:MD-80", f"alert:{alert['alert_id']}"])


WORKFLOW = [["replay", "{events}", "--rules", "{rules}"], ["alerts", "list", "--json"], ["alerts", "ack", "{alert}"],
            ["alerts", "close", "{alert}", "--reason", "已处置"], ["cases", "list", "--json"],
            ["cases", "note", "dispute:MD-90", "--text", "已约谈"],
            ["decisions", "add", "--case", "dispute:MD-90", "--text", "约谈", "--owner", "L04", "--due", "2024-11-30"],
            ["decisions", "done", "1", "--note", "已落实"], ["decisions", "list", "--json"],
            ["meeting", "brief", "--week", "2024-W47", "--json"], ["export", "annual", "--year", "2024", "--json"]]


def test_every_workflow_command_takes_config(tmp_path: Path) -> None:
    """§5: `--config DIR` (every command) — a scenario run with its own config directory passes it throughout."""
    config = tmp_path / "config"
    config.mkdir()
    _, rules = ms.write(tmp_path)
    events = write_events(tmp_path / "e.jsonl", [ms.dispute("d-90", "reported", "2024-11-20T09:00:00+08:00", "MD-90",
                                                            person="P-0900", tags=["threat_of_violence"])])
    db = sqlite_db(tmp_path)
    alert = ""
    for argv in WORKFLOW:
        args = [a.format(events=events, rules=rules, alert=alert) for a in argv]
        run = cli(*args, "--config", config, "--db", db)
        assert run.code == 0, (args, run.stdout, run.stderr)
        if argv[:2] == ["alerts", "list"]:
            alert = run.json_lines()[0]["alert_id"]
    assert cli("decisions", "done", "1", "--note", "x", "--config", tmp_path / "missing", "--db", db).code == 2


PLACES = {"HD-1-B1-ebike": "1号楼地下车库及电动车棚", "HD-1-01-lobby": "1号楼大堂", "HD-1-B1-pump": "1号楼消防泵房",
          "HD-2-09-corridor": "2号楼9层走廊", "HD-1-1203": "1号楼12层1203室", "HD-1-99-zzz": None, "南门外": None}


def test_place_is_the_name_from_area_yaml_or_null(tmp_path: Path) -> None:
    events = [ms.hazard(f"p-{i}", "found", "2024-11-05T09:00:00+08:00", f"HZ-P{i}",
                        {"id": loc, "building": "2" if loc.startswith("HD-2") else "1"})
              for i, loc in enumerate(PLACES)]
    db = sqlite_db(tmp_path)
    assert cli("replay", write_events(tmp_path / "e.jsonl", events), "--db", db).code == 0
    places = {c["ref"]: c["place"] for c in brief(db, "2024-W45")["open_cases"]}
    assert places == {f"hazard:HZ-P{i}": name for i, name in enumerate(PLACES.values())}


def test_decisions_add_as_a_separate_process(scenario: dict) -> None:
    """The real stdout of the installed command: the id alone on the first line, nothing before it."""
    from tests.acceptance.kit import cli_process

    run = cli_process("decisions", "add", "--case", "hazard:HZ-C", "--text", "复查", "--owner", "L10", "--due", "2025-01-31",
                      "--week", "2024-W50", "--db", scenario["db"])
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines()[0] == str(max(scenario["ids"]) + 1)
