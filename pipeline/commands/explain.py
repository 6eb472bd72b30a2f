"""`riskwatch explain ENTITY EVENTS.jsonl`: why an entity has its score, in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.common import ConfigDirOpt, RulesOpt, read_config, time_option
from pipeline.errors import UsageError


def explain_command(
    entity: Annotated[str, typer.Argument(help="Entity reference, e.g. person:P-0101 or location:HD-1-1203")],
    events: Annotated[Path, typer.Argument(help="JSON Lines file of events")],
    config: ConfigDirOpt = None,
    rules: RulesOpt = None,
    until: Annotated[Optional[str], typer.Option(help="Clock for the explanation (RFC 3339)")] = None,
) -> None:
    """Replay the file and explain one entity's score: every contribution, its rule, decay and evidence."""
    from rich.console import Console

    from pipeline.explain import explain_entity
    from pipeline.replay import read_lines, replay

    until_t = time_option(until, "--until")
    if not events.is_file():
        raise UsageError(f"no such file: {events}")
    cfg = read_config(config, rules)
    result = replay(read_lines(events), cfg, until=until_t, keep_events=True)
    Console().print(explain_entity(entity, result, cfg))
