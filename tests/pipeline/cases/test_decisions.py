"""Decisions of the meeting: open / done / overdue at any time, who may record and mark them, refusals."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from pipeline import audit
from pipeline.alerting.access import Principal
from pipeline.cases.decisions import add_decision, get_decision, list_decisions, mark_done
from pipeline.errors import Conflict, Forbidden, NotFound, UsageError
from tests.pipeline.cases.casekit import at, event, store

TZ = ZoneInfo("Asia/Shanghai")
ANALYST = Principal("analyst:a", "analyst")
OWNER = Principal("leader:L02", "leader", "L02")


@pytest.fixture
def case(engine, url, config):
    store(url, config, [event("h1", at(4), "hazard", "found", hazard_id="HZ-1", location="HD-2-1203", building="2")])
    return "hazard:HZ-1"


def _add(engine, config, case, due=date(2024, 11, 10), week=None, now=None, who=ANALYST, owner="L02"):
    return add_decision(engine, config.assignments, TZ, case, "限期整改", owner, due, who, week, now=now or at(5))


def test_open_then_overdue_after_its_due_date_then_done(case, engine, config):
    d = _add(engine, config, case)
    assert d.week == "2024-W45"                                   # the week it was recorded in
    assert d.state_at(at(10, 23, 59), TZ) == "open"               # on its due date
    assert d.state_at(at(11, 0, 0), TZ) == "overdue"              # the day after, Beijing time
    done = mark_done(engine, d.id, "已整改并复查", OWNER, now=at(12))
    assert done.state_at(at(11, 12), TZ) == "overdue"             # before it was done
    assert done.state_at(at(12, 11), TZ) == "done" and done.done_by == "leader:L02"
    assert [x.id for x in list_decisions(engine.connect(), TZ, state="done", at=at(13))] == [d.id]
    assert list_decisions(engine.connect(), TZ, state="overdue", at=at(11, 12))[0].id == d.id
    assert [r.detail for r in audit.list_records(engine, action="decision_done")] == [{"decision": d.id}]


def test_week_given_and_ids_increase(case, engine, config):
    first, second = _add(engine, config, case, week="2024-W46"), _add(engine, config, case)
    assert first.week == "2024-W46" and second.id > first.id


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"who": OWNER}, Forbidden),                 # leaders do not record the meeting's decisions
    ({"owner": "L99"}, UsageError),
    ({"week": "2024-W99"}, UsageError),
])
def test_add_refusals(case, engine, config, kwargs, error):
    with pytest.raises(error):
        _add(engine, config, case, **kwargs)
    assert list_decisions(engine.connect(), TZ) == []


def test_a_decision_needs_an_existing_case(engine, config):
    with pytest.raises(NotFound):
        _add(engine, config, "hazard:NOPE")
    with pytest.raises(UsageError):
        _add(engine, config, "HZ-1")


def test_done_refusals(case, engine, config):
    d = _add(engine, config, case)
    with pytest.raises(Forbidden):
        mark_done(engine, d.id, "x", Principal("leader:L01", "leader", "L01"))
    with pytest.raises(UsageError):
        mark_done(engine, d.id, " ", ANALYST)
    with pytest.raises(NotFound):
        mark_done(engine, 999, "x", ANALYST)
    mark_done(engine, d.id, "已落实", ANALYST, now=at(6))
    with pytest.raises(Conflict):
        mark_done(engine, d.id, "再次", ANALYST, now=at(7))
    assert get_decision(engine.connect(), d.id).done_at == at(6)
