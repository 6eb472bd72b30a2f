"""`riskwatch meeting brief --week W [--json]`: the weekly brief of the risk-analysis meeting (§8).

With --json: the contract's JSON object. Without: the weekly review built around it (xlsx + PDF),
the same files as `riskwatch export weekly`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config

meeting_app = typer.Typer(help="The weekly risk-analysis meeting (研判会): its brief.", no_args_is_help=True)


@meeting_app.command("brief")
def brief_cmd(
    week: Annotated[str, typer.Option("--week",
                                      help="ISO week (2024-W46) or any day of it (2024-11-13); as of its Sunday 24:00")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the brief as one JSON object")] = False,
    out: Annotated[Path, typer.Option("--out", help="Directory for the xlsx and PDF (without --json)",
                                      file_okay=False)] = Path("."),
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """The cases as of the week's end, new and closed cases, leaders' caseloads and decisions."""
    from pipeline import audit
    from pipeline.cases.brief import meeting_brief, week_period

    cfg = read_config(config)
    week_period(week, cfg.area)
    engine = open_db(db)
    try:
        if as_json:
            with engine.connect() as conn:
                brief = meeting_brief(conn, cfg.area, cfg.assignments, week)
            typer.echo(json.dumps(brief, ensure_ascii=False))
            return
        from pipeline.exports.review import build_review
        from pipeline.exports.writers import EXPORTERS, write_export

        review = build_review(engine, cfg, week)
        paths = [write_export(review, exporter, out) for exporter in EXPORTERS.values()]
        audit.record(engine, audit.cli_actor(), audit.EXPORT, {"export": "weekly", "week": week,
                                                               "files": [p.name for p in paths]})
    finally:
        engine.dispose()
    for p in paths:
        typer.echo(str(p))
