"""The few portable SQL pieces the exports need (PostgreSQL and SQLite), and frames from queries."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

JULIAN_UNIX_EPOCH = 2440587.5


def utc_param(dt: datetime) -> datetime:
    """A bind value for a timestamptz column: UTC (SQLite stores naive UTC text and drops the zone)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC)


def epoch(col, dialect: str):
    """Seconds since the Unix epoch of a timestamp column, as a float expression."""
    if dialect == "postgresql":
        return sa.extract("epoch", col)
    return (sa.func.julianday(col) - JULIAN_UNIX_EPOCH) * 86400.0


def json_text(doc_col, *path: str):
    """The text value at `path` inside a JSON column (None when absent)."""
    expr = doc_col
    for key in path:
        expr = expr[key]
    return expr.as_string()


def frame(conn: sa.Connection, query, params: dict | None = None) -> pd.DataFrame:
    """The result of `query` as a DataFrame (column names from the query)."""
    result = conn.execute(query, params or {})
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def to_local(values, tz: ZoneInfo) -> pd.Series:
    """Database timestamps (aware UTC from PostgreSQL, naive UTC from SQLite) as naive local times."""
    series = pd.to_datetime(pd.Series(values), utc=True, format="mixed")
    return series.dt.tz_convert(tz).dt.tz_localize(None)


def aware_utc(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
