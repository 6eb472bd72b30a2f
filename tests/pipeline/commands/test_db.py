"""`riskwatch db upgrade|status` and the one-line exit 2 for a database that cannot be reached."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.storage import db

runner = CliRunner()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'riskwatch.db'}"


def test_upgrade_then_status(sqlite_url):
    head = db.head_revision()
    first = runner.invoke(app, ["db", "upgrade", "--db", sqlite_url])
    assert first.exit_code == 0, first.output
    assert f"upgraded from empty to {head}" in first.output
    again = runner.invoke(app, ["db", "upgrade", "--db", sqlite_url])
    assert again.exit_code == 0 and f"already at {head}" in again.output
    status = runner.invoke(app, ["db", "status", "--db", sqlite_url])
    assert status.exit_code == 0
    assert f"revision: {head}" in status.output and "(up to date)" in status.output
    assert "levels" in status.output and "contributions" in status.output


def test_status_of_an_outdated_database_says_how_to_upgrade(sqlite_url):
    db.upgrade(db.make_engine(sqlite_url), "0001_schema")
    status = runner.invoke(app, ["db", "status", "--db", sqlite_url])
    assert status.exit_code == 0
    assert f"outdated: run `riskwatch db upgrade --db {sqlite_url}`" in status.output


def test_upgrade_works_from_any_directory(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["db", "upgrade", "--db", sqlite_url]).exit_code == 0


def test_unreachable_database_is_one_line_and_exit_2():
    url = "postgresql+psycopg://riskwatch:topsecret@127.0.0.1:1/riskwatch"
    for command in (["upgrade"], ["status"], ["purge", "--before", "30d", "--yes"]):
        result = runner.invoke(app, ["db", *command, "--db", url])
        assert result.exit_code == 2, command
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("错误（服务不可用）：database not reachable at postgresql+psycopg://riskwatch:***@127.0.0.1:1/")
        assert "topsecret" not in result.output


def test_default_database_comes_from_settings(sqlite_url, monkeypatch):
    monkeypatch.setenv("RISKWATCH_DB_URL", sqlite_url)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and sqlite_url in result.output


def test_a_missing_sqlite_file_is_refused_not_created(tmp_path):
    missing = tmp_path / "typo.db"
    url = f"sqlite:///{missing}"
    for command in (["db", "status"], ["db", "purge", "--yes"], ["alerts", "list"], ["tokens", "list"],
                    ["audit", "list"]):
        result = runner.invoke(app, [*command, "--db", url])
        assert result.exit_code == 2, (command, result.output)
        assert result.output.strip().splitlines() == [
            f"错误（环境未就绪）：no SQLite database at {missing}: check the path, or create it with "
            f"`riskwatch db upgrade --db {url}`"
        ]
        assert not missing.exists()


def test_replay_refuses_a_missing_sqlite_file(tmp_path):
    missing = tmp_path / "typo.db"
    events_file = tmp_path / "e.jsonl"
    events_file.write_text("")
    result = runner.invoke(app, ["replay", str(events_file), "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 2 and "no SQLite database" in result.output
    assert not missing.exists()


def test_only_upgrade_creates_the_file(tmp_path):
    path = tmp_path / "new.db"
    assert runner.invoke(app, ["db", "upgrade", "--db", f"sqlite:///{path}"]).exit_code == 0
    assert path.is_file()
    assert runner.invoke(app, ["db", "status", "--db", f"sqlite:///{path}"]).exit_code == 0


def test_a_relative_db_on_the_command_line_is_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["db", "upgrade", "--db", "sqlite:///here.db"]).exit_code == 0
    assert (tmp_path / "here.db").is_file()
    status = runner.invoke(app, ["db", "status", "--db", "sqlite:///here.db"])
    assert status.exit_code == 0 and f"database: sqlite:///{tmp_path / 'here.db'}" in status.output
