"""The idempotent batched writer used by replay (`riskwatch replay --db`) and the stream's sink.

`write_batch` writes everything it is given in ONE transaction, together with the processed position,
so a batch is either stored with its position or not at all. Every table is written with a natural
key and ON CONFLICT: rows that exist are skipped (events, rejections, contributions, alert history)
or updated to the latest state (alerts, entities, positions, levels). Writing the same input twice
leaves the same rows, which is what makes retrying safe: when the database goes away mid-batch
(OperationalError), the whole batch is retried with backoff until `retry_deadline`; nothing is lost
(the position only moves with the data) and nothing is duplicated.

PostgreSQL: a table's rows go through binary COPY into a staging table and one INSERT … SELECT … ON
CONFLICT (postgres_copy.py) from `copy_threshold` rows on, else through executemany (multi-row VALUES).
Measured here (contributions, one transaction per batch): COPY path 10k/36k/56k/67k rows/s at batches
of 20/100/300/1000 rows, executemany 14k/23k/34k/36k — hence the threshold of 50; bench/sink.py puts
the COPY path at ~60k rows/s for a million rows, ~80 % of a plain COPY. SQLite: executemany with
INSERT … ON CONFLICT.

Cases (pipeline/cases): every batch also refreshes, in its transaction, the cases its events and
alerts touch, so the `cases` table is current on every path that writes through here (replay, the
stream's sink, `serve`). Owners come from `assignments` (default: the settings' config directory).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from pipeline.assignments import Assignments
from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.storage import models as m
from pipeline.storage.db import StorageUnavailable, make_engine, mask_url, one_line
from pipeline.storage.postgres_copy import copy_upsert
from pipeline.storage.rows import (
    COLUMNS,
    EntityRecord,
    RejectedMessage,
    alert_rows,
    contribution_row,
    entity_row,
    event_row,
    rejection_row,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def _latest_wins(table: str, columns: Sequence[str]) -> dict[str, str]:
    """Columns that take the incoming value only when it is at least as recent as the stored one."""
    newer = f'excluded.updated_at >= "{table}".updated_at'
    return {c: f'CASE WHEN {newer} THEN excluded.{c} ELSE "{table}".{c} END' for c in columns}


@dataclass(frozen=True)
class TableSpec:
    table: sa.Table
    conflict: tuple[str, ...]
    update: dict[str, str] | None = None   # column -> SQL over excluded.<col> and "<table>".<col>


SPECS = {
    "events": TableSpec(m.Event.__table__, ("event_id",)),
    "rejections": TableSpec(m.Rejection.__table__, ("source", "partition", "position")),
    "contributions": TableSpec(m.Contribution.__table__, ("id",)),
    "entities": TableSpec(m.Entity.__table__, ("ref",), {
        "building": 'COALESCE(excluded.building, "entities".building)',
        "criticality": "excluded.criticality",
    }),
    "alerts": TableSpec(m.Alert.__table__, ("alert_id",), {
        **_latest_wins("alerts", ("level", "assignee", "rules", "score", "entity")),
        "raised_at": 'CASE WHEN excluded.raised_at < "alerts".raised_at THEN excluded.raised_at '
                     'ELSE "alerts".raised_at END',
        "updated_at": 'CASE WHEN excluded.updated_at > "alerts".updated_at THEN excluded.updated_at '
                      'ELSE "alerts".updated_at END',
    }),
    "alert_history": TableSpec(m.AlertHistory.__table__, ("alert_id", "action", "at", "level")),
    "processed_positions": TableSpec(m.ProcessedPosition.__table__, ("topic", "partition"), {
        "next_offset": "excluded.next_offset",
        "updated_at": "excluded.updated_at",
    }),
    "levels": TableSpec(m.Level.__table__, ("name",), {"threshold": "excluded.threshold"}),
}
# Write order inside a transaction (no foreign keys, but readers see a sensible order).
ORDER = ("events", "rejections", "contributions", "entities", "alerts", "alert_history",
         "processed_positions")


@dataclass
class BatchResult:
    rows: dict[str, int]     # rows sent per table (existing ones are skipped or updated, not counted apart)
    attempts: int
    seconds: float


class Writer:
    """Idempotent batched writes into the riskwatch database (schema checked by the caller, see db.py).

    batch_size: rows per table per transaction in `write_all` (write_batch takes what it is given);
    copy_threshold: PostgreSQL rows per table from which COPY + staging is used;
    retry_deadline: seconds to keep retrying a batch while the database is away (0: no retry).
    """

    def __init__(
        self,
        engine_url: str | sa.URL | Engine,
        *,
        batch_size: int = 20_000,
        copy_threshold: int = 50,
        chunk_size: int = 1_000,
        retry_deadline: float = 60.0,
        max_backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        assignments: Assignments | None = None,
    ):
        self.engine = engine_url if isinstance(engine_url, Engine) else make_engine(engine_url)
        self._owns_engine = not isinstance(engine_url, Engine)
        self.batch_size = batch_size
        self.copy_threshold = copy_threshold
        self.chunk_size = chunk_size
        self.retry_deadline = retry_deadline
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._assignments = assignments
        self.is_postgres = self.engine.dialect.name == "postgresql"

    # -- public -------------------------------------------------------------------------------

    def write_batch(
        self,
        events: Iterable[Event] = (),
        rejections: Iterable[RejectedMessage] = (),
        contributions: Iterable[Contribution] = (),
        alert_changes: Iterable[AlertChange] = (),
        entities: Iterable[EntityRecord] = (),
        position: tuple[str, int, int] | None = None,
    ) -> BatchResult:
        """Write everything given, and `position` = (topic, partition, next_offset), in one transaction."""
        now = datetime.now(UTC)
        tables = self._rows(events, rejections, contributions, alert_changes, entities, now)
        if position is not None:
            topic, partition, next_offset = position
            tables["processed_positions"] = [(topic, int(partition), int(next_offset), now)]
        rows, attempts, seconds = self._transaction(lambda conn: self._write_tables(conn, tables))
        return BatchResult(rows, attempts, seconds)

    def write_all(
        self,
        events: Sequence[Event] = (),
        rejections: Sequence[RejectedMessage] = (),
        contributions: Sequence[Contribution] = (),
        alert_changes: Sequence[AlertChange] = (),
        entities: Sequence[EntityRecord] = (),
    ) -> list[BatchResult]:
        """Write any amount in transactions of at most `batch_size` rows per table (replay)."""
        n = self.batch_size
        longest = max(len(events), len(rejections), len(contributions), len(alert_changes), len(entities))
        return [
            self.write_batch(events=events[i:i + n], rejections=rejections[i:i + n],
                             contributions=contributions[i:i + n], alert_changes=alert_changes[i:i + n],
                             entities=entities[i:i + n])
            for i in range(0, longest, n)
        ]

    def write_levels(self, levels: Iterable[tuple[str, float]]) -> None:
        """Make the levels table exactly the rules' levels (name, threshold), for SQL scoring."""
        rows = [(name, float(threshold)) for name, threshold in levels]
        table = m.Level.__table__

        def write(conn: sa.Connection) -> None:
            conn.execute(table.delete().where(table.c.name.not_in([r[0] for r in rows])))
            self._upsert(conn, "levels", rows)

        self._transaction(write)

    def read_position(self, topic: str, partition: int) -> int | None:
        """The stored next offset of a topic partition, or None."""
        t = m.ProcessedPosition.__table__
        query = sa.select(t.c.next_offset).where(t.c.topic == topic, t.c.partition == partition)
        return self._transaction(lambda conn: conn.execute(query).scalar_one_or_none())[0]

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- rows ---------------------------------------------------------------------------------

    @staticmethod
    def _rows(events, rejections, contributions, alert_changes, entities, now) -> dict[str, list[tuple]]:
        """Tuples in rows.COLUMNS order, per table; rows that are updated are unique on their key."""
        tables: dict[str, list[tuple]] = {
            "events": list(map(event_row, events)),
            "rejections": [rejection_row(r, now) for r in rejections],
            "contributions": list(map(contribution_row, contributions)),
            "entities": list({r[0]: r for r in map(entity_row, entities)}.values()),
        }
        tables["alerts"], tables["alert_history"] = alert_rows(list(alert_changes))
        return tables

    # -- transactions with retry --------------------------------------------------------------

    def _transaction(self, work: Callable[[sa.Connection], T]) -> tuple[T, int, float]:
        """Run `work` in one transaction, retrying all of it while the database is away.
        Returns (work's result, attempts, seconds)."""
        start = time.monotonic()
        deadline = start + self.retry_deadline
        delay, attempts = 0.1, 0
        while True:
            attempts += 1
            try:
                with self.engine.begin() as conn:
                    out = work(conn)
                return out, attempts, time.monotonic() - start
            except sa.exc.DBAPIError as exc:
                if not _retryable(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    raise StorageUnavailable(
                        f"database not reachable at {mask_url(self.engine.url)} "
                        f"(gave up after {attempts} attempt(s) in {time.monotonic() - start:.0f}s): {one_line(exc)}"
                    ) from None
                log.warning("database write failed (%s); retrying in %.1fs", one_line(exc), delay)
                self._sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    def _write_tables(self, conn: sa.Connection, tables: dict[str, list[tuple]]) -> dict[str, int]:
        for name in ORDER:
            rows = tables.get(name)
            if rows:
                self._upsert(conn, name, rows)
        self._refresh_cases(conn, tables)
        return {name: len(rows) for name, rows in tables.items()}

    def _refresh_cases(self, conn: sa.Connection, tables: dict[str, list[tuple]]) -> None:
        # Imported here: pipeline.cases reads through pipeline.storage, so importing it at load time
        # would make the storage package import itself half-initialised.
        from pipeline.cases.store import configured_assignments, refresh_cases, touched_refs

        refs = touched_refs(tables.get("events", ()), tables.get("alerts", ()))
        if refs:
            refresh_cases(conn, self._assignments or configured_assignments(), refs)

    def _upsert(self, conn: sa.Connection, name: str, rows: list[tuple]) -> None:
        spec, columns = SPECS[name], COLUMNS[name]
        if self.is_postgres and len(rows) >= self.copy_threshold:
            copy_upsert(conn, spec.table, columns, rows, spec.conflict, spec.update)
            return
        stmt = _insert_statement(conn.dialect.name, spec)
        for i in range(0, len(rows), self.chunk_size):
            conn.execute(stmt, [dict(zip(columns, r, strict=True)) for r in rows[i:i + self.chunk_size]])


def _insert_statement(dialect: str, spec: TableSpec):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(spec.table)
    if spec.update:
        return stmt.on_conflict_do_update(
            index_elements=list(spec.conflict),
            set_={col: sa.literal_column(expr) for col, expr in spec.update.items()},
        )
    return stmt.on_conflict_do_nothing(index_elements=list(spec.conflict))


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    """The database went away or is busy (restart, failover, lock): the batch can simply be retried."""
    return bool(exc.connection_invalidated) or isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
