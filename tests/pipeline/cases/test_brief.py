"""`meeting_brief` (docs/contract.md §8) on a three-week scenario: a hazard never rectified, a dispute still
处理中 from an earlier week, an alert unacknowledged for weeks, person cases, decisions, closed cases absent;
and the brief of an earlier week is what was true then."""

from __future__ import annotations

import pytest

from pipeline.cases.brief import meeting_brief
from pipeline.storage.views import entity_scores_at
from tests.pipeline.cases.casekit import UTC, at, meet


@pytest.fixture
def meeting(scenario, engine, config):
    """Decisions of the W45-W48 meetings, a 转办 and a note, on top of the scenario."""
    return meet(engine, config)


def _brief(engine, config, week):
    with engine.connect() as conn:
        return meeting_brief(conn, config.area, config.assignments, week)


def _z(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_brief_of_the_last_week(meeting, scenario, engine, config):
    brief = _brief(engine, config, "2024-W47")
    as_of = at(25, 0)
    assert list(brief) == ["week", "as_of", "open_cases", "new", "closed", "by_leader", "decisions"]
    assert brief["week"] == "2024-W47" and brief["as_of"] == "2024-11-24T16:00:00Z" == _z(as_of)

    person_alert, place_alert = scenario["person:P-0201"], scenario["location:HD-2-09-corridor"]
    cases = {c["ref"]: c for c in brief["open_cases"]}
    # Closed cases are absent: HZ-C/HZ-D verified, MD-3/MD-4 resolved, P-0301's alert and file closed by hand.
    assert set(cases) == {person_alert, place_alert, "hazard:HZ-A", "hazard:HZ-B", "dispute:MD-1", "dispute:MD-2",
                          "person:P-0201"}
    with engine.connect() as conn:
        scores = entity_scores_at(conn, as_of)

    hz = cases["hazard:HZ-A"]
    assert hz == {"ref": "hazard:HZ-A", "kind": "hazard", "state": "open", "leader": "L05", "building": "2",
                  "place": "2号楼9层走廊", "opened_at": "2024-11-05T02:10:00Z", "due": "2024-11-08T16:00:00Z",
                  "days_overdue": 16, "score": scores["location:HD-2-09-corridor"].score,
                  "level": scores["location:HD-2-09-corridor"].level, "last_action_at": "2024-11-20T02:00:00Z"}
    assert hz["level"] == "critical"   # the overdue hazard kept counting all along
    alert = cases[person_alert]
    assert (alert["state"], alert["leader"], alert["opened_at"], alert["due"], alert["days_overdue"]) == (
        "open", "L01", "2024-11-06T01:00:00Z", "2024-11-06T05:00:00Z", 18)   # high: 4h to acknowledge
    assert (alert["score"], alert["level"]) == (scores["person:P-0201"].score, scores["person:P-0201"].level)
    md1 = cases["dispute:MD-1"]
    assert (md1["state"], md1["leader"], md1["place"], md1["due"], md1["days_overdue"], md1["score"], md1["level"],
            md1["last_action_at"]) == ("in_progress", "L01", "1号楼15层1507室", None, 0, None, None,
                                       "2024-11-21T02:00:00Z")
    md2 = cases["dispute:MD-2"]
    assert (md2["leader"], md2["building"], md2["place"], md2["due"], md2["days_overdue"]) == (
        "L04", None, None, "2024-11-20T16:00:00Z", 4)
    person = cases["person:P-0201"]
    assert (person["kind"], person["state"], person["leader"], person["due"], person["days_overdue"]) == (
        "person", "open", "L01", None, 0)
    hzb = cases["hazard:HZ-B"]
    assert (hzb["state"], hzb["days_overdue"], hzb["leader"]) == ("rectified", 0, "L01")

    order = [(-c["days_overdue"], -(c["score"] if c["score"] is not None else -1)) for c in brief["open_cases"]]
    assert order == sorted(order)
    assert [c["ref"] for c in brief["open_cases"][:2]] == [person_alert, "hazard:HZ-A"]

    assert brief["new"] == ["dispute:MD-2"]
    assert brief["closed"] == ["dispute:MD-3", "hazard:HZ-C"]
    assert brief["by_leader"] == {"L01": {"open": 4, "overdue": 1}, "L02": {"open": 1, "overdue": 1},
                                  "L04": {"open": 1, "overdue": 1}, "L05": {"open": 1, "overdue": 1}}
    ids = meeting
    assert brief["decisions"] == [
        {"id": ids["overdue"], "case": "hazard:HZ-A", "owner": "L02", "due": "2024-11-15", "state": "overdue",
         "done_at": None},
        {"id": ids["done_w47"], "case": "dispute:MD-1", "owner": "L01", "due": "2024-11-20", "state": "done",
         "done_at": "2024-11-19T02:00:00Z"},
        {"id": ids["made_w47"], "case": "dispute:MD-2", "owner": "L04", "due": "2024-12-01", "state": "open",
         "done_at": None},
    ]


def test_brief_of_an_earlier_week_is_what_was_true_then(meeting, scenario, engine, config):
    brief = _brief(engine, config, "2024-W46")
    assert brief["as_of"] == "2024-11-17T16:00:00Z"
    cases = {c["ref"]: c for c in brief["open_cases"]}
    assert cases["hazard:HZ-A"]["leader"] == "L02"                        # the 转办 came later
    assert cases["hazard:HZ-A"]["days_overdue"] == 9
    assert cases["dispute:MD-1"]["last_action_at"] == "2024-11-08T07:00:00Z"   # the note came later
    assert "dispute:MD-2" not in cases                                     # reported later
    assert cases["hazard:HZ-C"]["state"] == "rectified"                    # verified later
    assert cases["dispute:MD-3"]["state"] == "referred"
    closed_301 = scenario["person:P-0301"]
    assert closed_301 not in cases and "person:P-0301" not in cases
    assert brief["closed"] == sorted([closed_301, "dispute:MD-4", "person:P-0301"])
    assert {"hazard:HZ-C", "dispute:MD-3", "dispute:MD-4", closed_301, "person:P-0301"} <= set(brief["new"])
    ids = meeting
    assert [(d["id"], d["state"], d["done_at"]) for d in brief["decisions"]] == [
        (ids["overdue"], "overdue", None), (ids["done_w47"], "open", None), (ids["not_due"], "open", None)]


def test_a_week_without_anything_is_empty(engine, config):
    brief = _brief(engine, config, "2024-W30")
    assert brief == {"week": "2024-W30", "as_of": "2024-07-28T16:00:00Z", "open_cases": [], "new": [], "closed": [],
                     "by_leader": {}, "decisions": []}


def test_a_bad_week_is_a_usage_error(engine, config):
    from pipeline.errors import UsageError

    with pytest.raises(UsageError, match="--week"):
        _brief(engine, config, "2024-W60")


def test_a_decision_recorded_today_counts_in_the_old_weeks_it_is_due_in(scenario, engine, config):
    from datetime import UTC as _UTC
    from datetime import date, datetime

    from pipeline.alerting.access import Principal
    from pipeline.cases.decisions import add_decision, mark_done
    from pipeline.exports.period import week_of

    admin = Principal("cli:test", "admin")
    d = add_decision(engine, config.assignments, config.area.tz, "hazard:HZ-A", "限期整改", "L02", date(2024, 11, 20),
                     admin)
    assert d.week == week_of(datetime.now(_UTC).astimezone(config.area.tz).date(), config.area.tz).label
    old = _brief(engine, config, "2024-W47")["decisions"]
    assert old == [{"id": d.id, "case": "hazard:HZ-A", "owner": "L02", "due": "2024-11-20", "state": "overdue",
                    "done_at": None}]
    assert _brief(engine, config, "2024-W46")["decisions"] == []          # not yet due then
    done = mark_done(engine, d.id, "已整改", admin)
    assert _brief(engine, config, "2024-W47")["decisions"][0]["state"] == "overdue"   # done only later
    now = _brief(engine, config, d.week)["decisions"]
    assert [(x["id"], x["state"], x["done_at"] is not None) for x in now] == [(done.id, "done", True)]
