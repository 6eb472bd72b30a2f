"""Levels table and current decayed scores in SQL (docs/contract.md §4).

PostgreSQL: function entity_scores_at(ts timestamptz) and view entity_scores_current (= at now()).
SQLite: view entity_scores_current only; it needs the power() function pipeline.storage.db registers
on every connection (and SQLite's own math functions provide where compiled in). The same arithmetic
at a given time is pipeline.storage.views.entity_scores_at.

A contribution is worth points * 0.5 ^ ((ts - fired_at) / half_life_s); worth < 0.01 is negligible
and left out; the score is rounded to 2 decimals and judged against the levels table ('low' below all).
Contributions more than 1000 half-lives old are skipped before power() (PostgreSQL raises on underflow).

Revision ID: 0002_scores
Revises: 0001_schema
Create Date: 2024-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_scores"
down_revision = "0001_schema"
branch_labels = None
depends_on = None

DEFAULT_LEVELS = [("medium", 30.0), ("high", 60.0), ("critical", 90.0)]

PG_FUNCTION = """
CREATE FUNCTION entity_scores_at(ts timestamptz)
RETURNS TABLE (entity varchar, score numeric, level varchar, contributions bigint, as_of timestamptz)
LANGUAGE sql STABLE AS $fn$
    WITH aged AS (
        SELECT c.entity, c.points, EXTRACT(EPOCH FROM (ts - c.fired_at))::float8 / c.half_life_s AS half_lives
        FROM contributions c
        WHERE c.fired_at <= ts
    ), worth AS (
        SELECT a.entity, a.points * power(0.5::float8, a.half_lives) AS w
        FROM aged a
        WHERE a.half_lives < 1000
    ), scored AS (
        SELECT w.entity, round(sum(w.w)::numeric, 2) AS score, count(*) AS contributions
        FROM worth w
        WHERE w.w >= 0.01
        GROUP BY w.entity
    )
    SELECT s.entity, s.score,
           COALESCE((SELECT l.name FROM levels l WHERE l.threshold <= s.score
                     ORDER BY l.threshold DESC LIMIT 1), 'low')::varchar,
           s.contributions, ts
    FROM scored s
$fn$
"""
PG_VIEW = """
CREATE VIEW entity_scores_current AS
SELECT entity, score, level, contributions, as_of FROM entity_scores_at(now())
"""
SQLITE_VIEW = """
CREATE VIEW entity_scores_current AS
WITH params AS (
    SELECT julianday('now') AS ts_jd
), aged AS (
    SELECT c.entity, c.points, (p.ts_jd - julianday(c.fired_at)) * 86400.0 / c.half_life_s AS half_lives
    FROM contributions c, params p
    WHERE julianday(c.fired_at) <= p.ts_jd
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
       s.contributions, datetime('now') AS as_of
FROM scored s
"""


def upgrade() -> None:
    levels = op.create_table(
        "levels",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("threshold", sa.Float, nullable=False),
    )
    op.bulk_insert(levels, [{"name": n, "threshold": t} for n, t in DEFAULT_LEVELS])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_VIEW)
    else:
        op.execute(SQLITE_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS entity_scores_current")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS entity_scores_at(timestamptz)")
    op.drop_table("levels")
