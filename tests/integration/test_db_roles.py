"""Database roles on the real PostgreSQL (scripts/pg-start.sh creates them): migrations run as the schema owner,
the runtime role every service holds can only append to the audit log, and Grafana's role can make neither
large objects nor TEMP tables.

The scratch database is created and migrated by riskwatch_owner, as `riskwatch db upgrade` does with
RISKWATCH_DB_OWNER_URL; the runtime role is the one of RISKWATCH_TEST_PG_URL (`riskwatch`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline import audit
from pipeline.cli import app
from pipeline.storage import db
from pipeline.storage.purge import purge
from pipeline.storage.replay_store import open_replay_store
from tests.integration import pgkit
from tests.pipeline.storage import storage_testkit as kit

pytestmark = pytest.mark.integration


def as_role(url: str, user: str, database: str | None = None) -> str:
    """`url` with the development credentials of `user` (password = name, scripts/pg-start.sh)."""
    parsed = sa.engine.make_url(url).set(username=user, password=user)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def on_database(url: str, database: str) -> str:
    return sa.engine.make_url(url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def owner_url(pg_url) -> str:
    return os.environ.get("RISKWATCH_TEST_PG_OWNER_URL") or as_role(pg_url, "riskwatch_owner")


@pytest.fixture(scope="module")
def grafana_url(pg_url) -> str:
    return os.environ.get("RISKWATCH_TEST_PG_GRAFANA_URL") or as_role(pg_url, "riskwatch_grafana")


@pytest.fixture(scope="module")
def owned(owner_url, pg_url):
    """(runtime URL, owner URL) of a scratch database the owner role created and migrated."""
    with pgkit.ServerLock().shared(), pgkit.scratch_database(owner_url, "roles") as url:
        name = sa.engine.make_url(url).database
        yield on_database(pg_url, name), url


def refused(url: str, sql: str) -> str:
    """The error PostgreSQL gives `sql` run by the role of `url` (the test fails when it succeeds)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError) as info:
                conn.execute(sa.text(sql))
            return str(info.value.orig)
    finally:
        engine.dispose()


def audit_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    finally:
        engine.dispose()


