"""PostgreSQL fast path: COPY rows into a temporary staging table, then INSERT … SELECT … ON CONFLICT.

COPY is the fastest way into PostgreSQL but cannot skip rows that already exist; the staging table
(unlogged by nature: temporary, no indexes) takes the COPY, and one set-based INSERT moves the rows
into the real table with the same conflict handling as the executemany path. The staging table lives
for the connection and is emptied at every commit (ON COMMIT DELETE ROWS), so each table is staged at
most once per transaction (the writer merges a batch's rows per table).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa


def _stage_name(table: sa.Table) -> str:
    return f"_rw_stage_{table.name}"


def copy_rows(conn: sa.Connection, table_name: str, columns: Sequence[str], rows) -> None:
    """Plain COPY of tuples into `table_name` (no conflict handling): the staging step, and the
    benchmark's baseline."""
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur:
        with cur.copy(f'COPY "{table_name}" ({cols}) FROM STDIN') as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)


def copy_upsert(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: list[tuple],
    conflict: Sequence[str],
    update: dict[str, str] | None = None,
) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`; on a conflict on `conflict` do nothing,
    or, with `update`, set column = SQL expression (over `excluded.<col>` and `"<table>".<col>`).
    Rows must be unique on `conflict` when `update` is given (PostgreSQL cannot update a row twice)."""
    if not rows:
        return
    json_positions = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.JSON)]
    stage = _stage_name(table)
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS AS '
            f'SELECT {quoted} FROM "{table.name}" WITH NO DATA'
        )
    copy_rows(conn, stage, columns, _with_json_text(rows, json_positions) if json_positions else rows)
    target = ", ".join(f'"{c}"' for c in conflict)
    if update:
        sets = ", ".join(f'"{col}" = {expr}' for col, expr in update.items())
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    with raw.cursor() as cur:
        cur.execute(
            f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "{stage}" '
            f"ON CONFLICT ({target}) {action}"
        )


def _with_json_text(rows: list[tuple], positions: list[int]):
    dumps = orjson.dumps
    if len(positions) == 1:
        (i,) = positions
        for r in rows:
            value = r[i]
            yield (*r[:i], None if value is None else dumps(value).decode(), *r[i + 1:])
        return
    for r in rows:
        t = list(r)
        for i in positions:
            if t[i] is not None:
                t[i] = dumps(t[i]).decode()
        yield t
