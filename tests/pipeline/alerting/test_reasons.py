"""An alert's reasons stay on its page after they decayed, most weighty at the alert's rise first."""

from __future__ import annotations

from datetime import timedelta

from pipeline.alerting.reasons import alert_reasons
from pipeline.alerting.records import list_alerts, top_contributions
from tests.pipeline.cases.casekit import at, event, store


def test_reasons_outlive_their_decay(engine, config):
    store(str(engine.url), config, [
        event("d1", at(4, 9), "dispute", "reported", location="HD-1-1507", building="1", persons=("P-0201",),
              tags=("threat_of_violence",), case_id="MD-1"),
    ])
    with engine.connect() as conn:
        (alert,) = list_alerts(conn)
        later = at(4, 9) + timedelta(days=400)
        assert top_contributions(conn, alert.entity, later) == []   # the notices' window has long passed
        reasons = alert_reasons(conn, alert, later)
        first = alert_reasons(conn, alert, later, n=1)
    assert [r.rule for r in reasons] == ["threat-of-violence", "dispute-party"]
    assert reasons[0].worth_at_alert == reasons[0].points == 60.0
    assert reasons[0].worth_now < 0.01 and reasons[0].events == ("d1",)
    assert [r.rule for r in first] == ["threat-of-violence"]


def test_reasons_before_the_alert_existed_are_none(engine, config):
    store(str(engine.url), config, [
        event("d1", at(4, 9), "dispute", "reported", persons=("P-0201",), tags=("weapon",), case_id="MD-1"),
    ])
    with engine.connect() as conn:
        (alert,) = list_alerts(conn)
        assert alert_reasons(conn, alert, at(4, 8)) == []