def test_tables_belong_to_the_owner_not_to_the_runtime_role(owned):
    runtime, owner = owned
    engine = sa.create_engine(runtime)
    try:
        with engine.connect() as conn:
            owners = set(conn.execute(sa.text(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
            me = conn.execute(sa.text("SELECT current_user")).scalar_one()
    finally:
        engine.dispose()
    assert owners == {sa.engine.make_url(owner).username}
    assert me not in owners


@pytest.mark.parametrize("sql", [
    "ALTER TABLE audit_log DISABLE TRIGGER USER",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "DELETE FROM audit_log",
    "UPDATE audit_log SET actor = 'someone else'",
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
    "DROP TABLE audit_log CASCADE",
    "ALTER TABLE audit_log RENAME TO old_audit_log",
    "CREATE TABLE audit_copy AS SELECT * FROM audit_log",
    "UPDATE alembic_version SET version_num = '0001_schema'",
])
def test_the_runtime_role_cannot_rewrite_the_audit_log(owned, sql):
    runtime, _ = owned
    engine = db.make_engine(runtime)
    try:
        audit.record(engine, "cli:test", audit.EXPORT, {"kind": "weekly"})
    finally:
        engine.dispose()
    before = audit_count(runtime)
    message = refused(runtime, sql)
    assert "permission denied" in message or "must be owner" in message, message
    assert audit_count(runtime) == before


def test_the_runtime_role_runs_the_pipeline(owned, tmp_path):
    """Replay through the COPY staging tables, an audited purge, the audit log read back: all as the runtime role."""
    from pipeline.configset import load_config
    from pipeline.replay import read_lines, replay

    runtime, _ = owned
    path = kit.write_events(tmp_path / "week.jsonl", days=2, seed=5)
    cfg = load_config()
    result = replay(read_lines(path), cfg, keep_events=True)
    open_replay_store(runtime, cfg)(result, source=path)
    engine = db.make_engine(runtime)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == len(result.accepted_events)
        purge(engine, datetime(2000, 1, 1, tzinfo=UTC), actor="test")
        assert audit.list_records(engine, action=audit.PURGE)
    finally:
        engine.dispose()


def test_db_upgrade_migrates_with_the_owner_url(owner_url, pg_url, monkeypatch):
    with pgkit.ServerLock().shared(), pgkit.scratch_database(owner_url, "upgrade", migrate=False) as url:
        runtime = on_database(pg_url, sa.engine.make_url(url).database)
        monkeypatch.setenv("RISKWATCH_DB_URL", runtime)
        monkeypatch.setenv("RISKWATCH_DB_OWNER_URL", url)
        result = CliRunner().invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "riskwatch_owner:" not in result.output or "***" in result.output
        engine = sa.create_engine(runtime)
        try:
            with engine.connect() as conn:
                owner = conn.execute(sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'")).scalar_one()
        finally:
            engine.dispose()
        assert owner == "riskwatch_owner"


@pytest.mark.parametrize("sql", [
    "SELECT lo_from_bytea(0, 'x'::bytea)",
    "SELECT lo_create(0)",
    "SELECT lo_creat(-1)",
    "CREATE TEMP TABLE scratch (x int)",
])
def test_the_grafana_role_makes_no_large_objects_nor_temp_tables(grafana_url, sql):
    # the database scripts/pg-start.sh prepares; a read-write transaction, so it is the privilege that refuses
    message = refused(grafana_url, f"SET TRANSACTION READ WRITE; {sql}")
    assert "permission denied" in message, message


def test_the_grafana_role_makes_no_temp_tables_in_a_migrated_database(owned, grafana_url):
    runtime, _ = owned
    name = sa.engine.make_url(runtime).database
    message = refused(on_database(grafana_url, name), "SET TRANSACTION READ WRITE; CREATE TEMP TABLE scratch (x int)")
    assert "permission denied" in message, message


def test_compose_gives_the_owner_credentials_to_the_migration_only():
    """docker-compose.yml: every riskwatch service connects as the runtime role; only the one-shot
    `migrate` holds the owner's URL; the postgres image runs config/postgres/10-roles.sh, which makes
    the same roles and revocations as scripts/pg-start.sh."""
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    services = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    for name, service in services.items():
        env = service.get("environment") or {}
        if (service.get("command") or [None])[0] != "riskwatch":
            continue
        assert sa.engine.make_url(re.sub(r"\$\{[^}]*\}", "x", env["RISKWATCH_DB_URL"])).username == "riskwatch", name
        assert ("RISKWATCH_DB_OWNER_URL" in env) == (name == "migrate"), name
    assert "riskwatch_owner" in services["migrate"]["environment"]["RISKWATCH_DB_OWNER_URL"]
    assert "./config/postgres/10-roles.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro" in services["postgres"]["volumes"]
    script = (root / "config" / "postgres" / "10-roles.sh").read_text(encoding="utf-8")
    for sql in ("CREATE ROLE riskwatch_owner LOGIN", "CREATE ROLE riskwatch_app NOLOGIN",
                "CREATE ROLE riskwatch LOGIN PASSWORD :'app_pw' IN ROLE riskwatch_app",
                "CREATE ROLE riskwatch_grafana LOGIN", 'ALTER DATABASE :"db" OWNER TO riskwatch_owner',
                'REVOKE TEMPORARY ON DATABASE :"db" FROM PUBLIC', "lo_from_bytea(oid, bytea)"):
        assert sql in script, sql
    pg_start = (root / "scripts" / "pg-start.sh").read_text(encoding="utf-8")
    assert "lo_from_bytea(oid, bytea)" in pg_start and "GRANT riskwatch_app TO $DB" in pg_start
