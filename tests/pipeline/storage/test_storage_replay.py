"""`riskwatch replay --db` into SQLite: stored twice gives the same rows; SQL scores agree with replay."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.rawcopy import KEEP_BYTES
from pipeline.replay import entity_rows
from pipeline.storage import SchemaOutdated, StorageUnavailable, db
from pipeline.storage.replay_store import open_replay_store
from pipeline.storage.views import entity_scores_at, entity_scores_current
from tests.pipeline.storage.storage_testkit import dump_tables


def test_storing_a_replay_twice_leaves_identical_rows(replayed, config, events_file, sqlite_url):
    open_replay_store(sqlite_url, config)(replayed, source=events_file)
    engine = db.make_engine(sqlite_url)
    first = dump_tables(engine)
    open_replay_store(sqlite_url, config)(replayed, source=events_file)
    assert dump_tables(engine) == first
    counts = {name: len(rows) for name, rows in first.items()}
    assert counts["events"] == replayed.accepted
    assert counts["rejections"] == len(replayed.rejections) > 0
    assert counts["contributions"] == len(replayed.contributions) > 0
    assert counts["alerts"] == sum(ch.change == "raised" for ch in replayed.alert_changes) > 0
    assert counts["alert_history"] == sum(ch.change in ("raised", "upgraded") for ch in replayed.alert_changes)


def test_rejections_are_stored_by_file_name_and_line_with_the_raw_line(replayed, config, events_file, sqlite_url):
    open_replay_store(sqlite_url, config)(replayed, source=events_file)
    lines = events_file.read_bytes().split(b"\n")
    with db.make_engine(sqlite_url).connect() as conn:
        rows = conn.execute(sa.text("SELECT source, partition, position, reason, raw, raw_bytes FROM rejections")).all()
    by_line = {number: rej for number, rej in replayed.rejections}
    assert {r.position for r in rows} == set(by_line)
    for r in rows:
        assert r.source == events_file.name and r.partition == 0
        assert r.reason == by_line[r.position].reason
        line = lines[r.position - 1].rstrip(b"\r")
        kept = r.raw.encode() if r.raw is not None else r.raw_bytes
        # whole when it fits the bounded copy (rawcopy.KEEP_BYTES), else its start (a split character left out)
        assert kept == line if len(line) <= KEEP_BYTES else (line.startswith(kept) and len(kept) > KEEP_BYTES - 4)


def test_sql_scores_at_replay_clock_agree_with_replay(replayed, config, sqlite_url):
    open_replay_store(sqlite_url, config)(replayed)
    expected = {row["entity"]: row for row in entity_rows(replayed, config)}
    got = entity_scores_at(db.make_engine(sqlite_url), replayed.now)
    assert set(got) == set(expected)
    for ref, row in expected.items():
        assert abs(got[ref].score - row["score"]) <= 0.01, ref
        if not any(abs(row["score"] - threshold) <= 0.01 for _, threshold in config.rules.levels):
            assert got[ref].level == row["level"], ref  # (at a threshold, summation order may tip it)
        assert got[ref].contributions == len(row["contributions"]), ref


def test_current_view_is_the_same_arithmetic_at_now(replayed, config, sqlite_url):
    import time

    open_replay_store(sqlite_url, config)(replayed)
    engine = db.make_engine(sqlite_url)
    # Move every contribution so that it fired an hour ago (relative to the replay clock).
    shift = time.time() - replayed.now
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contributions SET fired_at = datetime(julianday(fired_at) + :d)"),
                     {"d": shift / 86400.0})
    view = entity_scores_current(engine)
    at_now = entity_scores_at(engine, time.time())
    assert set(view) == set(at_now) and view
    for ref in view:
        assert abs(view[ref].score - at_now[ref].score) <= 0.01


def test_replay_command_with_db_stores_and_prints_json(events_file, tmp_path):
    from pipeline.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    first = runner.invoke(app, ["replay", str(events_file), "--db", url, "--json"])
    assert first.exit_code == 0, first.output
    engine = db.make_engine(url)
    before = dump_tables(engine)
    second = runner.invoke(app, ["replay", str(events_file), "--db", url, "--json"])
    assert second.exit_code == 0 and second.stdout == first.stdout
    assert dump_tables(engine) == before
    assert len(before["events"]) > 0
    with engine.connect() as conn:
        sources = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT source FROM rejections"))}
    assert sources == {events_file.name}


def test_open_replay_store_checks_the_database_at_once(config, tmp_path):
    with pytest.raises(StorageUnavailable) as exc:
        open_replay_store("postgresql+psycopg://rw:pw@127.0.0.1:1/x", config)
    assert "pw@" not in str(exc.value) and "\n" not in str(exc.value)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(db.make_engine(url), "0001_schema")
    # SQLite is the embedded default: an earlier revision is upgraded, not refused.
    open_replay_store(url, config)
    assert db.current_revision(db.make_engine(url)) == db.head_revision()
    with db.make_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'zzzz'"))
    with pytest.raises(SchemaOutdated):
        open_replay_store(url, config)
