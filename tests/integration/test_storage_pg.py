"""Storage against the real PostgreSQL (scripts/pg-start.sh): migrations, `replay --db` twice, SQL
scores against replay, purge, and a writer that survives the server going away mid-batch.

Each test gets its own database (rw_test_<uuid>), dropped afterwards, so runs never collide.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from pipeline.storage import SchemaOutdated, Writer, db
from pipeline.storage.replay_store import open_replay_store
from pipeline.storage.rows import contribution_id
from pipeline.storage.schema import metadata, tables
from pipeline.storage.views import entity_scores_at, entity_scores_current
from tests.integration import pgkit
from tests.pipeline.storage import storage_testkit as kit

pytestmark = pytest.mark.integration




@pytest.fixture
def server_lock():
    with pgkit.ServerLock().shared() as lock:
        yield lock


@pytest.fixture
def pg_db(pg_url, server_lock):
    """URL of a fresh, empty database of its own."""
    url = pgkit.create_database(pg_url, "test", migrate=False)
    yield url
    pgkit.drop_database(pg_url, url)


@pytest.fixture
def pg_head(pg_db):
    engine = db.make_engine(pg_db)
    db.upgrade(engine)
    engine.dispose()
    return pg_db


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The simulator's week (seed 3) when present, else the hand-written mix; replayed once."""
    from pipeline.configset import load_config
    from pipeline.replay import read_lines, replay

    path = kit.write_events(tmp_path_factory.mktemp("pg-events") / "week.jsonl", days=7, seed=3)
    cfg = load_config()
    return path, cfg, replay(read_lines(path), cfg, keep_events=True)


def test_migrations_from_empty_down_and_up_again(pg_db, week):
    _, cfg, _ = week
    with pytest.raises(SchemaOutdated) as exc:
        open_replay_store(pg_db, cfg)
    assert (f"revision none (empty database), expected {db.head_revision()}: run `riskwatch db upgrade --db "
            in str(exc.value))
    assert ":riskwatch@" not in str(exc.value)

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["db", "upgrade", "--db", pg_db])
    assert result.exit_code == 0, result.output
    engine = db.make_engine(pg_db)
    try:
        inspector = sa.inspect(engine)
        assert {t.name for t in tables()} <= set(inspector.get_table_names())
        assert "entity_scores_current" in inspector.get_view_names()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            assert diff == []
            assert conn.execute(sa.text("SELECT count(*) FROM entity_scores_at(now())")).scalar_one() == 0
        db.downgrade(engine, "0001_schema")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT to_regproc('entity_scores_at')")).scalar_one() is None
        db.downgrade(engine, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        db.upgrade(engine)
        db.check_schema(engine)
        open_replay_store(pg_db, cfg).engine.dispose()  # at head now: accepted
    finally:
        engine.dispose()


def test_replay_twice_into_postgres_leaves_identical_rows(pg_head, week):
    from pipeline.cli import app

    path, _, result = week
    runner = CliRunner()
    first = runner.invoke(app, ["replay", str(path), "--db", pg_head, "--json"])
    assert first.exit_code == 0, first.output
    engine = db.make_engine(pg_head)
    try:
        before = kit.dump_tables(engine)
        second = runner.invoke(app, ["replay", str(path), "--db", pg_head, "--json"])
        assert second.exit_code == 0 and second.stdout == first.stdout
        after = kit.dump_tables(engine)
    finally:
        engine.dispose()
    assert after == before
    assert len(before["events"]) == result.accepted
    assert len(before["rejections"]) == len(result.rejections)
    assert len(before["contributions"]) == len(result.contributions)
    assert len(before["alerts"]) == sum(ch.change == "raised" for ch in result.alert_changes)


def test_sql_scores_agree_with_replay_at_its_clock(pg_head, week):
    from pipeline.replay import entity_rows

    path, cfg, result = week
    open_replay_store(pg_head, cfg)(result, source=path)
    expected = {row["entity"]: row for row in entity_rows(result, cfg)}
    engine = db.make_engine(pg_head)
    try:
        got = entity_scores_at(engine, result.now)
        assert set(got) == set(expected)
        for ref, row in expected.items():
            assert abs(got[ref].score - row["score"]) <= 0.01, ref
            if not any(abs(row["score"] - threshold) <= 0.01 for _, threshold in cfg.rules.levels):
                assert got[ref].level == row["level"], ref  # (at a threshold, summation order may tip it)
        # The view is the same function at now(): shift the data so it fired "recently".
        shift = time.time() - result.now
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE contributions SET fired_at = fired_at + make_interval(secs => :s)"),
                         {"s": shift})
        view, at_now = entity_scores_current(engine), entity_scores_at(engine, time.time())
        assert view and set(view) == set(at_now)
        assert all(abs(view[r].score - at_now[r].score) <= 0.01 for r in view)
    finally:
        engine.dispose()


