"""Migrations (SQLite): up from empty, down and up again, models match migrations, schema checks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeline.storage import db
from pipeline.storage.schema import metadata, tables


def test_upgrade_from_empty_creates_every_table_and_the_view(sqlite_url):
    engine = db.make_engine(sqlite_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    names = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in tables()} <= names
    assert "entity_scores_current" in sa.inspect(engine).get_view_names()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name, threshold FROM levels ORDER BY threshold")).all() == [
            ("medium", 30.0), ("high", 60.0), ("critical", 90.0)]


def test_downgrade_and_upgrade_round_trip(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    db.downgrade(engine, "0001_schema")
    assert db.current_revision(engine) == "0001_schema"
    assert "levels" not in sa.inspect(engine).get_table_names()
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    db.check_schema(engine)


def test_models_match_the_migrations(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_revisions_are_a_single_line():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config())
    assert len(script.get_heads()) == 1, f"more than one migration head: {script.get_heads()}"
    assert {"0001_schema", "0002_scores"} <= db.known_revisions()
    # one line: walking down from the head visits every revision once
    assert len(list(script.walk_revisions())) == len(db.known_revisions())


def test_check_schema_names_the_upgrade_command_and_masks_the_password(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine, "0001_schema")
    with pytest.raises(db.SchemaOutdated) as exc:
        db.check_schema(engine)
    msg = str(exc.value)
    assert msg == (f"database schema at revision 0001_schema, expected {db.head_revision()}: "
                   f"run `riskwatch db upgrade --db {url}`")


def test_unknown_revision_is_refused_even_for_sqlite(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    with pytest.raises(db.SchemaOutdated, match="unknown revision ffff_future"):
        db.open_database(sqlite_url)


def test_open_database_creates_and_upgrades_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'dir' / 'new.db'}"
    engine = db.open_database(url)
    assert db.current_revision(engine) == db.head_revision()
    assert (tmp_path / "sub" / "dir" / "new.db").is_file()


def test_mask_url_hides_passwords():
    assert db.mask_url("postgresql+psycopg://rw:s3cret@db:5432/x") == "postgresql+psycopg://rw:***@db:5432/x"
    assert "s3cret" not in db.mask_url("postgresql://rw:s3cret@db/x?sslmode=require")


def test_unreachable_postgres_is_one_line_without_password():
    url = "postgresql+psycopg://rw:s3cret@127.0.0.1:1/riskwatch"
    with pytest.raises(db.StorageUnavailable) as exc:
        db.open_database(url)
    msg = str(exc.value)
    assert "\n" not in msg and "s3cret" not in msg
    assert msg.startswith("database not reachable at postgresql+psycopg://rw:***@127.0.0.1:1/riskwatch: ")
    assert "refused" in msg


def test_unusable_url_is_storage_unavailable():
    with pytest.raises(db.StorageUnavailable, match="invalid database URL"):
        db.make_engine("nosuchdb://x")


def test_sqlite_in_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(db.StorageUnavailable) as exc:
        db.open_database(f"sqlite:///{blocker}/x.db")
    assert "\n" not in str(exc.value)


def test_the_shipped_revisions_read_from_file_names_are_alembics():
    """db.py reads the head and the known revisions from the file names (no Alembic at start): each
    migration's revision id must be its file name, in one numbered line, as Alembic sees them."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(db.alembic_config())
    revisions = list(scripts.walk_revisions())
    assert db.head_revision() == scripts.get_current_head()
    assert db.known_revisions() == {r.revision for r in revisions}
    for rev in revisions:
        assert rev.path.endswith(f"/{rev.revision}.py"), rev.path
        numbers = [int(r.split("_", 1)[0]) for r in (rev.revision, rev.down_revision) if isinstance(r, str)]
        assert numbers == sorted(numbers, reverse=True) and (len(numbers) == 1 or numbers[0] == numbers[1] + 1)
