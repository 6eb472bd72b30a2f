"""PostgreSQL fast path: binary COPY into a temporary staging table, then INSERT … SELECT … ON CONFLICT.

COPY is the fastest way into PostgreSQL but cannot skip rows that already exist; the staging table
(temporary: no WAL, no indexes) takes the COPY, and one set-based INSERT moves the rows into the real
table with the same conflict handling as the executemany path. The staging table lives for the
connection and is emptied at every commit (ON COMMIT DELETE ROWS), so each table is staged at most
once per transaction (the writer merges a batch's rows per table).

Binary COPY (column types from the model, JSON through orjson) is about 40 % faster than text COPY
here; bench/sink.py measures the whole path against a plain COPY of the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from psycopg.types.json import set_json_dumps


def _stage_name(table: sa.Table) -> str:
    return f"_rw_stage_{table.name}"


def pg_copy_type(column: sa.Column) -> str:
    """The PostgreSQL type name binary COPY sends a model column's values as."""
    t = column.type
    if isinstance(t, sa.JSON):
        return "jsonb"
    if isinstance(t, sa.DateTime):
        return "timestamptz" if t.timezone else "timestamp"
    if isinstance(t, sa.Float):
        return "float8"
    if isinstance(t, sa.BigInteger):
        return "int8"
    if isinstance(t, sa.Integer):
        return "int4"
    if isinstance(t, sa.LargeBinary):
        return "bytea"
    if isinstance(t, sa.String):
        return "text"   # varchar's binary form is text's
    raise TypeError(f"no COPY type for {column.table.name}.{column.name} ({t!r})")


def _psycopg(conn: sa.Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one (COPY is not part of the DBAPI)."""
    raw = conn.connection.driver_connection
    assert raw is not None, "a checked-out connection always has its driver connection"
    return raw


def copy_rows(
    conn: sa.Connection,
    table_name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    types: Sequence[str] | None = None,
) -> None:
    """COPY tuples into `table_name` (no conflict handling): the staging step, and the benchmark's
    baseline. With `types` (PostgreSQL type names, one per column) the COPY is binary and JSON
    columns take Python objects; without, it is text and JSON columns take JSON text."""
    raw = _psycopg(conn)
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur:
        if types is not None:
            set_json_dumps(orjson.dumps, context=cur)
        with cur.copy(f'COPY "{table_name}" ({cols}) FROM STDIN' + (" (FORMAT BINARY)" if types is not None else "")) as copy:
            if types is not None:
                copy.set_types(list(types))
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
    stage = _stage_name(table)
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = _psycopg(conn)
    with raw.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS AS '
            f'SELECT {quoted} FROM "{table.name}" WITH NO DATA'
        )
    copy_rows(conn, stage, columns, rows, [pg_copy_type(table.c[c]) for c in columns])
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
