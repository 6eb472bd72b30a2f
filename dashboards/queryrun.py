"""Run a dashboard's SQL the way Grafana would: resolve its template variables (running query
variables on the database), expand every panel target (dashboards.macros) and execute it.

Used by the SQL tests and by the screenshot renderer, so both see exactly what a Grafana server
would send to PostgreSQL. Queries run in a read-only transaction without bind parameters, as Grafana
sends them (its datasource should use a read-only role too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from dashboards.macros import ALL_VALUE, TimeRange, Variable, render_sql


@dataclass
class PanelResult:
    panel_id: int
    title: str
    type: str
    sql: str                 # as sent to the database
    columns: list[str]
    rows: list[tuple]


def _custom_options(v: dict) -> tuple[list[str], dict[str, str]]:
    opts = [o for o in v.get("options") or [] if o.get("value") != ALL_VALUE]
    if opts:
        return [str(o["value"]) for o in opts], {str(o["value"]): str(o.get("text", o["value"])) for o in opts}
    values, texts = [], {}
    for item in re.findall(r"(?:\\,|[^,])+", v.get("query") or ""):
        text, _, value = item.partition(" : ")
        text, value = text.strip(), (value or text).strip()
        values.append(value)
        texts[value] = text
    return values, texts


def _current(v: dict, options: list[str]) -> str | list[str]:
    cur = (v.get("current") or {}).get("value")
    if cur == ALL_VALUE or (isinstance(cur, list) and ALL_VALUE in cur):
        return ALL_VALUE
    if cur:
        return cur
    # no saved selection: Grafana selects the first option
    first = options[0] if options else ""
    return [first] if v.get("multi") else first


def resolve_variables(
    dash: dict, cursor, tr: TimeRange, overrides: Mapping[str, str | list[str]] | None = None
) -> dict[str, Variable]:
    """Every template variable with its options and selection (defaults, or `overrides`)."""
    resolved: dict[str, Variable] = {}
    for v in (dash.get("templating") or {}).get("list") or []:
        name = v["name"]
        if v.get("type") == "query":
            cursor.execute(render_sql(v["query"], tr, resolved))
            cols = [d.name for d in cursor.description]
            vi = cols.index("__value") if "__value" in cols else 0
            ti = cols.index("__text") if "__text" in cols else vi
            rows = cursor.fetchall()
            options = [str(r[vi]) for r in rows]
            texts = {str(r[vi]): str(r[ti]) for r in rows}
        elif v.get("type") == "custom":
            options, texts = _custom_options(v)
        else:
            raise ValueError(f"variable {name!r}: type {v.get('type')!r} is not supported by the offline runner")
        current = (overrides or {}).get(name)
        if current is None:
            current = _current(v, options)
        resolved[name] = Variable(
            name=name, current=current, options=options, multi=bool(v.get("multi")),
            include_all=bool(v.get("includeAll")), all_value=v.get("allValue") or None, texts=texts,
        )
    return resolved


def panels_of(dash: dict) -> list[dict]:
    out = []
    for p in dash.get("panels") or []:
        out.append(p)
        out.extend(p.get("panels") or [])  # collapsed rows keep their panels inside
    return [p for p in out if p.get("type") != "row"]


def run_dashboard(
    engine: sa.Engine,
    dash: dict,
    tr: TimeRange,
    overrides: Mapping[str, str | list[str]] | None = None,
) -> tuple[dict[str, Variable], list[PanelResult]]:
    """Resolve the variables, then run every panel's targets; one PanelResult per target."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET TRANSACTION READ ONLY")
        variables = resolve_variables(dash, cur, tr, overrides)
        results = []
        for p in panels_of(dash):
            for t in p.get("targets") or []:
                sql = render_sql(t["rawSql"], tr, variables)
                cur.execute(sql)
                columns = [d[0] for d in cur.description] if cur.description else []
                results.append(PanelResult(p["id"], p.get("title", ""), p["type"], sql, columns,
                                           [tuple(row) for row in cur.fetchall()]))
        return variables, results
    finally:
        raw.rollback()
        raw.close()
