"""`riskwatch explain ENTITY [EVENTS.jsonl] [--db URL] [--until TIME]`: why an entity has its score, in Chinese.

With a file the events are replayed; otherwise the stored contributions are read from the database
(`--db`, default the settings'), which answers at once. ENTITY is a ref (person:P-0101) or just the id
(P-0101).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, RulesOpt, read_config, time_option
from pipeline.errors import UsageError


def explain_command(
    entity: Annotated[str, typer.Argument(help="Entity: a ref (person:P-0101, location:HD-1-1203) or its id (P-0101)")],
    events: Annotated[Optional[Path], typer.Argument(help="JSON Lines file of events to replay (default: read --db)")] = None,
    config: ConfigDirOpt = None,
    rules: RulesOpt = None,
    until: Annotated[Optional[str], typer.Option(help="The state at this time (RFC 3339; default: the latest event)")] = None,
    db: DbOpt = None,
) -> None:
    """Explain one entity's score: every contribution still counting, its rule, decay and evidence, the alert,
    and the history that has decayed."""
    from datetime import UTC, datetime

    from rich.console import Console

    from pipeline import explain

    until_t = time_option(until, "--until")
    cfg = read_config(config, rules)
    if events is not None:
        from pipeline.replay import read_lines, replay

        if db is not None:
            raise UsageError("explain reads either an events file or --db, not both")
        if not events.is_file():
            raise UsageError(f"no such file: {events}")
        result = replay(read_lines(events), cfg, until=until_t, keep_events=True)
        found = explain.from_replay(entity, result, cfg)
    else:
        engine = open_db(db)
        try:
            with engine.connect() as conn:
                found = explain.from_database(
                    conn, entity, None if until_t is None else datetime.fromtimestamp(until_t, UTC))
        finally:
            engine.dispose()
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(explain.render(found, cfg))
