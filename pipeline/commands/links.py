"""`riskwatch links revoke --leader L05`: every alert-page link of the leader issued until now stops
working (pipeline/web/revocation.py); the link secret stays, new notices carry working links."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config
from pipeline.errors import UsageError

links_app = typer.Typer(help="Alert-page links in notifications: revoke a leader's links.", no_args_is_help=True)


@links_app.command("revoke")
def revoke_cmd(
    leader: Annotated[str, typer.Option("--leader", help="Leader id of config/assignments.yaml, e.g. L05")],
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Revoke every link of LEADER issued until now (audited); links issued later work."""
    from pipeline import audit
    from pipeline.labels import time_text
    from pipeline.web.revocation import revoke_links

    assignments = read_config(config).assignments
    if leader not in assignments.leaders:
        raise UsageError(f"--leader {leader}: no such leader in assignments.yaml "
                         f"(one of {', '.join(sorted(assignments.leaders))})")
    engine = open_db(db)
    try:
        at = revoke_links(engine, leader, audit.cli_actor())
    finally:
        engine.dispose()
    typer.echo(f"{leader}（{assignments.leaders[leader].name}）在 {time_text(at, year=True)} 之前收到的预警链接已全部停用。")
