"""What the weekly review reads from the events table: counts per kind/type for this week and last,
patrol figures, hazards (found this week or still open), disputes (any activity this week) and
checkpoint coverage. Large volumes stay in the database (GROUP BY, window functions); only the rare
kinds (hazards, disputes, patrol summaries) come back as documents."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from pipeline.exports.period import Period
from pipeline.exports.sqlhelp import aware_utc, epoch, frame, json_text, utc_param
from pipeline.storage.models import Event

EVENTS = Event.__table__
DAY = 86400.0


def kind_type_counts(conn: sa.Connection, cur: Period, prev: Period) -> pd.DataFrame:
    """Columns week ('cur'|'prev'), kind, type, n."""
    week = sa.case((EVENTS.c.occurred_at >= utc_param(cur.start), "cur"), else_="prev").label("week")
    query = (sa.select(week, EVENTS.c.kind, EVENTS.c.type, sa.func.count().label("n"))
             .where(EVENTS.c.occurred_at >= utc_param(prev.start), EVENTS.c.occurred_at < utc_param(cur.end))
             .group_by(week, EVENTS.c.kind, EVENTS.c.type))
    return frame(conn, query)


def _docs(conn: sa.Connection, kind: str, types: list[str] | None, start, end) -> list[tuple]:
    cond = [EVENTS.c.kind == kind, EVENTS.c.occurred_at < utc_param(end)]
    if types:
        cond.append(EVENTS.c.type.in_(types))
    if start is not None:
        cond.append(EVENTS.c.occurred_at >= utc_param(start))
    query = (sa.select(EVENTS.c.event_id, EVENTS.c.type, EVENTS.c.occurred_at, EVENTS.c.building,
                       EVENTS.c.location_id, EVENTS.c.doc)
             .where(*cond).order_by(EVENTS.c.occurred_at, EVENTS.c.event_id))
    return [(r.event_id, r.type, aware_utc(r.occurred_at), r.building, r.location_id, r.doc or {})
            for r in conn.execute(query)]


def patrol_totals(conn: sa.Connection, cur: Period, prev: Period) -> dict[str, dict[str, float]]:
    """{'cur'|'prev': {patrols, personnel, vehicles}} over patrol.patrol_finished."""
    out: dict[str, dict[str, float]] = {w: {"patrols": 0, "personnel": 0, "vehicles": 0} for w in ("cur", "prev")}
    for _, _, at, _, _, doc in _docs(conn, "patrol", ["patrol_finished"], prev.start, cur.end):
        week = "cur" if at >= cur.start else "prev"
        attrs = doc.get("attributes") or {}
        out[week]["patrols"] += 1
        for key in ("personnel", "vehicles"):
            value = attrs.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[week][key] += value
    return out


def hazards(conn: sa.Connection, cur: Period) -> pd.DataFrame:
    """One row per hazard found this week, or found earlier and still open at the week's start.
    The state is that of the latest hazard event up to the week's end."""
    by_id: dict[str, dict] = {}
    for _, type_, at, building, location, doc in _docs(conn, "hazard", None, None, cur.end):
        attrs = doc.get("attributes") or {}
        hid = attrs.get("hazard_id")
        if hid is None:
            continue
        h = by_id.setdefault(str(hid), {"id": str(hid), "found": None, "due": None, "rectified": None,
                                         "verified": None, "category": None, "location": None, "building": None,
                                         "open_at_start": False, "last": None})
        if type_ == "found" and h["found"] is None:
            h.update(found=at, due=_time(attrs.get("due_at")), category=attrs.get("category"),
                     location=location, building=building)
        elif type_ == "rectified":
            h["rectified"] = at
        elif type_ == "verified":
            h["verified"] = at
        elif type_ == "reopened":
            h["rectified"] = h["verified"] = None
        if at < cur.start:
            h["open_at_start"] = type_ in ("found", "reopened")
        h["last"] = type_
    rows = [h for h in by_id.values() if h["found"] is not None and (h["found"] >= cur.start or h["open_at_start"])]
    return pd.DataFrame(rows, columns=["id", "found", "due", "rectified", "verified", "category", "location",
                                       "building", "open_at_start", "last"])


