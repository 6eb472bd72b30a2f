"""Alert delivery against the real PostgreSQL: notification log, escalation with a controllable
clock, acknowledgement through the API, one notifier at a time (advisory lock), nothing sent twice
after a restart. One database of its own per session (rw_alert_<uuid>), dropped afterwards.
"""

from __future__ import annotations

import threading
import warnings
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipeline.alerting.records import get_alert, history_of
from pipeline.api.app import create_app
from pipeline.auth import create_token
from pipeline.notify.channels.dingtalk import DingTalkOptions
from pipeline.notify.channels.webhook import WebhookOptions
from pipeline.notify.delivery import RetryPolicy
from pipeline.notify.notifier import Notifier
from pipeline.storage import db

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.integration import pgkit
from tests.pipeline.notify import alertkit as kit
from tests.pipeline.notify import notify_peers as peers

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts_per_pass=3, base=0.01, max_wait_in_pass=1.0, max_backoff=60.0)


@pytest.fixture(scope="session")
def alert_db(pg_url):
    with pgkit.scratch_database(pg_url, "alert") as url:
        engine = db.make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def engine(alert_db):
    with pgkit.server_lock():
        with alert_db.begin() as conn:
            conn.execute(sa.text("TRUNCATE alerts, alert_history, notifications, contributions, entities, api_tokens"))
        yield alert_db


@pytest.fixture(scope="session")
def config():
    from pipeline.configset import load_config

    return load_config()


@pytest.fixture
def receiver():
    r = peers.Receiver()
    yield r
    r.close()


def notifier(engine, config, chans, clock, **kw):
    return Notifier(engine, config, chans, grafana_url="http://grafana.test", clock=clock, sleep=clock.sleep,
                    policy=FAST, env=kw.pop("env", {}), **kw)


def test_delivery_escalation_and_api_ack_on_postgresql(engine, config, receiver):
    secret = "SECpg"
    dingtalk = peers.Receiver(dingtalk_secret=secret)
    try:
        kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
        clock = kit.FakeClock(kit.T0)
        chans = kit.channels({
            "L01": [("webhook", WebhookOptions(url=receiver.url + "/L01"))],
            "L05": [("dingtalk", DingTalkOptions(url_env="DT_URL", secret_env="DT_SECRET"))],
        })
        env = {"DT_URL": dingtalk.url + "/robot/send?access_token=t", "DT_SECRET": secret}
        receiver.script = [peers.Step(500)]
        n = notifier(engine, config, chans, clock, env=env)
        assert n.run_once(flush=True).sent == 1
        assert len(receiver.requests) == 2 and len(receiver.effective) == 1
        clock.now = kit.T0 + timedelta(hours=4)
        assert n.run_once(flush=True).escalated == 1
        [esc] = dingtalk.effective                       # signed request accepted by the DingTalk check
        assert "超时未确认" in esc.body["markdown"]["text"]
        # L05 acknowledges through the API; the next escalation (to L10) does not happen
        token = create_token(engine, "leader-L05", "leader", leader_id="L05")
        client = TestClient(create_app(engine, config.assignments, clock))
        response = client.post("/alerts/a1/ack", headers={"Authorization": f"Bearer {token}"}, json={"note": "已安排"})
        assert response.status_code == 200, response.text
        clock.now = kit.T0 + timedelta(hours=12)
        assert n.run_once(flush=True).escalated == 0
        n.close()
        # a restarted notifier sends nothing again
        assert notifier(engine, config, chans, clock, env=env).run_once(flush=True).sent == 0
        assert len(receiver.effective) == 1 and len(dingtalk.effective) == 1
        with engine.connect() as conn:
            assert get_alert(conn, "a1").status == "acknowledged"
            acted = [(h.action, h.actor) for h in history_of(conn, "a1") if h.action != "notified"]
        assert acted == [("raised", "engine"), ("escalated", "notifier"), ("acknowledged", "leader-L05")]
    finally:
        dingtalk.close()


def test_two_notifiers_at_once_send_one_message(engine, config, receiver):
    kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
    chans = kit.channels({"L01": [("webhook", WebhookOptions(url=receiver.url))]})
    receiver.script = [peers.Step(200, delay=0.5)]
    reports = []

    def one():
        clock = kit.FakeClock(kit.T0)
        n = notifier(engine, config, chans, clock)
        reports.append(n.run_once(flush=True))
        n.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(receiver.requests) == 1
    assert sorted(r.sent for r in reports) == [0, 1]


def test_api_refusals_change_nothing_on_postgresql(engine, config):
    kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
    other = create_token(engine, "leader-L02", "leader", leader_id="L02")
    viewer = create_token(engine, "viewer-1", "viewer")
    client = TestClient(create_app(engine, config.assignments, kit.FakeClock(kit.T0)))
    before = kit.snapshot(engine)
    assert client.post("/alerts/a1/ack", headers={"Authorization": "Bearer rw_wrong"}).status_code == 401
    assert client.post("/alerts/a1/ack", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    assert client.post("/alerts/a1/close", headers={"Authorization": f"Bearer {viewer}"},
                       json={"reason": "x"}).status_code == 403
    assert client.post("/alerts/a1/close", headers={"Authorization": f"Bearer {other}"}, json={}).status_code == 422
    assert kit.snapshot(engine) == before
