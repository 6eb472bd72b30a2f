"""Source tokens: `riskwatch sources create|list|revoke` and the lookup ingest does per request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import AccessDenied, NotFound, UsageError
from pipeline.ingest import sources


def test_a_token_is_bound_to_its_source_and_stored_only_as_its_hash(engine):
    token = sources.create(engine, "patrol-app-prod", "patrol-app", created_by="test")
    found = sources.identify(engine, token)
    assert (found.name, found.source) == ("patrol-app-prod", "patrol-app")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT * FROM ingest_sources")).mappings().one()
        audit = conn.execute(sa.text("SELECT action FROM audit_log")).scalars().all()
    assert token not in str(dict(stored)) and stored["token_hash"] == found.token_hash
    assert audit == [sources.SOURCE_CREATE]


def test_missing_unknown_and_revoked_tokens_are_refused(engine):
    token = sources.create(engine, "sensors", "sensor-gw", created_by="test")
    with pytest.raises(AccessDenied):
        sources.identify(engine, None)
    with pytest.raises(AccessDenied):
        sources.identify(engine, token + "x")
    assert sources.revoke(engine, "sensors", revoked_by="test") == 1
    with pytest.raises(AccessDenied, match="revoked"):
        sources.identify(engine, token)
    with pytest.raises(NotFound):
        sources.revoke(engine, "sensors", revoked_by="test")


def test_one_active_token_per_name_and_names_are_checked(engine):
    sources.create(engine, "sensors", "sensor-gw", created_by="test")
    with pytest.raises(UsageError, match="already has an active token"):
        sources.create(engine, "sensors", "sensor-gw", created_by="test")
    with pytest.raises(UsageError):
        sources.create(engine, "巡查 app", "patrol-app", created_by="test")
    with pytest.raises(UsageError):
        sources.create(engine, "long-source", "x" * 65, created_by="test")


def test_the_commands_print_the_token_alone_on_the_last_line_and_never_again(engine, tmp_path):
    url = str(engine.url)
    runner = CliRunner()
    created = runner.invoke(app, ["sources", "create", "patrol-app-prod", "--source", "patrol-app", "--db", url])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith(sources.TOKEN_PREFIX) and " " not in token
    assert sources.identify(engine, token).source == "patrol-app"
    listed = runner.invoke(app, ["sources", "list", "--db", url])
    assert "patrol-app-prod" in listed.stdout and token not in listed.stdout
    revoked = runner.invoke(app, ["sources", "revoke", "patrol-app-prod", "--db", url])
    assert revoked.exit_code == 0
    again = runner.invoke(app, ["sources", "revoke", "patrol-app-prod", "--db", url])
    assert again.exit_code == NotFound.exit_code
