"""`riskwatch alerts list|show|ack|close` and `riskwatch notify --once` end to end on SQLite."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from pipeline.cli import app
from tests.pipeline.notify.alertkit import raise_alert


def test_alerts_commands_list_show_ack_close(tmp_path, engine):
    url = str(engine.url)
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", datetime(2024, 11, 5, 1, 30, tzinfo=UTC))
    run = CliRunner().invoke
    listed = run(app, ["alerts", "list", "--json", "--db", url])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout.splitlines()[0])["alert_id"] == "a1"
    acked = run(app, ["alerts", "ack", "a1", "--note", "收到", "--actor", "leader-L01", "--db", url])
    assert acked.stdout.strip() == "a1：已确认"
    again = run(app, ["alerts", "ack", "a1", "--db", url])
    assert again.exit_code == 5 and "已确认" in again.stderr  # Conflict
    no_reason = run(app, ["alerts", "close", "a1", "--db", url])
    assert no_reason.exit_code == 2
    blank = run(app, ["alerts", "close", "a1", "--reason", "  ", "--db", url])
    assert blank.exit_code == 2 and "reason" in blank.stderr
    assert run(app, ["alerts", "close", "a1", "--reason", "已处置", "--db", url]).exit_code == 0
    shown = json.loads(run(app, ["alerts", "show", "a1", "--json", "--db", url]).stdout)
    assert shown["status"] == "closed"
    assert [(h["action"], h["actor"]) for h in shown["history"]][:2] == [("raised", "engine"), ("acknowledged", "leader-L01")]
    assert shown["history"][2]["action"] == "closed" and shown["history"][2]["detail"]["reason"] == "已处置"
    assert run(app, ["alerts", "show", "nope", "--db", url]).exit_code == 3  # NotFound
    assert run(app, ["alerts", "ack", "nope", "--db", url]).exit_code == 3


def test_notify_once_refuses_missing_environment_then_delivers(tmp_path, engine, receiver, monkeypatch):
    url = str(engine.url)
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", datetime.now(UTC) - timedelta(minutes=1))
    channels = tmp_path / "channels.yaml"
    channels.write_text("leaders:\n  L01:\n    - {type: webhook, url_env: TEST_HOOK_URL}\n", encoding="utf-8")
    run = CliRunner().invoke
    monkeypatch.delenv("TEST_HOOK_URL", raising=False)
    refused = run(app, ["notify", "--once", "--channels", str(channels), "--db", url])
    assert refused.exit_code == 2 and "TEST_HOOK_URL is not set" in refused.stderr
    monkeypatch.setenv("TEST_HOOK_URL", receiver.url + "/hook")
    done = run(app, ["notify", "--once", "--channels", str(channels), "--db", url])
    assert done.exit_code == 0, done.output
    assert "sent 1" in done.stdout
    assert len(receiver.effective) == 1 and receiver.effective[0].body["notices"][0]["alert_id"] == "a1"
    assert "sent 0" in run(app, ["notify", "--once", "--channels", str(channels), "--db", url]).stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("leaders:\n  L77:\n    - {type: webhook, url: 'http://127.0.0.1:9/x'}\n", encoding="utf-8")
    refused = run(app, ["notify", "--once", "--channels", str(bad), "--db", url])
    assert refused.exit_code == 2 and "unknown leader 'L77'" in refused.stderr


def test_the_worker_can_run_the_notifier_in_a_thread_until_stopped(tmp_path, engine, receiver):
    import time

    from pipeline.notify.service import build, run_in_thread
    from pipeline.settings import load_settings

    raise_alert(engine, "a1", "location:HD-1-1203", "L01", datetime.now(UTC))
    channels = tmp_path / "channels.yaml"
    channels.write_text("group_wait: 1s\nleaders:\n  L01:\n    - {type: webhook, url_env: HOOK}\n", encoding="utf-8")
    notifier = build(load_settings(), channels_file=channels, db_url=str(engine.url), env={"HOOK": receiver.url})
    thread, stop = run_in_thread(notifier, 0.05)
    try:
        deadline = time.monotonic() + 10
        while not receiver.effective and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
        notifier.close()
        notifier.engine.dispose()
    assert not thread.is_alive()
    assert len(receiver.effective) == 1
