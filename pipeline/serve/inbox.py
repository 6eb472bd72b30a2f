"""The accept log of `riskwatch serve` (table `serve_inbox`) and the writer that fills and drains it.

`accept` is what makes an HTTP request's events durable in the one-process deployment: the events
(first copy of an event_id wins, as in replay), one inbox row per accepted item, duplicates
included, and the request's rejected items (table `rejections`) are committed in ONE transaction;
the 200 goes out after that commit. Accepts run one at a time in this process (a lock around the
transaction), so inbox sequence numbers commit in order and the engine loop, which reads
`seq >= next` in order, can never pass over one that commits later.
That is why the deployment is one process: two would need the database to order their commits.

`write_step` stores one engine step: outputs, duplicates, the engine state changes and the new
processed position, again in one transaction.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.storage import models as m
from pipeline.storage.ingest_tables import INBOX, INBOX_POSITION_TOPIC
from pipeline.storage.rows import EntityRecord, RejectedMessage
from pipeline.storage.stream_tables import Duplicate
from pipeline.storage.writer import Writer

EVENTS = cast(sa.Table, m.Event.__table__)
POSITIONS = cast(sa.Table, m.ProcessedPosition.__table__)
DUPLICATES = cast(sa.Table, Duplicate.__table__)
T = TypeVar("T")


@dataclass(frozen=True)
class InboxRow:
    seq: int
    event_id: str
    doc: dict
    first_seq: int          # the seq the event_id was first accepted at: a duplicate when != seq


class InboxWriter(Writer):
    """The storage writer plus the inbox; one instance per process (its lock orders the accepts)."""

    def __init__(self, *args, lock: threading.Lock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Held around every accept. On SQLite, which has one writer at a time, the engine loop's
        # writes take it too: waiting here costs nothing, where SQLite's own busy handler sleeps in
        # steps of up to 100 ms. Give the ingest's and the loop's writer the same lock.
        self.lock = lock or threading.Lock()
        self._step_lock = self.lock if not self.is_postgres else contextlib.nullcontext()

    def accept(self, events: Sequence[Event], rejections: Sequence[RejectedMessage] = ()) -> None:
        """Commit the events, their inbox rows and the request's rejections; StorageUnavailable
        (nothing committed) when the database cannot take them within `retry_deadline`."""
        if not events and not rejections:
            return
        now = datetime.now(UTC)
        tables = self._rows(events, rejections, (), (), (), now)
        inbox = [{"event_id": ev.event_id, "received_at": now} for ev in events]

        def work(conn: sa.Connection) -> None:
            self._write_tables(conn, tables)
            if inbox:
                conn.execute(INBOX.insert(), inbox)

        with self.lock:
            self._transaction(work)

    def read(self, next_seq: int, limit: int) -> list[InboxRow]:
        """Inbox rows from `next_seq` on, in order, with their event documents."""
        query = (sa.select(INBOX.c.seq, INBOX.c.event_id, EVENTS.c.doc)
                 .join(EVENTS, EVENTS.c.event_id == INBOX.c.event_id)
                 .where(INBOX.c.seq >= next_seq).order_by(INBOX.c.seq).limit(limit))

        def work(conn: sa.Connection) -> list[InboxRow]:
            rows = conn.execute(query).all()
            if not rows:
                return []
            ids = sorted({r.event_id for r in rows})
            firsts: dict[str, int] = dict(conn.execute(sa.select(INBOX.c.event_id, sa.func.min(INBOX.c.seq))
                                       .where(INBOX.c.event_id.in_(ids)).group_by(INBOX.c.event_id)).all())
            return [InboxRow(r.seq, r.event_id, r.doc, firsts[r.event_id]) for r in rows]

        return self._transaction(work)[0]

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        """`work` in one transaction, retried while the database is away (up to `retry_deadline`)."""
        return self._transaction(work)[0]

    def last_seq(self) -> int:
        """The greatest accepted seq (0 when none)."""
        return self._transaction(lambda conn: conn.execute(sa.select(sa.func.max(INBOX.c.seq))).scalar() or 0)[0]

    def write_step(
        self,
        contributions: Iterable[Contribution],
        alert_changes: Iterable[AlertChange],
        entities: Iterable[EntityRecord],
        duplicates: Sequence[InboxRow],
        next_seq: int | None,
        also: Callable[[sa.Connection], None],
    ) -> None:
        now = datetime.now(UTC)
        tables = self._rows((), (), contributions, alert_changes, entities, now)
        dup_rows = [{"source": INBOX_POSITION_TOPIC, "partition": 0, "position": d.seq, "event_id": d.event_id,
                     "first_partition": 0, "first_position": d.first_seq, "received_at": now} for d in duplicates]

        def work(conn: sa.Connection) -> None:
            self._write_tables(conn, tables)
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            if dup_rows:
                conn.execute(insert(DUPLICATES).on_conflict_do_nothing(
                    index_elements=["source", "partition", "position"]), dup_rows)
            if next_seq is not None:
                conn.execute(insert(POSITIONS).on_conflict_do_update(
                    index_elements=["topic", "partition"],
                    set_={"next_offset": sa.literal_column("excluded.next_offset"),
                          "updated_at": sa.literal_column("excluded.updated_at")}),
                    [{"topic": INBOX_POSITION_TOPIC, "partition": 0, "next_offset": next_seq, "updated_at": now}])
            also(conn)

        with self._step_lock:
            self._transaction(work)
