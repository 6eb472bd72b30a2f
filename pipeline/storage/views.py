"""Current decayed scores in SQL (docs/contract.md §4), read the way Grafana reads them.

The database computes scores itself from the contributions table:
- PostgreSQL: view `entity_scores_current` (as of now()) and function `entity_scores_at(ts)`;
- SQLite: view `entity_scores_current`; `entity_scores_at` below runs the same SQL at a given time.
Both are created by migration 0002_scores: worth = points * 0.5 ^ ((ts - fired_at) / half_life_s),
worth < 0.01 left out, score rounded to 2 decimals, level from the `levels` table (else 'low').
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.storage.db import connection

JULIAN_UNIX_EPOCH = 2440587.5

# Keep in step with SQLITE_VIEW in migrations/versions/0002_scores.py (a test compares the two).
_SQLITE_AT = sa.text("""
WITH aged AS (
    SELECT c.entity, c.points, (:ts_jd - julianday(c.fired_at)) * 86400.0 / c.half_life_s AS half_lives
    FROM contributions c
    WHERE julianday(c.fired_at) <= :ts_jd
), worth AS (
    SELECT a.entity, a.points * power(0.5, a.half_lives) AS w
    FROM aged a
    WHERE a.half_lives < 1000
), scored AS (
    SELECT w.entity, round(sum(w.w), 2) AS score, count(*) AS contributions
    FROM worth w
    WHERE w.w >= 0.01
    GROUP BY w.entity
)
SELECT s.entity, s.score,
       COALESCE((SELECT l.name FROM levels l WHERE l.threshold <= s.score
                 ORDER BY l.threshold DESC LIMIT 1), 'low') AS level,
       s.contributions
FROM scored s
""")
_PG_AT = sa.text("SELECT entity, score, level, contributions FROM entity_scores_at(:ts)")
_CURRENT = sa.text("SELECT entity, score, level, contributions FROM entity_scores_current")


@dataclass(frozen=True)
class EntityScore:
    entity: str
    score: float
    level: str
    contributions: int


def _rows(result) -> dict[str, EntityScore]:
    return {r.entity: EntityScore(r.entity, float(r.score), r.level, int(r.contributions)) for r in result}


def _as_datetime(at: float | datetime) -> datetime:
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime.fromtimestamp(at, UTC)


def entity_scores_at(bind: sa.Engine | sa.Connection, at: float | datetime) -> dict[str, EntityScore]:
    """Every entity with a non-negligible score at `at` (epoch seconds or aware datetime), by ref."""
    ts = _as_datetime(at)
    with connection(bind) as conn:
        if conn.dialect.name == "postgresql":
            return _rows(conn.execute(_PG_AT, {"ts": ts}))
        return _rows(conn.execute(_SQLITE_AT, {"ts_jd": ts.timestamp() / 86400.0 + JULIAN_UNIX_EPOCH}))


def entity_scores_current(bind: sa.Engine | sa.Connection) -> dict[str, EntityScore]:
    """The view Grafana reads: every entity's score as of the database's clock."""
    with connection(bind) as conn:
        return _rows(conn.execute(_CURRENT))
