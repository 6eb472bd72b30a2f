"""Notes, 转办 and closing by hand: who may, what is refused, and that each is kept and audited."""

from __future__ import annotations

import pytest

from pipeline import audit
from pipeline.alerting.access import Principal
from pipeline.cases.actions import add_note, case_actions, close_case, reassign
from pipeline.errors import Conflict, Forbidden, NotFound, UsageError
from tests.pipeline.cases.casekit import at, event, store

OWNER = Principal("leader:L01", "leader", "L01")
OTHER = Principal("leader:L02", "leader", "L02")
ANALYST = Principal("analyst:a", "analyst")
VIEWER = Principal("viewer:v", "viewer")


@pytest.fixture
def hazard(engine, url, config):
    store(url, config, [event("h1", at(4), "hazard", "found", hazard_id="HZ-1", location="HD-1-1203", building="1",
                              due_at=at(6))])
    return "hazard:HZ-1"


def test_owner_and_analyst_add_notes_kept_with_who_and_when(hazard, engine, config):
    a = config.assignments
    add_note(engine, a, hazard, OWNER, "已通知物业清理", "measure", now=at(5))
    add_note(engine, a, hazard, ANALYST, "复查中", now=at(5, 12))
    kept = case_actions(engine.connect(), hazard)
    assert [(x.action, x.note_kind, x.actor, x.at, x.text) for x in kept] == [
        ("note", "measure", "leader:L01", at(5), "已通知物业清理"), ("note", "progress", "analyst:a", at(5, 12), "复查中")]
    records = audit.list_records(engine, action="case_note")
    assert [(r.actor, r.detail) for r in records] == [("leader:L01", {"case": hazard}), ("analyst:a", {"case": hazard})]
    assert all("text" not in (r.detail or {}) for r in records)   # a note's text may name people: not audited


@pytest.mark.parametrize("who", [OTHER, VIEWER])
def test_others_may_not_add_notes(hazard, engine, config, who):
    with pytest.raises(Forbidden):
        add_note(engine, config.assignments, hazard, who, "x")
    assert case_actions(engine.connect(), hazard) == []


def test_the_new_owner_may_add_notes_after_a_reassignment(hazard, engine, config):
    a = config.assignments
    reassign(engine, a, hazard, ANALYST, "L02", "属2号楼物业管理", now=at(5))
    add_note(engine, a, hazard, OTHER, "已接手", now=at(5, 1))
    with pytest.raises(Forbidden):
        add_note(engine, a, hazard, OWNER, "x")
    assert [r.detail for r in audit.list_records(engine, action="case_reassign")] == [{"case": hazard, "to": "L02"}]


@pytest.mark.parametrize(("who", "to", "reason", "error"), [
    (OWNER, "L02", "x", Forbidden),          # a leader cannot hand a case on
    (ANALYST, "L99", "x", UsageError),       # unknown leader
    (ANALYST, "L02", "  ", UsageError),      # reason required
    (ANALYST, "L01", "x", Conflict),         # already theirs
])
def test_reassign_refusals_change_nothing(hazard, engine, config, who, to, reason, error):
    with pytest.raises(error):
        reassign(engine, config.assignments, hazard, who, to, reason)
    assert case_actions(engine.connect(), hazard) == []


def test_hazards_and_disputes_do_not_close_by_hand(hazard, engine, config):
    with pytest.raises(Conflict, match="随其事件办结"):
        close_case(engine, config.assignments, hazard, ANALYST, "已处理")


def test_unknown_and_malformed_refs(engine, config):
    with pytest.raises(NotFound):
        add_note(engine, config.assignments, "hazard:NOPE", ANALYST, "x")
    with pytest.raises(UsageError):
        add_note(engine, config.assignments, "nothing", ANALYST, "x")
    with pytest.raises(UsageError):
        add_note(engine, config.assignments, "hazard:NOPE", ANALYST, "x", note_kind="gossip")


def test_the_cases_table_follows_each_action(hazard, engine, config):
    import sqlalchemy as sa

    from pipeline.cases.store import CASES

    reassign(engine, config.assignments, hazard, ANALYST, "L03", "消防专班", now=at(5))
    with engine.connect() as conn:
        row = conn.execute(sa.select(CASES).where(CASES.c.ref == hazard)).one()
    assert row.owner == "L03"
