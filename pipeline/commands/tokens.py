"""`riskwatch tokens create|list|revoke`: bearer tokens (stored as sha256 only) and their roles."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config
from pipeline.errors import UsageError

tokens_app = typer.Typer(help="Bearer tokens for the API and for reveals (viewer, leader, analyst, admin).",
                         no_args_is_help=True)


@tokens_app.command("create")
def create(
    actor: Annotated[str, typer.Argument(help="Who the token belongs to (recorded as the actor in the audit log)")],
    role: Annotated[str, typer.Option("--role", help="viewer, leader, analyst or admin")],
    leader: Annotated[
        Optional[str], typer.Option("--leader", help="Leader id (config/assignments.yaml) for a leader token")
    ] = None,
    expires: Annotated[
        Optional[str], typer.Option("--expires", help="Valid for this long, e.g. 90d (default: until revoked)")
    ] = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from datetime import UTC, datetime

    from pipeline.auth import create_token
    from pipeline.timeutil import parse_duration

    try:
        expires_at = datetime.now(UTC) + parse_duration(expires) if expires is not None else None
    except ValueError as exc:
        raise UsageError(f"--expires: {exc}") from None
    leaders = read_config(config).assignments.leaders
    engine = open_db(db)
    try:
        token = create_token(engine, actor, role, leader, leaders=leaders, expires_at=expires_at)
    finally:
        engine.dispose()
    typer.echo(token)


@tokens_app.command("list")
def list_cmd(db: DbOpt = None) -> None:
    """List tokens: hash prefix, actor, role, leader, created, revoked, expires (never the tokens)."""
    from pipeline.auth import list_tokens

    engine = open_db(db)
    try:
        tokens = list_tokens(engine)
    finally:
        engine.dispose()
    for t in tokens:
        revoked = t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-"
        expires = t.expires_at.isoformat(timespec="seconds") if t.expires_at else "-"
        typer.echo(f"{t.token_hash[:12]}  {t.actor:<20} {t.role:<8} {t.leader_id or '-':<6} "
                   f"{t.created_at.isoformat(timespec='seconds')}  revoked: {revoked}  expires: {expires}")


@tokens_app.command("revoke")
def revoke_cmd(
    token: Annotated[str, typer.Argument(help="The token, or at least 8 hex digits of its hash (tokens list)")],
    db: DbOpt = None,
) -> None:
    """Revoke a token at once (audited)."""
    from pipeline.auth import revoke

    engine = open_db(db)
    try:
        n = revoke(engine, token)
    finally:
        engine.dispose()
    if n == 0:
        raise UsageError("no active token matches")
    typer.echo(f"revoked {n} token(s)")
