"""`riskwatch tokens create`: a leader token names a leader of assignments.yaml; --expires gives an expiry
that pipeline/auth.py enforces wherever a token is checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from pipeline.auth import AccessDenied, create_token, identify, list_tokens
from pipeline.cli import app
from pipeline.errors import UsageError

runner = CliRunner()


def test_a_leader_not_in_assignments_is_refused(engine):
    result = runner.invoke(app, ["tokens", "create", "leader-L99", "--role", "leader", "--leader", "L99",
                                 "--db", str(engine.url)])
    assert result.exit_code == 2
    assert result.stderr.startswith("错误（输入有误）：--leader: no leader 'L99' in assignments.yaml")
    assert list_tokens(engine) == []


def test_a_known_leader_is_accepted(engine):
    result = runner.invoke(app, ["tokens", "create", "leader-L01", "--role", "leader", "--leader", "L01",
                                 "--db", str(engine.url)])
    assert result.exit_code == 0, result.output
    assert identify(engine, result.stdout.strip()).leader_id == "L01"


def test_expires_sets_an_expiry_enforced_by_identify(engine):
    before = datetime.now(UTC)
    result = runner.invoke(app, ["tokens", "create", "analyst-2", "--role", "analyst", "--expires", "90d",
                                 "--db", str(engine.url)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    info = identify(engine, token)
    assert info.expires_at is not None
    assert before + timedelta(days=90) <= info.expires_at <= datetime.now(UTC) + timedelta(days=90)
    assert identify(engine, token, now=info.expires_at - timedelta(seconds=1)).actor == "analyst-2"
    with pytest.raises(AccessDenied, match="expired"):
        identify(engine, token, now=info.expires_at)
    listed = runner.invoke(app, ["tokens", "list", "--db", str(engine.url)])
    assert f"expires: {info.expires_at.isoformat(timespec='seconds')}" in listed.stdout


def test_an_expired_token_is_refused_at_once(engine):
    token = create_token(engine, "viewer-1", "viewer", expires_at=datetime.now(UTC) + timedelta(seconds=1))
    with pytest.raises(AccessDenied, match="expired"):
        identify(engine, token, now=datetime.now(UTC) + timedelta(seconds=2))


def test_without_expires_a_token_never_expires(engine):
    token = create_token(engine, "viewer-1", "viewer")
    assert identify(engine, token, now=datetime(2999, 1, 1, tzinfo=UTC)).expires_at is None


@pytest.mark.parametrize("expires", ["soon", "0d", "-1d"])
def test_a_bad_expiry_is_refused(engine, expires):
    result = runner.invoke(app, ["tokens", "create", "x", "--role", "viewer", "--expires", expires,
                                 "--db", str(engine.url)])
    assert result.exit_code == 2 and "--expires" in result.stderr
    assert list_tokens(engine) == []


def test_an_expiry_in_the_past_is_refused(engine):
    with pytest.raises(UsageError, match="future"):
        create_token(engine, "x", "viewer", expires_at=datetime.now(UTC) - timedelta(days=1))
