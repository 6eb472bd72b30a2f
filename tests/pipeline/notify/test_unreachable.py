"""A leader with no channel is never silent: a warning at start and on every pass, the notice counted as failed,
and `riskwatch notify --check` lists such leaders."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.notify.channels.webhook import WebhookOptions
from tests.pipeline.notify.alertkit import T0, FakeClock, channels, raise_alert
from tests.pipeline.notify.test_notifier import make


def test_a_leader_without_channel_is_warned_about_and_counted_failed(engine, config, receiver, caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.notify.notifier")
    raise_alert(engine, "a1", "location:HD-2-1203", "L02", T0)
    chans = channels({"L01": [("webhook", WebhookOptions(url=receiver.url))]})   # L02 has none
    n = make(engine, config, chans, FakeClock(T0 + timedelta(minutes=1)))
    assert any("L02" in r.getMessage() for r in caplog.records)                 # at start
    caplog.clear()
    report = n.run_once(flush=True)
    assert report.failed == 1 and report.sent == 0
    assert any("L02" in e for e in report.errors)
    assert any("L02" in r.getMessage() for r in caplog.records)                 # on the pass
    caplog.clear()
    assert n.run_once(flush=True).failed == 0                                     # counted once per notice
    assert any("L02" in r.getMessage() for r in caplog.records)                 # but warned on every pass
    n.close()


def test_notify_check_lists_leaders_without_a_channel(tmp_path, engine):
    chans = tmp_path / "channels.yaml"
    chans.write_text("leaders:\n  L01:\n    - {type: webhook, url: 'http://127.0.0.1:9/x'}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["notify", "--check", "--channels", str(chans), "--db", str(engine.url)])
    assert result.exit_code == 1
    listed = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert listed == ["L02", "L03", "L04", "L05", "L10"]
    assert "未配置通知渠道" in result.stdout


def test_notify_once_counts_the_unreachable_notice_as_failed(tmp_path, engine):
    raise_alert(engine, "a1", "location:HD-2-1203", "L02", datetime.now(UTC) - timedelta(minutes=1))
    chans = tmp_path / "channels.yaml"
    chans.write_text("leaders:\n  L01:\n    - {type: webhook, url: 'http://127.0.0.1:9/x'}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["notify", "--once", "--channels", str(chans), "--db", str(engine.url)])
    assert result.exit_code == 0, result.output
    assert "failed 1" in result.stdout
