"""`riskwatch worker [--clock wall|event] [--until-drained] [--config DIR] [--db URL] ...`: the stream.

Registered by pipeline/cli.py as `app.command("worker")(worker_command)`. Settings come from
config/settings.yaml and RISKWATCH_* (kafka_bootstrap, db_url, clock, app_id, topic_prefix,
topic_partitions, ...); the options override them for this run. Exit code 0 after a clean stop
(SIGTERM/SIGINT, or the input drained with --until-drained), 2 for a bad command line, refused
config, unreachable broker or database, or a database at the wrong migration.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from pipeline.commands.access import db_url
from pipeline.commands.common import ConfigDirOpt, RulesOpt, read_config
from pipeline.errors import UsageError


def worker_command(
    config: ConfigDirOpt = None,
    rules: RulesOpt = None,
    clock: Annotated[
        Optional[str], typer.Option(help="Engine clock: wall (live) or event (backfills, tests) [default: settings clock]")
    ] = None,
    until_drained: Annotated[
        bool, typer.Option("--until-drained", help="Stop cleanly once everything in events.raw is in the database")
    ] = False,
    db: Annotated[Optional[str], typer.Option(help="Database URL [default: settings db_url]")] = None,
    bootstrap: Annotated[Optional[str], typer.Option(help="Kafka bootstrap servers [default: settings kafka_bootstrap]")] = None,
    app_id: Annotated[Optional[str], typer.Option("--app-id", help="Consumer group / app id [default: settings app_id]")] = None,
    topic_prefix: Annotated[
        Optional[str], typer.Option(help="Prefix of the topic names [default: settings topic_prefix]")
    ] = None,
    partitions: Annotated[
        Optional[int], typer.Option(min=1, help="Partitions of topics created now [default: settings topic_partitions]")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run the streaming pipeline: events.raw -> validate, de-duplicate, score -> database (JSON logs on stderr)."""
    from pipeline.settings import load_settings

    if clock not in (None, "wall", "event"):
        raise UsageError("--clock must be wall or event")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise UsageError("--log-level must be debug, info, warning or error")
    overrides: dict[str, Any] = {k: v for k, v in {
        "clock": clock, "db_url": db_url(db), "kafka_bootstrap": bootstrap, "app_id": app_id,
        "topic_prefix": topic_prefix, "topic_partitions": partitions,
    }.items() if v is not None}
    settings = load_settings(**overrides)
    cfg = read_config(config or settings.config_dir, rules)

    from streams.worker import run_worker

    code = run_worker(settings, cfg, clock=settings.clock, until_drained=until_drained, log_level=log_level.lower())
    raise typer.Exit(code)

