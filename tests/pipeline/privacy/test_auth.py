"""Tokens: stored as sha256 only, roles checked by require_role, revocation, the tokens command."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.auth import AccessDenied, create_token, require_role
from pipeline.cli import app
from pipeline.storage.models import ApiToken


def test_only_the_hash_is_stored(engine):
    token = create_token(engine, "analyst-1", "analyst")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ApiToken.__table__)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in str(tuple(r)) for r in rows)


def test_require_role(engine, tokens):
    assert require_role(engine, tokens["analyst"], ("analyst", "admin")) == "analyst-1"
    assert require_role(engine, tokens["leader"], ("leader",)) == "leader-L01"
    with pytest.raises(AccessDenied, match="role viewer"):
        require_role(engine, tokens["viewer"], ("analyst", "admin"))
    with pytest.raises(AccessDenied, match="required"):
        require_role(engine, None, ("admin",))
    with pytest.raises(AccessDenied, match="unknown"):
        require_role(engine, tokens["admin"] + "x", ("admin",))


def test_bad_requests(engine):
    with pytest.raises(ValueError, match="unknown role"):
        create_token(engine, "x", "superuser")
    with pytest.raises(ValueError, match="--leader"):
        create_token(engine, "x", "leader")


def test_tokens_command(engine):
    url = str(engine.url)
    runner = CliRunner()
    made = runner.invoke(app, ["tokens", "create", "analyst-2", "--role", "analyst", "--db", url])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert require_role(engine, token, ("analyst",)) == "analyst-2"
    listed = runner.invoke(app, ["tokens", "list", "--db", url])
    prefix = hashlib.sha256(token.encode()).hexdigest()[:12]
    assert prefix in listed.stdout and token not in listed.stdout
    assert runner.invoke(app, ["tokens", "revoke", prefix, "--db", url]).exit_code == 0
    with pytest.raises(AccessDenied, match="revoked"):
        require_role(engine, token, ("analyst",))
    assert runner.invoke(app, ["tokens", "revoke", prefix, "--db", url]).exit_code == 2
