"""Robots take no idempotency key: a WeCom/DingTalk reply that comes after the (robot-sized) timeout makes the
delivery uncertain — recorded as such, never posted twice — while a webhook (idempotency key) is retried."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
import sqlalchemy as sa

from pipeline.notify.channels.base import Context, Message, Transient, Uncertain
from pipeline.notify.channels.webhook import Webhook, WebhookOptions
from pipeline.notify.channels.wecom import WeCom, WeComOptions
from pipeline.notify.config import load_channels
from pipeline.settings import DEFAULT_CONFIG_DIR
from tests.pipeline.notify.alertkit import T0, FakeClock, channels, raise_alert
from tests.pipeline.notify.notify_peers import Step
from tests.pipeline.notify.test_notifier import make

MESSAGE = Message("m-1", "L01", "【风险预警】", "text", "### 新预警", ())


def test_robots_wait_longer_than_other_peers_by_default(config):
    chans = load_channels(DEFAULT_CONFIG_DIR / "channels.yaml", config.assignments)
    assert chans.robot_timeout == 15.0 and chans.robot_timeout > chans.timeout


def test_a_late_robot_reply_is_uncertain_and_a_late_webhook_reply_transient(receiver):
    with httpx.Client() as http:
        ctx = Context(http, {"W": receiver.url + "/w?key=k"}, None, timeout=0.2, robot_timeout=0.3)
        receiver.script = [Step(delay=0.8)]
        with pytest.raises(Uncertain, match="may have been delivered"):
            WeCom(WeComOptions(url_env="W"), ctx).send(MESSAGE)
        receiver.script = [Step(delay=0.25)]            # within the robot's timeout, beyond the webhook's
        WeCom(WeComOptions(url_env="W"), ctx).send(MESSAGE)
        receiver.script = [Step(delay=0.8)]
        with pytest.raises(Transient):
            Webhook(WebhookOptions(url=receiver.url + "/h"), ctx).send(MESSAGE)


def test_the_notifier_records_a_late_robot_reply_as_uncertain_and_never_resends(engine, config, receiver):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    clock = FakeClock(T0)
    chans = replace(channels({"L01": [("wecom", WeComOptions(url_env="WECOM"))]}), robot_timeout=0.3)
    receiver.script = [Step(delay=1.0)]
    n = make(engine, config, chans, clock, env={"WECOM": receiver.url + "/w?key=k"})
    report = n.run_once(flush=True)
    assert (report.sent, report.uncertain, report.retrying, report.failed) == (0, 1, 0, 0)
    clock.advance(seconds=3600)
    assert n.run_once(flush=True).sent == 0
    assert len(receiver.requests) == 1                   # posted once: not twice
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM notifications")).scalar_one() == "uncertain"
    n.close()
