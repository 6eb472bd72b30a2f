"""`riskwatch status [--json] [--interval S]`: the stream's health (streams/status.py).

Registered by pipeline/cli.py as `app.command("status")(status_command)`. Exit code 0 when Kafka and
the database answered, 1 when one of them did not (the rest is still shown), 2 for a bad command line.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from pipeline.commands.access import db_url


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
    interval: Annotated[float, typer.Option(min=0, help="Seconds between the two samples of events/s (0: skip)")] = 2.0,
    db: Annotated[Optional[str], typer.Option(help="Database URL [default: settings db_url]")] = None,
    bootstrap: Annotated[Optional[str], typer.Option(help="Kafka bootstrap servers [default: settings kafka_bootstrap]")] = None,
    app_id: Annotated[Optional[str], typer.Option("--app-id", help="Consumer group / app id [default: settings app_id]")] = None,
    topic_prefix: Annotated[
        Optional[str], typer.Option(help="Prefix of the topic names [default: settings topic_prefix]")
    ] = None,
) -> None:
    """Consumer lag per partition, events/s, DLQ count and the last processed position of the stream."""
    import orjson

    from pipeline.settings import load_settings
    from streams.status import collect
    from streams.topics import TopicNames

    overrides: dict[str, Any] = {k: v for k, v in {"db_url": db_url(db), "kafka_bootstrap": bootstrap, "app_id": app_id,
                                   "topic_prefix": topic_prefix}.items() if v is not None}
    settings = load_settings(**overrides)
    names = TopicNames.make(settings.topic_prefix, settings.app_id)
    status = collect(settings.kafka_bootstrap, names, settings.db_url, interval)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(status.as_dict()) + b"\n")
    else:
        _print(status)
    raise typer.Exit(1 if status.errors else 0)


def _print(status) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="lag per partition")
    for col in ("topic", "partition", "group", "committed", "end", "lag"):
        table.add_column(col, justify="left" if col == "topic" else "right")
    for row in status.lag:
        committed = "-" if row["committed"] is None else str(row["committed"])
        table.add_row(row["topic"], str(row["partition"]), row["group"], committed, str(row["end"]), str(row["lag"]))
    console.print(table)
    rate = "-" if status.events_per_s is None else f"{status.events_per_s:g}"
    console.print(f"events/s (events.raw, committed): {rate}")
    console.print(f"DLQ messages: {'-' if status.dlq_messages is None else status.dlq_messages}; "
                  f"rejections stored: {'-' if status.rejections_stored is None else status.rejections_stored}")
    for p in status.positions:
        console.print(f"last processed position {p['topic']}/{p['partition']}: next offset {p['next_offset']} "
                      f"(at {p['updated_at']})")
    for error in status.errors:
        console.print(f"[red]error:[/red] {error}")
