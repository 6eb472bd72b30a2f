"""`riskwatch sources create|list|revoke`: the tokens event producers post with (POST /v1/events)."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config

sources_app = typer.Typer(help="Source tokens for HTTP ingest (POST /v1/events), each bound to one event `source`.",
                          no_args_is_help=True)


@sources_app.command("create")
def create_cmd(
    name: Annotated[str, typer.Argument(help="Name of the producing system, e.g. patrol-app-prod")],
    source: Annotated[str, typer.Option("--source", help="The `source` value its events must carry, e.g. patrol-app")],
    db: DbOpt = None,
    config: ConfigDirOpt = None,
) -> None:
    """Create a token and print it once, alone on the last line (only its hash is stored)."""
    from pipeline.ingest.sources import create

    read_config(config)  # --config on every command (docs/contract.md §5): a refused one refuses the command
    engine = open_db(db)
    try:
        token = create(engine, name, source)
    finally:
        engine.dispose()
    typer.echo(f"source {name}: events must carry \"source\": \"{source}\"; the token is shown only now:")
    typer.echo(token)


@sources_app.command("list")
def list_cmd(db: DbOpt = None, config: ConfigDirOpt = None) -> None:
    """List source tokens: hash prefix, name, source, created, revoked (never the tokens)."""
    from pipeline.ingest.sources import list_sources

    read_config(config)
    engine = open_db(db)
    try:
        found = list_sources(engine)
    finally:
        engine.dispose()
    for s in found:
        revoked = s.revoked_at.isoformat(timespec="seconds") if s.revoked_at else "-"
        typer.echo(f"{s.token_hash[:12]}  {s.name:<24} {s.source:<20} "
                   f"{s.created_at.isoformat(timespec='seconds')}  revoked: {revoked}")


@sources_app.command("revoke")
def revoke_cmd(
    name: Annotated[str, typer.Argument(help="The source name given to `sources create`")],
    db: DbOpt = None,
    config: ConfigDirOpt = None,
) -> None:
    """Revoke the source's token at once (audited); its requests get 401 from then on."""
    from pipeline.ingest.sources import revoke

    read_config(config)
    engine = open_db(db)
    try:
        n = revoke(engine, name)
    finally:
        engine.dispose()
    typer.echo(f"revoked {n} token(s) of source {name}")