def test_copy_path_and_executemany_path_write_identical_rows(pg_url, server_lock, week, tmp_path):
    """Every table through COPY + staging (threshold 1) and through executemany gives the same rows,
    also when the second write updates alerts and entities."""
    from pipeline.storage.replay_store import entity_records, rejected_messages

    path, cfg, result = week
    batch = dict(events=result.accepted_events[:3000], rejections=rejected_messages(result, path),
                 contributions=result.contributions[:800], alert_changes=result.alert_changes,
                 entities=entity_records(result, cfg), position=("events.raw", 3, 3000))
    dumps = []
    for threshold in (1, 10**9):
        url = pgkit.create_database(pg_url, "test")
        try:
            engine = db.make_engine(url)
            with Writer(engine, copy_threshold=threshold) as writer:
                half = len(result.alert_changes) // 2
                writer.write_batch(alert_changes=result.alert_changes[:half])
                writer.write_batch(**batch)
                writer.write_batch(**batch)
            dump = kit.dump_tables(engine)
            for table in ("processed_positions", "rejections"):  # without the write's clock
                names = [c.name for c in next(t for t in tables() if t.name == table).columns]
                at = names.index("updated_at" if table == "processed_positions" else "received_at")
                dump[table] = [row[:at] + row[at + 1:] for row in dump[table]]
            dumps.append(dump)
            engine.dispose()
        finally:
            pgkit.drop_database(pg_url, url)
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["rejections"]) == len(result.rejections)


def test_purge_removes_exactly_what_it_should(pg_head, week):
    from pipeline.storage.purge import count_purge, purge

    path, cfg, result = week
    open_replay_store(pg_head, cfg)(result, source=path)
    cutoff_t = result.now - 3 * 86400
    cutoff = datetime.fromtimestamp(cutoff_t, UTC)
    kept_events = {e.event_id for e in result.accepted_events if e.t >= cutoff_t}
    kept_contribs = [c for c in result.contributions if c.at >= cutoff_t]
    open_alert_entities = {ch.entity for ch in result.alert_changes}   # replay never resolves
    persons = {c.entity for c in result.contributions if c.entity.startswith("person:")}
    gone_persons = persons - {c.entity for c in kept_contribs} - open_alert_entities
    engine = db.make_engine(pg_head)
    try:
        with engine.begin() as conn:  # one resolved alert: its person may go once its contributions do
            conn.execute(sa.text("UPDATE alerts SET status = 'resolved' WHERE entity LIKE 'person:%' AND entity IN "
                                 "(SELECT entity FROM contributions GROUP BY entity HAVING max(fired_at) < :c)"),
                         {"c": cutoff})
            resolved = {r[0] for r in conn.execute(sa.text("SELECT entity FROM alerts WHERE status = 'resolved'"))}
        gone_persons |= resolved & (persons - {c.entity for c in kept_contribs})
        preview = count_purge(engine, cutoff)
        done = purge(engine, cutoff, actor="test")
        assert preview == done
        assert done.events == result.accepted - len(kept_events)
        assert done.contributions == len(result.contributions) - len(kept_contribs)
        assert done.entities == len(gone_persons)
        with engine.connect() as conn:
            assert {r[0] for r in conn.execute(sa.text("SELECT event_id FROM events"))} == kept_events
            assert conn.execute(sa.text("SELECT count(*) FROM contributions")).scalar_one() == len(kept_contribs)
            refs = {r[0] for r in conn.execute(sa.text("SELECT ref FROM entities"))}
            assert not refs & gone_persons and (persons - gone_persons) <= refs
            audit = conn.execute(sa.text("SELECT action, detail FROM audit_log")).one()
        assert audit.action == "purge"
        assert audit.detail["removed"] == {"events": done.events, "rejections": 0,
                                           "contributions": done.contributions, "entities": done.entities,
                                           "inbox": 0}
    finally:
        engine.dispose()


