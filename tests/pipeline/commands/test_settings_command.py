"""`riskwatch settings` lists db_owner_url (the migrations' role) beside db_url, with neither password shown."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app


def test_database_urls_are_listed_without_their_passwords(monkeypatch):
    monkeypatch.setenv("RISKWATCH_DB_URL", "postgresql+psycopg://riskwatch:run-s3cret@db:5432/riskwatch")
    monkeypatch.setenv("RISKWATCH_DB_OWNER_URL", "postgresql+psycopg://riskwatch_owner:own-s3cret@db:5432/riskwatch")
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, ["settings"])
    assert result.exit_code == 0, result.output
    assert "RISKWATCH_DB_OWNER_URL" in result.output and "riskwatch_owner" in result.output
    assert "s3cret" not in result.output
