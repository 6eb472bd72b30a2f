"""Storage against the real PostgreSQL (scripts/pg-start.sh): migrations, `replay --db` twice, SQL
scores against replay, purge, and a writer that survives the server going away mid-batch.

Each test gets its own database (rw_test_<uuid>), dropped afterwards, so runs never collide.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from pipeline.storage import SchemaOutdated, Writer, db
from pipeline.storage.models import TABLES, metadata
from pipeline.storage.replay_store import open_replay_store
from pipeline.storage.rows import contribution_id
from pipeline.storage.views import entity_scores_at, entity_scores_current

pytestmark = pytest.mark.integration


def _testkit():
    if "storage_testkit" in sys.modules:
        return sys.modules["storage_testkit"]
    path = Path(__file__).resolve().parents[1] / "pipeline" / "storage" / "storage_testkit.py"
    spec = importlib.util.spec_from_file_location("storage_testkit", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["storage_testkit"] = module
    spec.loader.exec_module(module)
    return module


kit = _testkit()


def _admin(pg_url: str) -> sa.Engine:
    return sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True,
                            connect_args={"connect_timeout": 5})


class _ServerLock:
    """A machine-wide readers/writer lock (flock) around the PostgreSQL server: every test here holds
    it shared; the restart test converts it to exclusive, so parallel test runs on this machine
    neither restart the server under each other's tests nor interleave their restarts."""

    PATH = Path(tempfile.gettempdir()) / "riskwatch-pg-restart.lock"

    def __init__(self):
        self.fh = None

    def _flock(self, mode: int, timeout: float) -> None:
        import fcntl

        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fh, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail("another test run held the PostgreSQL restart lock for too long", pytrace=False)
                time.sleep(0.2)

    @contextlib.contextmanager
    def shared(self, timeout: float = 180.0):
        import fcntl

        self.fh = open(self.PATH, "a")
        try:
            self._flock(fcntl.LOCK_SH, timeout)
            yield self
        finally:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None

    @contextlib.contextmanager
    def exclusive(self, timeout: float = 180.0):
        import fcntl

        self._flock(fcntl.LOCK_EX, timeout)
        try:
            yield
        finally:
            self._flock(fcntl.LOCK_SH, timeout)


@pytest.fixture
def server_lock():
    with _ServerLock().shared() as lock:
        yield lock


@pytest.fixture
def pg_db(pg_url, server_lock):
    """URL of a fresh, empty database of its own."""
    name = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = _admin(pg_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    _drop_database(pg_url, name)


def _drop_database(pg_url: str, name: str) -> None:
    """DROP DATABASE, retried: an autovacuum worker may still be busy in it (FORCE may not end it)."""
    admin = _admin(pg_url)
    try:
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :d AND usename = current_user AND pid <> pg_backend_pid()"), {"d": name})
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                return
            except sa.exc.DBAPIError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
    finally:
        admin.dispose()


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

    from pipeline.commands.db import db_app

    result = CliRunner().invoke(db_app, ["upgrade", "--db", pg_db])
    assert result.exit_code == 0, result.output
    engine = db.make_engine(pg_db)
    try:
        inspector = sa.inspect(engine)
        assert {t.name for t in TABLES} <= set(inspector.get_table_names())
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
        open_replay_store(pg_db, cfg)  # at head now: accepted
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
        name = f"rw_test_{uuid.uuid4().hex[:12]}"
        admin = _admin(pg_url)
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        try:
            engine = db.make_engine(url)
            db.upgrade(engine)
            with Writer(engine, copy_threshold=threshold) as writer:
                half = len(result.alert_changes) // 2
                writer.write_batch(alert_changes=result.alert_changes[:half])
                writer.write_batch(**batch)
                writer.write_batch(**batch)
            dump = kit.dump_tables(engine)
            for table in ("processed_positions", "rejections"):  # last column: the write's clock
                dump[table] = [row[:-1] for row in dump[table]]
            dumps.append(dump)
            engine.dispose()
        finally:
            _drop_database(pg_url, name)
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
                                           "contributions": done.contributions, "entities": done.entities}
    finally:
        engine.dispose()


# -- the database goes away mid-batch (keep this test last: it restarts the server) -----------------


def _local_cluster(url: str) -> tuple[str, str] | None:
    """(version, name) of the Debian cluster serving `url`'s port, when it runs on this machine."""
    parsed = sa.engine.make_url(url)
    if parsed.host not in ("127.0.0.1", "localhost", None) or not shutil.which("pg_ctlcluster"):
        return None
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        ver, name, port, *_ = line.split()
        if int(port) == (parsed.port or 5432):
            return ver, name
    return None


def _pg_ctl(cluster: tuple[str, str], action: str, *args: str) -> None:
    """pg_ctlcluster VERSION NAME stop|start; a cluster already in the wanted state is fine (another
    test run on this machine may have started it first)."""
    for attempt in range(3):
        done = subprocess.run(["pg_ctlcluster", *cluster, action, *args], capture_output=True, text=True, timeout=60)
        if done.returncode == 0 or _is_running(cluster) == (action == "start"):
            return
        time.sleep(1)
    out = " ".join((done.stderr + " " + done.stdout).split())
    raise AssertionError(f"pg_ctlcluster {' '.join(cluster)} {action} failed ({done.returncode}): {out}")


def _is_running(cluster: tuple[str, str]) -> bool:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[:2] == list(cluster) and "online" in line for line in out.splitlines())


def _wait_ready(url: str, timeout: float = 30.0) -> None:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        engine.dispose()


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
        _pg_ctl(cluster, "start")
    _wait_ready(pg_url)


def test_writer_loses_and_duplicates_nothing_when_postgres_restarts_mid_batch(pg_head, week, pg_url, server_lock):
    cluster = _local_cluster(pg_url)
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
            _wait_ready(pg_url)
            try:
                for batch in batches[:2]:
                    writer.write_batch(**batch)
                pause.armed = True
                worker = threading.Thread(target=write_rest, daemon=True)
                worker.start()
                assert pause.reached.wait(20), "the writer never started its batch"
                _pg_ctl(cluster, "stop", "-m", "fast")   # the batch's transaction dies with the server
                pause.release()
                time.sleep(1.5)                         # the writer retries against a refusing server
                _pg_ctl(cluster, "start")
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
