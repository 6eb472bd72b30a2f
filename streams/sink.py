"""Sink: events.ingested, events.dlq, risk.updates and alerts -> the database, in batches.

A batch of messages becomes ONE transaction of the storage writer (pipeline/storage/writer.py:
idempotent upserts keyed by event_id, contribution identity, alert id, (topic, partition, offset)),
together with the duplicates and the processed positions; the worker commits the batch's offsets only
after that transaction committed. When the database is away the batch is retried with backoff until
it is written, and nothing is committed meanwhile: nothing is lost, and a batch written twice (a crash
between the database commit and the offset commit) leaves the same rows.

Positions (processed_positions): per topic partition the sink read, the next offset; and per
events.raw partition, one past the greatest source offset stored (accepted, rejected or duplicate),
which `riskwatch status` shows as the last processed position. Positions only move forward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.storage import models as m
from pipeline.storage.rows import EntityRecord, RejectedMessage
from pipeline.storage.stream_tables import Duplicate
from pipeline.storage.writer import BatchResult, Writer
from streams import codec
from streams.topics import TopicNames

log = logging.getLogger("riskwatch.stream.sink")


@dataclass
class SinkBatch:
    events: list[Event] = field(default_factory=list)
    rejections: list[RejectedMessage] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    alert_changes: list[AlertChange] = field(default_factory=list)
    entities: list[EntityRecord] = field(default_factory=list)
    duplicates: list[tuple] = field(default_factory=list)      # (source, partition, offset, event_id, first p, first o)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)

    def advance(self, topic: str, partition: int, next_offset: int) -> None:
        key = (topic, partition)
        if next_offset > self.positions.get(key, -1):
            self.positions[key] = next_offset

    @property
    def rows(self) -> int:
        return (len(self.events) + len(self.rejections) + len(self.contributions) + len(self.alert_changes)
                + len(self.entities) + len(self.duplicates))


def decode(messages, names: TopicNames) -> SinkBatch:
    """messages: (topic, partition, offset, value bytes) from the sink's four topics."""
    batch = SinkBatch()
    raw_topic = names.raw
    for topic, partition, offset, value in messages:
        batch.advance(topic, partition, offset + 1)
        if value is None:
            continue
        if topic == names.updates:
            record = codec.update_of(value)
            if isinstance(record, EntityRecord):
                batch.entities.append(record)
            else:
                batch.contributions.append(record)
        elif topic == names.alerts:
            batch.alert_changes.append(codec.alert_of(value))
        elif topic == names.ingested:
            doc = codec.loads(value)
            p = doc["p"]
            last = -1
            for t, o, event in doc["e"]:
                batch.events.append(codec.event_of(t, event))
                last = max(last, o)
            for eid, o, first_p, first_o in doc["d"]:
                batch.duplicates.append((raw_topic, p, o, eid, first_p, first_o))
                last = max(last, o)
            if last >= 0:
                batch.advance(raw_topic, p, last + 1)
        elif topic == names.dlq:
            rejection = codec.rejection_of(value)
            batch.rejections.append(rejection)
            if rejection.source == raw_topic:   # not a dead letter of HTTP ingest (docs/ingest.md)
                batch.advance(raw_topic, rejection.partition, rejection.position + 1)
    return batch


class StreamWriter(Writer):
    """The storage writer plus the stream's own rows (duplicates, several positions) in the same
    transaction."""

    def write_stream(self, batch: SinkBatch) -> BatchResult:
        now = datetime.now(UTC)
        tables = self._rows(batch.events, batch.rejections, batch.contributions, batch.alert_changes,
                            batch.entities, now)
        duplicates = [
            {"source": s, "partition": p, "position": o, "event_id": eid, "first_partition": fp,
             "first_position": fo, "received_at": now}
            for s, p, o, eid, fp, fo in batch.duplicates
        ]
        positions = [
            {"topic": topic, "partition": partition, "next_offset": offset, "updated_at": now}
            for (topic, partition), offset in sorted(batch.positions.items())
        ]

        def work(conn: sa.Connection) -> dict[str, int]:
            rows = self._write_tables(conn, tables)
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            if duplicates:
                table = Duplicate.__table__
                conn.execute(insert(table).on_conflict_do_nothing(
                    index_elements=["source", "partition", "position"]), duplicates)
            if positions:
                table = m.ProcessedPosition.__table__
                greatest = "GREATEST" if conn.dialect.name == "postgresql" else "MAX"
                stmt = insert(table).on_conflict_do_update(
                    index_elements=["topic", "partition"],
                    set_={
                        "next_offset": sa.literal_column(
                            f'{greatest}(excluded.next_offset, "processed_positions".next_offset)'),
                        "updated_at": sa.literal_column("excluded.updated_at"),
                    },
                )
                conn.execute(stmt, positions)
            rows["duplicates"] = len(duplicates)
            rows["processed_positions"] = len(positions)
            return rows

        rows, attempts, seconds = self._transaction(work)
        return BatchResult(rows, attempts, seconds)