# -- the database goes away mid-batch (disruptive: it restarts the server) --------------------------


class _PauseAfterFirstStatement:
    """Once armed, the writer's next statement returns only after release(): the batch is then
    mid-transaction on the server, which is where the test stops PostgreSQL."""

    def __init__(self, engine: sa.Engine):
        self.armed = False
        self.reached, self._go = threading.Event(), threading.Event()
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, *_args) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            self._go.wait(30)

    def release(self) -> None:
        self._go.set()


def _ensure_running(cluster: tuple[str, str], pg_url: str) -> None:
    port = str(sa.engine.make_url(pg_url).port or 5432)
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", port], check=False).returncode != 0:
        pgkit.pg_ctl(cluster, "start")
    pgkit.wait_ready(pg_url)


@pytest.mark.disruptive
def test_writer_loses_and_duplicates_nothing_when_postgres_restarts_mid_batch(pg_head, week, pg_url, server_lock):
    cluster = pgkit.local_cluster(pg_url)
    if cluster is None:
        if os.environ.get("CI"):
            pytest.fail("pg_ctlcluster cannot control the PostgreSQL at the test URL", pytrace=False)
        pytest.skip("PostgreSQL is not a local Debian cluster: cannot stop and start it from the test")
    _, _, result = week
    events = result.accepted_events[:6000]
    contributions = result.contributions[: len(events) // 6]
    size = 1000
    batches = [
        dict(events=events[i:i + size], contributions=contributions[i // 6:(i + size) // 6],
             position=("events.raw", 0, i + size))
        for i in range(0, len(events), size)
    ]
    writer = Writer(pg_head, retry_deadline=45.0, max_backoff=0.5, copy_threshold=100)
    pause = _PauseAfterFirstStatement(writer.engine)
    outcome: dict = {}

    def write_rest() -> None:
        try:
            outcome["results"] = [writer.write_batch(**batch) for batch in batches[2:]]
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = exc

    try:
        with server_lock.exclusive():
            pgkit.wait_ready(pg_url)
            try:
                for batch in batches[:2]:
                    writer.write_batch(**batch)
                pause.armed = True
                worker = threading.Thread(target=write_rest, daemon=True)
                worker.start()
                assert pause.reached.wait(20), "the writer never started its batch"
                pgkit.pg_ctl(cluster, "stop", "-m", "fast")   # the batch's transaction dies with the server
                pause.release()
                time.sleep(1.5)                         # the writer retries against a refusing server
                pgkit.pg_ctl(cluster, "start")
                worker.join(50)
                assert not worker.is_alive(), "the writer did not finish after the restart"
            finally:
                pause.release()
                _ensure_running(cluster, pg_url)
        assert "error" not in outcome, repr(outcome.get("error"))
        assert outcome["results"][0].attempts > 1, "the batch was not interrupted"

        with writer.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text("SELECT event_id FROM events"))]
            cids = [r[0] for r in conn.execute(sa.text("SELECT id FROM contributions"))]
        expected_events = {e.event_id for e in events}
        expected_contribs = {contribution_id(c.entity, c.rule, c.at, c.events) for c in contributions}
        assert len(ids) == len(set(ids)), "duplicated events"
        assert set(ids) == expected_events, f"{len(expected_events - set(ids))} events lost"
        assert len(cids) == len(set(cids)), "duplicated contributions"
        assert set(cids) == expected_contribs, f"{len(expected_contribs - set(cids))} contributions lost"
        assert writer.read_position("events.raw", 0) == len(events)
    finally:
        writer.close()
