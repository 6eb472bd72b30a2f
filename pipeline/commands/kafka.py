"""`riskwatch produce` and `riskwatch consume-count`: Kafka from the command line (streams/kafka_io.py).

An unreachable broker or a missing topic is a pipeline.errors class: one line, exit 2.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.common import ConfigDirOpt
from pipeline.errors import UsageError

BootstrapOpt = Annotated[
    Optional[str],
    typer.Option("--bootstrap", help="Kafka bootstrap servers [default: settings kafka_bootstrap / RISKWATCH_KAFKA_BOOTSTRAP]"),
]


def _settings():
    from pipeline.settings import load_settings

    return load_settings()


def _vocabulary(config_dir: Path | None):
    from pipeline.contract import load_vocabulary

    candidates = [config_dir / "vocabulary.yaml"] if config_dir else []
    candidates.append(_settings().config_dir / "vocabulary.yaml")
    path = next((p for p in candidates if p.exists()), candidates[-1])
    return load_vocabulary(path)


def _read_lines(file: Path) -> Iterator[bytes]:
    """The file's lines without their terminators; blank lines carry no event and are skipped."""
    fh = sys.stdin.buffer if str(file) == "-" else open(file, "rb")
    try:
        for line in fh:
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield line
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def produce(
    file: Annotated[Path, typer.Argument(help="JSON Lines file, one event per line ('-' for stdin)", allow_dash=True)],
    topic: Annotated[str, typer.Option(help="Topic to send to")] = "events.raw",
    partitions: Annotated[
        Optional[int], typer.Option(min=1, help="Partitions when the topic is created [default: settings topic_partitions]")
    ] = None,
    bootstrap: BootstrapOpt = None,
    partition_by: Annotated[
        str,
        typer.Option(
            "--partition-by",
            help="occurred_at: equal times on one partition, each partition a time-ordered subsequence of a "
            "time-ordered file (what the stream's clock: event needs, docs/stream.md); event_id: Kafka's default "
            "partitioner on the key, as a live producer does. Either way every message is keyed by its event_id "
            "and all copies of an event_id go to one partition",
        ),
    ] = "occurred_at",
) -> None:
    """Send every line of FILE as one message to TOPIC, creating the topic when it is missing."""
    from streams.kafka_io import create_topic, produce_lines

    if str(file) != "-" and not file.is_file():
        raise UsageError(f"{file}: no such file")
    if partition_by not in ("occurred_at", "event_id"):
        raise UsageError("--partition-by must be occurred_at or event_id")
    settings = _settings()
    bootstrap = bootstrap or settings.kafka_bootstrap
    wanted = partitions or settings.topic_partitions
    actual = create_topic(bootstrap, topic, wanted, settings.topic_replication)
    from streams.partitioning import OccurredAtPartitioner, event_id_key

    partition_fn = OccurredAtPartitioner(actual) if partition_by == "occurred_at" else None
    sent = produce_lines(bootstrap, topic, _read_lines(file), key_fn=event_id_key, partition_fn=partition_fn)
    mismatch = partitions is not None and actual != partitions
    note = f" (the topic already existed: --partitions {partitions} not applied)" if mismatch else ""
    typer.echo(f"produced {sent} messages to {topic} ({actual} partitions) at {bootstrap}{note}")


def consume_count(
    topic: Annotated[str, typer.Option(help="Topic to read")] = "events.raw",
    bootstrap: BootstrapOpt = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds allowed to reach the end of the topic")] = 60.0,
    config: ConfigDirOpt = None,
) -> None:
    """Read TOPIC from the beginning to its current end and count messages, valid events and rejections.

    Validation is the event contract (docs/contract.md §1), future_timestamp against the wall clock with the
    clock_skew setting as in every mode; duplicates are repeated event_ids among the valid events. Nothing is
    committed: the topic is left as it was.
    """
    from pipeline.contract import Rejection, parse_event
    from streams.kafka_io import iter_messages

    vocab = _vocabulary(config)
    settings = _settings()
    bootstrap = bootstrap or settings.kafka_bootstrap
    total = valid = duplicates = 0
    reasons: Counter[str] = Counter()
    seen: set[str] = set()
    for record in iter_messages(bootstrap, topic, timeout):
        total += 1
        result = parse_event(record.value if record.value is not None else b"", vocab,
                             max_skew=settings.clock_skew_seconds)
        if isinstance(result, Rejection):
            reasons[result.reason] += 1
            continue
        valid += 1
        if result.event_id in seen:
            duplicates += 1
        else:
            seen.add(result.event_id)
    rejected = sum(reasons.values())
    # Most frequent first; ties by name so that the line does not depend on partition order.
    detail = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    typer.echo(
        f"{topic}: {total} messages, {valid} valid ({duplicates} duplicate event_ids), "
        f"{rejected} rejected{': ' + detail if detail else ''}"
    )

