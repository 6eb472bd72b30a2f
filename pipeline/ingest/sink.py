"""Where accepted events go: the interface HTTP ingest writes through, and the database sink of the
one-process deployment. The Kafka sink (the stream deployment) is streams/ingest_producer.py.

A sink's `accept` returns once every event given, and every rejection of the request, is durable,
and raises ServiceUnavailable when it cannot take them; then none of them counts as accepted
(docs/contract.md §9: resending is safe, duplicates are counted downstream). The database sink
stores the rejections in table `rejections` in the events' transaction, the Kafka sink sends them
to events.dlq as the stream's dead letters (docs/ingest.md, "Rejected items").
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from pipeline.contract import Event
from pipeline.errors import ServiceUnavailable, StorageUnavailable
from pipeline.ingest.items import Accepted
from pipeline.storage.db import mask_url, one_line
from pipeline.storage.rows import RejectedMessage


class EventSink(Protocol):
    async def accept(self, events: Sequence[Accepted], rejections: Sequence[RejectedMessage] = ()) -> None: ...

    async def ready(self) -> bool: ...


class DatabaseSink:
    """`riskwatch serve`: accepted = committed with its inbox row (pipeline/serve/inbox.py); `wake`
    is set after each commit so the engine loop starts at once."""

    def __init__(self, writer, wake: threading.Event | None = None):
        self.writer = writer
        self.wake = wake

    async def accept(self, events: Sequence[Accepted], rejections: Sequence[RejectedMessage] = ()) -> None:
        await run_in_threadpool(self.accept_now, [a.event() for a in events], rejections)

    def accept_now(self, events: Sequence[Event], rejections: Sequence[RejectedMessage] = ()) -> None:
        """`accept` for a caller off the event loop (a ledger import: pipeline/serve/ledger_sink.py)."""
        try:
            self.writer.accept(events, rejections)
        except sa.exc.DBAPIError as exc:   # not retryable by the writer (disk full, read-only, ...)
            raise StorageUnavailable(f"database at {mask_url(self.writer.engine.url)} refused the events: "
                                     f"{one_line(exc)}") from None
        if self.wake is not None:
            self.wake.set()

    async def ready(self) -> bool:
        return await run_in_threadpool(database_ready, self.writer.engine)


def database_ready(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.DBAPIError:
        return False


__all__ = ["DatabaseSink", "EventSink", "ServiceUnavailable", "database_ready"]
