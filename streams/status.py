"""What `riskwatch status` reports about a stream deployment.

- lag: per topic partition the deployment reads, the consumer group reading it (events.raw: the
  ingest's `<app_id>-ingest`; the others: the Faust app's `<app_id>`), its committed offset, the end,
  and the lag;
- events/s: events.raw offsets committed per second over a short interval (two samples);
- DLQ: messages in events.dlq, and rejections stored in the database;
- last processed position: processed_positions of events.raw (written by the sink with its data).
Kafka and the database are read independently: one of them down is reported, not fatal.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from streams.lag import LagReader, PartitionLag
from streams.topics import TopicNames


@dataclass
class Status:
    group: str                  # the Faust app's group; events.raw's rows name the ingest group
    groups: list[str] = field(default_factory=list)
    lag: list[dict] = field(default_factory=list)
    events_per_s: float | None = None
    dlq_messages: int | None = None
    rejections_stored: int | None = None
    positions: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def collect(bootstrap: str, names: TopicNames, db_url: str | None, interval: float = 2.0) -> Status:
    status = Status(group=names.app_id, groups=list(names.groups))
    try:
        reader = LagReader(bootstrap, names.group_of)
    except Exception as exc:  # noqa: BLE001 - reported, the database part still runs
        status.errors.append(str(exc))
    else:
        try:
            first = reader.read(names.consumed)
            status.lag = [_lag_row(x, names.group_of(x.topic)) for x in first]
            status.dlq_messages = sum(x.end - x.begin for x in first if x.topic == names.dlq)
            if interval > 0:
                start = time.monotonic()
                time.sleep(interval)
                second = reader.read([names.raw])
                before = {x.partition: x.committed or 0 for x in first if x.topic == names.raw}
                done = sum((x.committed or 0) - before.get(x.partition, 0) for x in second)
                status.events_per_s = round(done / (time.monotonic() - start), 1)
        finally:
            reader.close()
    if db_url:
        _database(status, db_url, names)
    return status


def _lag_row(x: PartitionLag, group: str) -> dict:
    return {"topic": x.topic, "partition": x.partition, "group": group, "committed": x.committed, "end": x.end,
            "lag": x.lag}


def _database(status: Status, url: str, names: TopicNames) -> None:
    from pipeline.storage import models as m
    from pipeline.storage.db import make_engine, mask_url, one_line

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            status.rejections_stored = conn.execute(sa.select(sa.func.count()).select_from(m.Rejection)).scalar_one()
            t = m.ProcessedPosition.__table__
            rows = conn.execute(sa.select(t.c.partition, t.c.next_offset, t.c.updated_at)
                                .where(t.c.topic == names.raw).order_by(t.c.partition))
            status.positions = [
                {"topic": names.raw, "partition": p, "next_offset": o, "updated_at": u.isoformat() if u else None}
                for p, o, u in rows
            ]
    except sa.exc.DBAPIError as exc:
        status.errors.append(f"database not reachable at {mask_url(url)}: {one_line(exc)}")
    finally:
        engine.dispose()
