"""Retention (SQLite): purge removes exactly what is older than the cutoff, and orphaned persons only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.storage import EntityRecord, RejectedMessage, Writer, db
from pipeline.storage.purge import count_purge, purge

NOW = datetime.now(UTC)
OLD = (NOW - timedelta(days=400)).timestamp()
NEW = (NOW - timedelta(days=10)).timestamp()


def _event(eid: str, t: float) -> Event:
    return Event(eid, "dispute", "reported", t, {"event_id": eid, "source": "mediation"})


def _contribution(entity: str, t: float, eid: str) -> Contribution:
    return Contribution(entity, "dispute-party", "dispute", 15.0, t, (eid,), 30 * 86400.0, None)


@pytest.fixture
def populated(sqlite_url):
    db.open_database(sqlite_url).dispose()
    with Writer(sqlite_url) as w:
        w.write_batch(
            events=[_event("old-1", OLD), _event("old-2", OLD), _event("new-1", NEW)],
            rejections=[RejectedMessage("f", 1, "invalid_json", received_at=NOW - timedelta(days=500)),
                        RejectedMessage("f", 2, "invalid_json", received_at=NOW)],
            contributions=[
                _contribution("person:P-OLD", OLD, "old-1"),          # only old: removed with its contribution
                _contribution("person:P-ALERT", OLD, "old-2"),        # only old, but an open alert: kept
                _contribution("person:P-BOTH", OLD, "old-1"),         # old and new: kept
                _contribution("person:P-BOTH", NEW, "new-1"),
                _contribution("location:HD-1-1203", OLD, "old-1"),    # not a person: kept
            ],
            alert_changes=[AlertChange("raised", "a-1", "person:P-ALERT", "high", "L01", ("r",), OLD, 70.0),
                           AlertChange("raised", "a-2", "person:P-DONE", "high", "L01", ("r",), OLD, 70.0)],
            entities=[EntityRecord("person:P-OLD"), EntityRecord("person:P-ALERT"), EntityRecord("person:P-BOTH"),
                      EntityRecord("person:P-DONE"), EntityRecord("location:HD-1-1203", "1", 1.5)],
        )
    engine = db.make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alerts SET status = 'resolved' WHERE alert_id = 'a-2'"))
    return engine


def _ids(engine, sql: str) -> set:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.text(sql))}


def test_purge_removes_exactly_what_is_older_and_orphaned_persons(populated):
    cutoff = NOW - timedelta(days=365)
    preview = count_purge(populated, cutoff)
    done = purge(populated, cutoff, actor="test")
    assert preview == done
    assert (done.events, done.rejections, done.contributions, done.entities) == (2, 1, 4, 2)
    assert _ids(populated, "SELECT event_id FROM events") == {"new-1"}
    assert _ids(populated, "SELECT position FROM rejections") == {2}
    assert _ids(populated, "SELECT entity FROM contributions") == {"person:P-BOTH"}
    assert _ids(populated, "SELECT ref FROM entities") == {"person:P-ALERT", "person:P-BOTH", "location:HD-1-1203"}
    with populated.connect() as conn:
        audit = conn.execute(sa.text("SELECT actor, action, detail FROM audit_log")).one()
    assert audit.actor == "test" and audit.action == "purge"
    detail = audit.detail if isinstance(audit.detail, dict) else __import__("json").loads(audit.detail)
    assert detail["removed"] == {"events": 2, "rejections": 1, "contributions": 4, "entities": 2, "inbox": 0}
    assert "P-OLD" not in str(detail)


def test_serves_accept_log_loses_only_old_rows_its_engine_has_applied(populated):
    from pipeline.storage.ingest_tables import INBOX, INBOX_POSITION_TOPIC
    from pipeline.storage.models import ProcessedPosition

    old, new = NOW - timedelta(days=400), NOW - timedelta(days=10)
    with populated.begin() as conn:
        conn.execute(INBOX.insert(), [{"seq": 1, "event_id": "old-1", "received_at": old},
                                      {"seq": 2, "event_id": "old-2", "received_at": old},
                                      {"seq": 3, "event_id": "old-2", "received_at": old},   # not applied yet
                                      {"seq": 4, "event_id": "new-1", "received_at": new}])
        conn.execute(ProcessedPosition.__table__.insert().values(topic=INBOX_POSITION_TOPIC, partition=0, next_offset=3,
                                                                 updated_at=NOW))
    cutoff = NOW - timedelta(days=365)
    assert count_purge(populated, cutoff).inbox == 2
    assert purge(populated, cutoff, actor="test").inbox == 2
    assert _ids(populated, "SELECT seq FROM serve_inbox") == {3, 4}


def test_without_a_processed_position_no_accept_log_row_goes(populated):
    from pipeline.storage.ingest_tables import INBOX

    with populated.begin() as conn:
        conn.execute(INBOX.insert().values(seq=1, event_id="old-1", received_at=NOW - timedelta(days=400)))
    assert purge(populated, NOW - timedelta(days=365), actor="test").inbox == 0


def test_purge_again_removes_nothing_but_is_audited(populated):
    cutoff = NOW - timedelta(days=365)
    purge(populated, cutoff, actor="test")
    assert purge(populated, cutoff, actor="test").total == 0
    assert len(_ids(populated, "SELECT id FROM audit_log")) == 2


def test_purge_command(populated, sqlite_url):
    runner = CliRunner()
    refused = runner.invoke(app, ["db", "purge", "--before", "365d", "--db", sqlite_url])
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert _ids(populated, "SELECT count(*) FROM events") == {3}
    done = runner.invoke(app, ["db", "purge", "--before", "365d", "--db", sqlite_url, "--yes"])
    assert done.exit_code == 0, done.output
    assert "removed 2 events, 1 rejections, 4 contributions, 2 person entities" in done.output
    assert _ids(populated, "SELECT action FROM audit_log") == {"purge"}


def test_purge_command_default_is_the_settings_retention(populated, sqlite_url, monkeypatch):
    monkeypatch.setenv("RISKWATCH_DB_URL", sqlite_url)
    monkeypatch.setenv("RISKWATCH_RETENTION", "5d")
    done = CliRunner().invoke(app, ["db", "purge", "--yes"])
    assert done.exit_code == 0, done.output
    assert "(5d ago): 3 events" in done.output
    assert _ids(populated, "SELECT count(*) FROM events") == {0}


def test_purge_command_bad_duration_is_exit_2(sqlite_url):
    result = CliRunner().invoke(app, ["db", "purge", "--before", "a year", "--db", sqlite_url, "--yes"])
    assert result.exit_code == 2 and "--before" in result.output
