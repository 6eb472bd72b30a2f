"""Cases derived from stored events and alerts: every state transition of every kind, due, overdue,
days_overdue, the owner rule, and derivation as of any time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.cases.derive import derive_case, derive_cases
from pipeline.cases.model import CaseRecord
from tests.pipeline.cases.casekit import UTC, at, event, store


def _case(engine, config, ref, when=None):
    with engine.connect() as conn:
        return derive_case(conn, config.assignments, ref, when)


def test_hazard_moves_open_rectified_closed_and_reopened(engine, url, config):
    where = {"location": "HD-1-12-corridor", "building": "1"}
    store(url, config, [
        event("h1", at(4), "hazard", "found", hazard_id="HZ-1", due_at=at(8, 0), **where),
        event("h2", at(6), "hazard", "rectified", hazard_id="HZ-1", **where),
        event("h3", at(7), "hazard", "verified", hazard_id="HZ-1", **where),
        event("h4", at(9), "hazard", "reopened", hazard_id="HZ-1", **where),
    ])
    states = [_case(engine, config, "hazard:HZ-1", t) for t in (at(5), at(6, 12), at(8), at(10))]
    assert [c.state for c in states] == ["open", "rectified", "closed", "open"]
    assert [c.is_open for c in states] == [True, True, False, True]
    assert states[2].closed_at == at(7) and states[3].closed_at is None
    assert all(c.due == at(8, 0) and c.opened_at == at(4) for c in states)
    # Reopened after its due time: overdue again, whole days from due.
    assert states[3].days_overdue(at(10, 23)) == 2
    assert _case(engine, config, "hazard:HZ-1", at(4)) is None   # nothing at or after as_of is read


def test_rectified_hazard_is_open_but_not_overdue(engine, url, config):
    store(url, config, [
        event("h1", at(4), "hazard", "found", hazard_id="HZ-2", due_at=at(5), location="HD-2-06-corridor", building="2"),
        event("h2", at(6), "hazard", "rectified", hazard_id="HZ-2", location="HD-2-06-corridor", building="2"),
    ])
    before, after = _case(engine, config, "hazard:HZ-2", at(5, 23)), _case(engine, config, "hazard:HZ-2", at(20))
    assert before.is_overdue(at(5, 23)) and before.days_overdue(at(5, 23)) == 0   # late, less than a day
    assert after.state == "rectified" and after.is_open and not after.is_overdue(at(20))
    assert after.days_overdue(at(20)) == 0


def test_dispute_moves_open_in_progress_referred_closed(engine, url, config):
    where = {"location": "HD-1-1203", "building": "1"}
    store(url, config, [
        event("d1", at(4), "dispute", "reported", case_id="MD-9", **where),
        event("d2", at(5), "dispute", "mediation_held", case_id="MD-9", due_at=at(10, 0), **where),
        event("d3", at(6), "dispute", "escalated", case_id="MD-9", **where),
        event("d4", at(7), "dispute", "mediation_held", case_id="MD-9", **where),
        event("d5", at(8), "dispute", "referred", case_id="MD-9", **where),
        event("d6", at(12), "dispute", "resolved", case_id="MD-9", **where),
    ])
    got = [_case(engine, config, "dispute:MD-9", t) for t in (at(4, 12), at(5, 12), at(6, 12), at(7, 12), at(8, 12),
                                                               at(11, 12), at(13))]
    assert [c.state for c in got] == ["open", "in_progress", "referred", "in_progress", "referred", "referred",
                                      "closed"]
    assert got[0].due is None and got[1].due == at(10, 0)        # due when given
    assert got[5].is_open and got[5].days_overdue(at(11, 12)) == 1   # referred is still the owner's work
    assert not got[6].is_open and got[6].closed_at == at(12)


def test_events_before_the_opening_event_do_not_make_a_case(engine, url, config):
    store(url, config, [event("x1", at(4), "hazard", "rectified", hazard_id="HZ-X", location="HD-1-1203", building="1")])
    assert _case(engine, config, "hazard:HZ-X") is None


def _alert_setup(engine, url, config):
    store(url, config, [event("d1", at(4, 9), "dispute", "reported", location="HD-1-1507", building="1",
                              persons=("P-0201",), tags=("threat_of_violence",), case_id="MD-1")])
    with engine.connect() as conn:
        cases = derive_cases(conn, config.assignments)
    return next(c for c in cases.values() if c.kind == "alert")


def test_alert_case_follows_the_alert_open_acknowledged_resolved(engine, url, config):
    import sqlalchemy as sa

    from pipeline.alerting import actions
    from pipeline.cases.store import CASES

    alert = _alert_setup(engine, url, config)
    alert_id = alert.ref.partition(":")[2]
    assert alert.state == "open" and alert.owner == "L01" and alert.entity == "person:P-0201"
    timeout = timedelta(seconds=config.assignments.ack_timeout["high"])
    assert alert.due == at(4, 9) + timeout                       # raised + the level's ack_timeout
    actions.acknowledge(engine, alert_id, "cli:test", now=at(5))
    with engine.connect() as conn:   # the stored row follows the alert's workflow at once
        row = conn.execute(sa.select(CASES).where(CASES.c.ref == alert.ref)).one()
    assert (row.state, row.due, row.is_open) == ("acknowledged", None, True)
    actions.resolve(engine, alert_id, now=at(6), score=10.0, alert_level="high")
    states = [_case(engine, config, alert.ref, t) for t in (at(4, 23), at(5, 12), at(7))]
    assert [c.state for c in states] == ["open", "acknowledged", "resolved"]
    assert states[0].days_overdue(at(4, 23)) == 0 and states[0].is_overdue(at(4, 23))
    assert states[1].due is None and not states[1].is_overdue(at(20))   # acknowledged: no ack deadline
    assert not states[2].is_open and states[2].closed_at == at(6)
    assert states[2].last_action_at == at(6)


def test_an_alert_action_owns_the_cases_as_the_callers_assignments_say(engine, url, config):
    """`alerts ack --config DIR` (and the API, pages and notifier with theirs): the person case moves
    with DIR's assignments, not those of the settings' config directory."""
    import dataclasses

    import sqlalchemy as sa

    from pipeline.alerting import actions
    from pipeline.cases.store import CASES

    alert = _alert_setup(engine, url, config)
    leader = next(lid for lid in config.assignments.leaders if lid != "L01")
    theirs = dataclasses.replace(config.assignments,
                                 by_entity={**config.assignments.by_entity, "person:P-0201": leader})
    actions.acknowledge(engine, alert.ref.partition(":")[2], "cli:test", now=at(5), assignments=theirs)
    with engine.connect() as conn:
        owner = conn.execute(sa.select(CASES.c.owner).where(CASES.c.ref == "person:P-0201")).scalar_one()
    assert owner == leader


def test_alert_case_closed_by_hand(engine, url, config):
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import close_case

    alert = _alert_setup(engine, url, config)
    close_case(engine, config.assignments, alert.ref, Principal("cli:test", "admin"), "已处置", now=at(5))
    assert _case(engine, config, alert.ref, at(4, 23)).state == "open"
    closed = _case(engine, config, alert.ref)
    assert closed.state == "closed" and closed.closed_at == at(5)


def test_person_case_open_while_alerts_or_disputes_then_until_closed_by_hand(engine, url, config):
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import close_case
    from pipeline.errors import Conflict

    admin = Principal("cli:test", "admin")
    alert = _alert_setup(engine, url, config)
    person = _case(engine, config, "person:P-0201")
    assert person.state == "open" and person.opened_at == alert.opened_at and person.owner == "L01"
    with pytest.raises(Conflict, match="仍有未办结"):
        close_case(engine, config.assignments, "person:P-0201", admin, "无", now=at(5))
    close_case(engine, config.assignments, alert.ref, admin, "已处置", now=at(5))
    with pytest.raises(Conflict, match="dispute:MD-1"):          # the dispute naming the person is open
        close_case(engine, config.assignments, "person:P-0201", admin, "无", now=at(5, 11))
    store(url, config, [event("d2", at(6), "dispute", "resolved", persons=("P-0201",), case_id="MD-1",
                              location="HD-1-1507", building="1")])
    assert _case(engine, config, "person:P-0201").state == "open"   # nothing open, but not closed by hand
    close_case(engine, config.assignments, "person:P-0201", admin, "矛盾化解，解除关注", now=at(7))
    assert _case(engine, config, "person:P-0201", at(6, 12)).is_open
    closed = _case(engine, config, "person:P-0201")
    assert closed.state == "closed" and closed.closed_at == at(7)
    with pytest.raises(Conflict, match="已办结"):
        close_case(engine, config.assignments, "person:P-0201", admin, "再次", now=at(8))


def test_a_new_alert_reopens_a_person_case_closed_by_hand(engine, url, config):
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import close_case

    admin = Principal("cli:test", "admin")
    alert = _alert_setup(engine, url, config)
    close_case(engine, config.assignments, alert.ref, admin, "已处置", now=at(5))
    store(url, config, [event("d2", at(5, 12), "dispute", "resolved", persons=("P-0201",), case_id="MD-1")])
    close_case(engine, config.assignments, "person:P-0201", admin, "解除", now=at(6))
    store(url, config, [event("d3", at(20), "dispute", "reported", persons=("P-0201",), case_id="MD-2",
                              tags=("weapon",), location="HD-1-1507", building="1")])
    assert _case(engine, config, "person:P-0201", at(10)).state == "closed"
    assert _case(engine, config, "person:P-0201").state == "open"


@pytest.mark.parametrize(("kind", "event_args", "owner"), [
    # the building of the opening event's location
    ("hazard", {"location": "HD-2-09-corridor", "building": "2"}, "L02"),
    # no building: the assignment whose category is the case kind (assignments.yaml: dispute -> L04)
    ("dispute", {}, "L04"),
    # no building and no category assignment for hazards: the default leader
    ("hazard", {}, "L10"),
])
def test_owner_rule(engine, url, config, kind, event_args, owner):
    opening, key = ("found", "hazard_id") if kind == "hazard" else ("reported", "case_id")
    store(url, config, [event("o1", at(4), kind, opening, **{key: "C-1"}, **event_args)])
    assert _case(engine, config, f"{kind}:C-1").owner == owner


def test_person_case_owner_is_the_persons_assignee_then_building(engine, url, config):
    for pid in ("P-0101", "P-0202"):   # P-0101 has its own assignment (L04); P-0202 lives in building 2
        store(url, config, [event(f"t-{pid}", at(4), "dispute", "reported", persons=(pid,), tags=("weapon",),
                                  case_id=f"MD-{pid}", location="HD-2-1203", building="2")])
    assert _case(engine, config, "person:P-0101").owner == "L04"
    assert _case(engine, config, "person:P-0202").owner == "L02"


def test_reassignment_changes_the_owner_from_its_time_on(engine, url, config):
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import reassign

    store(url, config, [event("h1", at(4), "hazard", "found", hazard_id="HZ-1", location="HD-1-1203", building="1")])
    reassign(engine, config.assignments, "hazard:HZ-1", Principal("cli:test", "analyst"), "L03", "消防专班跟进",
             now=at(6))
    assert _case(engine, config, "hazard:HZ-1", at(5)).owner == "L01"
    now = _case(engine, config, "hazard:HZ-1")
    assert now.owner == "L03" and now.last_action_at == at(6)


@pytest.mark.parametrize(("hours", "days"), [(0, 0), (1, 0), (23, 0), (24, 1), (47, 1), (24 * 9, 9)])
def test_days_overdue_counts_whole_days(hours, days):
    due = at(8, 0).astimezone(UTC)
    case = CaseRecord("hazard:H", "hazard", "open", "L01", "1", None, None, at(4), due, None, at(4))
    when = due + timedelta(hours=hours, seconds=1 if hours else 0)
    assert case.days_overdue(when) == days
    assert case.is_overdue(when) == bool(hours)
    assert case.days_overdue(due) == 0 and not case.is_overdue(due)   # at the due time it is not yet late


def test_the_cases_table_matches_a_full_derivation(scenario, engine, config):
    import sqlalchemy as sa

    from pipeline.cases.store import CASES, refresh_cases

    with engine.connect() as conn:
        derived = derive_cases(conn, config.assignments)
        stored = {r.ref: r for r in conn.execute(sa.select(CASES))}
    assert set(stored) == set(derived)
    for ref, case in derived.items():
        row = stored[ref]
        assert (row.state, row.owner, row.is_open, row.building) == (case.state, case.owner, case.is_open,
                                                                      case.building), ref
    with engine.begin() as conn:
        assert refresh_cases(conn, config.assignments) == len(derived)
