"""`riskwatch db upgrade|status` and the one-line exit 2 for a database that cannot be reached."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.commands.db import db_app
from pipeline.storage import db

runner = CliRunner()


def test_upgrade_then_status(sqlite_url):
    head = db.head_revision()
    first = runner.invoke(db_app, ["upgrade", "--db", sqlite_url])
    assert first.exit_code == 0, first.output
    assert f"upgraded from empty to {head}" in first.output
    again = runner.invoke(db_app, ["upgrade", "--db", sqlite_url])
    assert again.exit_code == 0 and f"already at {head}" in again.output
    status = runner.invoke(db_app, ["status", "--db", sqlite_url])
    assert status.exit_code == 0
    assert f"revision: {head}" in status.output and "(up to date)" in status.output
    assert "levels" in status.output and "contributions" in status.output


def test_status_of_an_outdated_database_says_how_to_upgrade(sqlite_url):
    db.upgrade(db.make_engine(sqlite_url), "0001_schema")
    status = runner.invoke(db_app, ["status", "--db", sqlite_url])
    assert status.exit_code == 0
    assert f"outdated: run `riskwatch db upgrade --db {sqlite_url}`" in status.output


def test_upgrade_works_from_any_directory(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(db_app, ["upgrade", "--db", sqlite_url]).exit_code == 0


def test_unreachable_database_is_one_line_and_exit_2():
    url = "postgresql+psycopg://riskwatch:topsecret@127.0.0.1:1/riskwatch"
    for command in (["upgrade"], ["status"], ["purge", "--before", "30d", "--yes"]):
        result = runner.invoke(db_app, [*command, "--db", url])
        assert result.exit_code == 2, command
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error: database not reachable at postgresql+psycopg://riskwatch:***@127.0.0.1:1/")
        assert "topsecret" not in result.output


def test_default_database_comes_from_settings(sqlite_url, monkeypatch):
    monkeypatch.setenv("RISKWATCH_DB_URL", sqlite_url)
    result = runner.invoke(db_app, ["upgrade"])
    assert result.exit_code == 0 and sqlite_url in result.output
