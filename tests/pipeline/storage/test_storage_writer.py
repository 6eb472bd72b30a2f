"""The idempotent batched writer (SQLite): same input twice gives the same rows, latest alert state
wins, the position moves only with its data, and a batch is retried while the database is away."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.storage import EntityRecord, RejectedMessage, StorageUnavailable, Writer, db
from pipeline.storage.rows import contribution_id
from tests.pipeline.storage.storage_testkit import dump_tables

T0 = 1730700000.0


def _event(i: int) -> Event:
    doc = {"event_id": f"e-{i}", "kind": "monitoring", "type": "smoke_alarm", "occurred_at": "x", "source": "sensor-gw",
           "location": {"id": "HD-1-1203", "building": "1"}}
    return Event(f"e-{i}", "monitoring", "smoke_alarm", T0 + i, doc)


def _contribution(i: int, entity: str = "location:HD-1-1203") -> Contribution:
    return Contribution(entity, "smoke-alarm", "fire", 45.0, T0 + i, (f"e-{i}",), 259200.0, "1")


def _change(change: str, level: str, at: float, rules=("smoke-alarm",)) -> AlertChange:
    return AlertChange(change, "a1", "location:HD-1-1203", level, "L01", tuple(rules), at, 70.0)


@pytest.fixture
def writer(sqlite_url):
    db.open_database(sqlite_url).dispose()
    w = Writer(sqlite_url, retry_deadline=2.0, sleep=lambda s: None)
    yield w
    w.close()


def _count(writer: Writer, table: str) -> int:
    with writer.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_writing_the_same_batch_twice_leaves_the_same_rows(writer):
    batch = dict(
        events=[_event(i) for i in range(50)],
        rejections=[RejectedMessage("events.raw", 7, "invalid_json", partition=1, raw=b"{oops"),
                    RejectedMessage("events.raw", 9, "invalid_json", partition=1, raw=b"\xff\xfe")],
        contributions=[_contribution(i) for i in range(50)],
        alert_changes=[_change("raised", "high", T0), _change("upgraded", "critical", T0 + 5)],
        entities=[EntityRecord("location:HD-1-1203", "1", 1.5)],
        position=("events.raw", 1, 100),
    )
    writer.write_batch(**batch)
    first = dump_tables(writer.engine)
    writer.write_batch(**batch)
    second = dump_tables(writer.engine)
    # updated_at of the position is the write's wall clock; everything else is identical
    first.pop("processed_positions"), second.pop("processed_positions")
    assert first == second
    assert _count(writer, "events") == 50 and _count(writer, "contributions") == 50
    assert _count(writer, "alert_history") == 2
    assert writer.read_position("events.raw", 1) == 100


def test_rejection_raw_bytes_are_kept_as_text_or_bytes(writer):
    writer.write_batch(rejections=[RejectedMessage("f.jsonl", 1, "invalid_json", raw=b"{oops"),
                                   RejectedMessage("f.jsonl", 2, "invalid_json", raw=b"\xff\xfe")])
    with writer.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT position, raw, raw_bytes FROM rejections ORDER BY position")).all()
    assert rows == [(1, "{oops", None), (2, None, b"\xff\xfe")]


def test_alert_state_latest_change_wins_and_raised_at_is_the_earliest(writer):
    writer.write_batch(alert_changes=[_change("upgraded", "critical", T0 + 100, ("smoke-alarm", "gas-alarm"))])
    writer.write_batch(alert_changes=[_change("raised", "high", T0)])   # older change arrives later
    with writer.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT level, rules, raised_at, updated_at, status FROM alerts")).one()
    assert row.level == "critical"
    assert "gas-alarm" in row.rules
    assert str(row.raised_at).startswith("2024-11-04 06:00:00")
    assert str(row.updated_at).startswith("2024-11-04 06:01:40")
    assert row.status == "open"


def test_workflow_status_is_not_reset_by_engine_changes(writer):
    writer.write_batch(alert_changes=[_change("raised", "high", T0)])
    with writer.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alerts SET status = 'acknowledged'"))
    writer.write_batch(alert_changes=[_change("attached", "high", T0 + 10)])
    with writer.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM alerts")).scalar_one() == "acknowledged"


def test_entity_building_is_kept_when_a_later_write_does_not_know_it(writer):
    writer.write_batch(entities=[EntityRecord("person:P-1", "2", 1.0)])
    writer.write_batch(entities=[EntityRecord("person:P-1", None, 1.0)])
    with writer.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT type, id, building FROM entities")).one() == ("person", "P-1", "2")


def test_a_failing_batch_stores_neither_data_nor_position(writer):
    writer.write_batch(events=[_event(1)], position=("events.raw", 0, 10))
    bad = Event("e-bad", None, "x", T0, {"source": "s"})  # kind NULL violates NOT NULL
    with pytest.raises(sa.exc.IntegrityError):
        writer.write_batch(events=[_event(2), bad], position=("events.raw", 0, 20))
    assert writer.read_position("events.raw", 0) == 10
    assert _count(writer, "events") == 1


def test_write_all_splits_into_batches(writer):
    writer.batch_size = 7
    results = writer.write_all(events=[_event(i) for i in range(20)], contributions=[_contribution(i) for i in range(3)])
    assert len(results) == 3
    assert _count(writer, "events") == 20 and _count(writer, "contributions") == 3


def test_levels_are_replaced_by_the_rules_levels(writer):
    writer.write_levels([("elevated", 25.0), ("high", 50.0)])
    with writer.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name, threshold FROM levels ORDER BY threshold")).all() == [
            ("elevated", 25.0), ("high", 50.0)]


def test_contribution_identity_depends_on_what_fired():
    a = contribution_id("person:P-1", "r", T0, ("e-1", "e-2"))
    assert a == contribution_id("person:P-1", "r", T0, ("e-1", "e-2"))
    assert a != contribution_id("person:P-1", "r", T0, ("e-1",))
    assert a != contribution_id("person:P-1", "r", T0 + 0.001, ("e-1", "e-2"))
    assert a != contribution_id("person:P-2", "r", T0, ("e-1", "e-2"))
    assert len(a) == 32


class _FlakyDatabase:
    """Raise OperationalError (as a vanished server would) on the first `failures` statements."""

    def __init__(self, engine, failures: int):
        self.left = failures
        sa.event.listen(engine, "before_cursor_execute", self)

    def __call__(self, conn, cursor, statement, params, context, executemany):
        if self.left > 0 and statement.lstrip().upper().startswith("INSERT"):
            self.left -= 1
            raise sa.exc.OperationalError(statement, params, Exception("server closed the connection unexpectedly"))


def test_operational_errors_retry_the_whole_batch(writer):
    sleeps = []
    writer._sleep = sleeps.append
    flaky = _FlakyDatabase(writer.engine, failures=3)
    result = writer.write_batch(events=[_event(i) for i in range(5)], contributions=[_contribution(1)],
                                position=("t", 0, 5))
    assert flaky.left == 0
    assert result.attempts == 4
    assert sleeps == [0.1, 0.2, 0.4]
    assert _count(writer, "events") == 5 and _count(writer, "contributions") == 1
    assert writer.read_position("t", 0) == 5


def test_retrying_gives_up_at_the_deadline_with_one_line(writer):
    writer.retry_deadline = 0.0
    _FlakyDatabase(writer.engine, failures=100)
    with pytest.raises(StorageUnavailable) as exc:
        writer.write_batch(events=[_event(1)])
    assert "\n" not in str(exc.value)
    assert str(exc.value).startswith("database not reachable at sqlite:///")
