"""The deadline and next escalation step the alert page shows, by the same rule as
the notifier's escalation (docs/contract.md §5): from raising or the last escalation, the level's
ack_timeout, then the next leader of the assignee's chain; none once acknowledged; at the end of the
chain no one is next."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from pipeline.alerting.records import HISTORY, get_alert
from pipeline.web.deadline import ack_deadline
from tests.pipeline.web.test_pages import path


def escalate(engine, alert_id: str, to: str, step: int, at) -> None:
    with engine.begin() as conn:
        conn.execute(HISTORY.insert().values(alert_id=alert_id, action="escalated", level="critical", actor="notifier",
                                             at=at, detail={"to": to, "step": step}))


def test_deadline_follows_the_chain(world, config):
    a3 = get_alert(world.connect(), "a3")                  # critical (30 min), L01: chain L05, L10
    with world.connect() as conn:
        first = ack_deadline(conn, config.assignments, a3)
    assert (first.due, first.timeout_text, first.next_leader, first.next_name, first.step) == (
        a3.raised_at + timedelta(minutes=30), "30分钟", "L05", "分管副主任", 1)
    escalate(world, "a3", "L05", 1, a3.raised_at + timedelta(minutes=31))
    with world.connect() as conn:
        second = ack_deadline(conn, config.assignments, a3)
    assert (second.due, second.next_leader, second.step) == (a3.raised_at + timedelta(minutes=61), "L10", 2)
    escalate(world, "a3", "L10", 2, a3.raised_at + timedelta(minutes=62))
    with world.connect() as conn:
        last = ack_deadline(conn, config.assignments, a3)
    assert last.next_leader is None and last.due == a3.raised_at + timedelta(minutes=92)
    with world.begin() as conn:
        conn.execute(sa.text("UPDATE alerts SET status = 'acknowledged' WHERE alert_id = 'a3'"))
    with world.connect() as conn:
        assert ack_deadline(conn, config.assignments, get_alert(conn, "a3")) is None


def test_the_page_says_when_the_chain_has_ended(site, world):
    client, pages = site
    a3 = get_alert(world.connect(), "a3")
    escalate(world, "a3", "L05", 1, a3.raised_at + timedelta(minutes=31))
    escalate(world, "a3", "L10", 2, a3.raised_at + timedelta(minutes=62))
    html = client.get(path(pages.signer.url("a3", "L01"))).text
    assert "已上报至最高一级，请尽快确认" in html and "内未确认将上报" not in html
