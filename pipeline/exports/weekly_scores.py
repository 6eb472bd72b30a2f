"""What the weekly review reads from the scores: every entity's score and level at the end of this week
and last (the database's own decay arithmetic, pipeline/storage/views.py), the contributions that
explain the key entities, rule hit statistics and risk signals per day."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from pipeline.exports.period import Period
from pipeline.exports.sqlhelp import aware_utc, epoch, frame, utc_param
from pipeline.storage.models import Alert, Contribution, Entity
from pipeline.storage.views import entity_scores_at

CONTRIBUTIONS = Contribution.__table__
ENTITIES = Entity.__table__
ALERTS = Alert.__table__
NEGLIGIBLE = 0.01
DAY = 86400.0


def scores(conn: sa.Connection, at) -> pd.DataFrame:
    """entity, score, level at `at` (only entities with a non-negligible score)."""
    rows = entity_scores_at(conn, at)
    return pd.DataFrame([(s.entity, s.score, s.level) for s in rows.values()], columns=["entity", "score", "level"])


def entity_info(conn: sa.Connection, refs: list[str]) -> pd.DataFrame:
    if not refs:
        return pd.DataFrame(columns=["ref", "type", "building"])
    return frame(conn, sa.select(ENTITIES.c.ref, ENTITIES.c.type, ENTITIES.c.building).where(ENTITIES.c.ref.in_(refs)))


def explanations(conn: sa.Connection, refs: list[str], at) -> pd.DataFrame:
    """The contributions of `refs` still worth something at `at`: entity, rule, points, worth, fired_at, n_events."""
    cols = ["entity", "rule", "points", "worth", "fired_at", "n_events"]
    if not refs:
        return pd.DataFrame(columns=cols)
    c = CONTRIBUTIONS
    df = frame(conn, sa.select(c.c.entity, c.c.rule, c.c.points, c.c.fired_at, c.c.half_life_s, c.c.events)
               .where(c.c.entity.in_(refs), c.c.fired_at <= utc_param(at)))
    if df.empty:
        return pd.DataFrame(columns=cols)
    fired = pd.to_datetime(df["fired_at"], utc=True, format="mixed")
    age = (pd.Timestamp(at) - fired).dt.total_seconds()
    df["worth"] = df["points"] * 0.5 ** (age / df["half_life_s"])
    df["n_events"] = df["events"].map(len)
    df["fired_at"] = fired
    return df.loc[df["worth"] >= NEGLIGIBLE, cols]


def rule_hits(conn: sa.Connection, cur: Period, prev: Period) -> pd.DataFrame:
    """rule, week ('cur'|'prev'), hits, entities, points."""
    c = CONTRIBUTIONS
    week = sa.case((c.c.fired_at >= utc_param(cur.start), "cur"), else_="prev").label("week")
    return frame(conn, sa.select(c.c.rule, week, sa.func.count().label("hits"),
                                 sa.func.count(sa.distinct(c.c.entity)).label("entities"),
                                 sa.func.sum(c.c.points).label("points"))
                 .where(c.c.fired_at >= utc_param(prev.start), c.c.fired_at < utc_param(cur.end))
                 .group_by(c.c.rule, week))


def daily(conn: sa.Connection, cur: Period, prev: Period) -> pd.DataFrame:
    """Per day of the two weeks (0..13 from last week's Monday): risk signals (contributions) and new alerts."""
    dialect = conn.dialect.name
    start_s = prev.start.timestamp()
    out = pd.DataFrame({"day": range(14), "signals": 0, "alerts": 0})
    for name, table, col in (("signals", CONTRIBUTIONS, CONTRIBUTIONS.c.fired_at), ("alerts", ALERTS, ALERTS.c.raised_at)):
        day = sa.cast((epoch(col, dialect) - start_s) / DAY, sa.Integer).label("day")
        df = frame(conn, sa.select(day, sa.func.count().label("n")).select_from(table)
                   .where(col >= utc_param(prev.start), col < utc_param(cur.end)).group_by(day))
        for d, n in zip(df.get("day", []), df.get("n", []), strict=True):
            if 0 <= int(d) < 14:
                out.loc[int(d), name] = int(n)
    return out


def to_aware(value):
    return aware_utc(value)