def disputes(conn: sa.Connection, cur: Period) -> pd.DataFrame:
    """One row per dispute case with any event this week, from its events up to the week's end."""
    cases: dict[str, dict] = {}
    for _, type_, at, building, location, doc in _docs(conn, "dispute", None, cur.start - timedelta(days=366), cur.end):
        attrs = doc.get("attributes") or {}
        cid = attrs.get("case_id")
        if cid is None:
            continue
        c = cases.setdefault(str(cid), {"id": str(cid), "reported": None, "tags": [], "location": location,
                                         "building": building, "parties": [], "last": None, "last_at": None,
                                         "mediations": 0, "active": False})
        if type_ == "reported" and c["reported"] is None:
            c["reported"] = at
            c["tags"] = list(doc.get("tags") or [])
        for s in doc.get("subjects") or []:
            if s.get("type") == "person" and s.get("id") not in c["parties"]:
                c["parties"].append(s.get("id"))
        c["mediations"] += type_ == "mediation_held"
        c["last"], c["last_at"] = type_, at
        c["active"] |= at >= cur.start
        c["location"] = c["location"] or location
        c["building"] = c["building"] or building
    rows = [c for c in cases.values() if c["active"]]
    return pd.DataFrame(rows, columns=["id", "reported", "tags", "location", "building", "parties", "last",
                                       "last_at", "mediations", "active"])


def checkpoint_coverage(conn: sa.Connection, cur: Period) -> pd.DataFrame:
    """Per checkpoint seen this week: visits, days covered, longest gap (s, edges of the week included),
    last visit (epoch s)."""
    dialect = conn.dialect.name
    start_s, end_s = cur.start.timestamp(), cur.end.timestamp()
    visits = (sa.select(json_text(EVENTS.c.doc, "location", "checkpoint").label("cp"),
                        epoch(EVENTS.c.occurred_at, dialect).label("t"))
              .where(EVENTS.c.kind == "patrol", EVENTS.c.type == "checkpoint_visit",
                     EVENTS.c.occurred_at >= utc_param(cur.start), EVENTS.c.occurred_at < utc_param(cur.end))
              .subquery("v"))
    gaps = sa.select(visits.c.cp, visits.c.t,
                     (visits.c.t - sa.func.lag(visits.c.t).over(partition_by=visits.c.cp, order_by=visits.c.t))
                     .label("gap")).where(visits.c.cp.is_not(None)).subquery("g")
    # PostgreSQL's integer cast rounds (6.9 days -> 7: an eighth "day" in a 7-day week); floor is what is meant.
    since = (gaps.c.t - start_s) / DAY
    day = sa.func.floor(since) if dialect == "postgresql" else sa.cast(since, sa.Integer)
    query = sa.select(gaps.c.cp, sa.func.count().label("visits"), sa.func.min(gaps.c.t).label("first"),
                      sa.func.max(gaps.c.t).label("last"), sa.func.max(gaps.c.gap).label("max_gap"),
                      sa.func.count(sa.distinct(day)).label("days")).group_by(gaps.c.cp)
    df = frame(conn, query)
    if df.empty:
        return pd.DataFrame(columns=["cp", "visits", "days", "max_gap", "last"])
    for col in ("first", "last", "max_gap"):
        df[col] = df[col].astype(float)
    edges = pd.concat([df["first"] - start_s, end_s - df["last"], df["max_gap"].fillna(0)], axis=1)
    df["max_gap"] = edges.max(axis=1)
    return df[["cp", "visits", "days", "max_gap", "last"]]


def _time(value):
    from pipeline.timeutil import parse_time

    if not isinstance(value, str):
        return None
    try:
        return aware_utc(parse_time(value))
    except ValueError:
        return None
