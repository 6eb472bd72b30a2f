"""`riskwatch topics delete --yes`: remove one stream deployment from the broker (streams/topics.py).

A deployment is its topic prefix and app id: the eight topics (events.raw, events.dlq, events.ingested,
events.by-entity, risk.updates, alerts and the two table changelogs, all named with the prefix) and
its two consumer groups (`<app_id>-ingest` for events.raw, `<app_id>` for the rest). Stop its workers
first: the broker refuses to delete a group that still has members, and says so (exit 5).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from pipeline.errors import UsageError

topics_app = typer.Typer(help="The stream deployment's Kafka topics and consumer groups.", no_args_is_help=True)


@topics_app.command("delete")
def delete_command(
    yes: Annotated[bool, typer.Option("--yes", help="Really delete: the topics' messages are gone for good")] = False,
    topic_prefix: Annotated[
        Optional[str], typer.Option("--topic-prefix", help="Prefix of the topic names [default: settings topic_prefix]")
    ] = None,
    app_id: Annotated[
        Optional[str], typer.Option("--app-id", help="App id, the consumer groups' name [default: settings app_id]")
    ] = None,
    bootstrap: Annotated[
        Optional[str], typer.Option("--bootstrap", help="Kafka bootstrap servers [default: settings kafka_bootstrap]")
    ] = None,
) -> None:
    """Delete every topic and consumer group of one deployment (prefix and app id)."""
    from pipeline.settings import load_settings
    from streams.topics import TopicNames, delete_deployment

    overrides: dict[str, Any] = {k: v for k, v in {"topic_prefix": topic_prefix, "app_id": app_id,
                                   "kafka_bootstrap": bootstrap}.items() if v is not None}
    settings = load_settings(**overrides)
    names = TopicNames.make(settings.topic_prefix, settings.app_id)
    if not yes:
        listed = ", ".join(names.all_topics)
        raise UsageError(f"this deletes the topics {listed} and the consumer groups {', '.join(names.groups)} "
                         f"at {settings.kafka_bootstrap}: add --yes to do it")
    topics, groups = delete_deployment(settings.kafka_bootstrap, names)
    typer.echo(f"deleted {len(topics)} topics ({', '.join(topics) or '-'}) and "
               f"{len(groups)} consumer groups ({', '.join(groups) or '-'}) at {settings.kafka_bootstrap}")
