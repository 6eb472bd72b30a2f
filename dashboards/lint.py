"""Offline checks of dashboard JSON that Grafana itself would only reveal on screen.

- every panel has a unique id and a title;
- grid positions stay within the 24-column grid and no two panels overlap;
- every target (and every query variable) names the datasource by uid;
- every variable a query, title or link uses is defined on the dashboard (or is a Grafana built-in);
- no query reads the tables that hold personal data or credentials (persons appear by pseudonymous id).
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.macros import VARIABLE_RE
from dashboards.queryrun import panels_of

GRID_WIDTH = 24
# Variables Grafana defines itself (data links, time range, interval), and the SQL macros.
BUILTINS = {
    "__from", "__to", "__interval", "__interval_ms", "__rate_interval", "__range", "__range_s", "__range_ms",
    "__timezone", "__dashboard", "__org", "__user", "__url", "__url_time_range", "__all_variables",
    "__value", "__field", "__series", "__data", "__name", "__cell", "__searchFilter",
    "__time", "__timeEpoch", "__timeFilter", "__timeFrom", "__timeTo", "__timeGroup", "__timeGroupAlias",
    "__unixEpochFilter", "__unixEpochFrom", "__unixEpochTo", "__unixEpochGroup", "__unixEpochGroupAlias",
    "__unixEpochNanoFilter", "__unixEpochNanoFrom", "__unixEpochNanoTo", "__schema", "__table", "__column",
}
PRIVATE_TABLES = ("person_registry", "api_tokens")


@dataclass(frozen=True)
class Problem:
    dashboard: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.where}: {self.message}"


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def used_variables(text: str) -> set[str]:
    return {m.group(1) or m.group(2) or m.group(4) for m in VARIABLE_RE.finditer(text or "")}


def _strings(node) -> list[str]:
    """Every string inside a JSON value (links and overrides hide URLs deep in fieldConfig)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def lint(dash: dict, datasource_uids: set[str]) -> list[Problem]:
    uid = dash.get("uid") or dash.get("title") or "?"
    problems: list[Problem] = []

    def problem(where: str, message: str) -> None:
        problems.append(Problem(uid, where, message))

    if not dash.get("title"):
        problem("dashboard", "no title")
    variables = (dash.get("templating") or {}).get("list") or []
    defined = {v.get("name") for v in variables}
    texts: list[tuple[str, str]] = []
    for v in variables:
        where = f"variable {v.get('name')}"
        if v.get("type") == "query":
            if (v.get("datasource") or {}).get("uid") not in datasource_uids:
                problem(where, "query variable without a known datasource uid")
            texts.append((where, v.get("query") if isinstance(v.get("query"), str) else ""))
    for link in dash.get("links") or []:
        texts.append(("dashboard link", link.get("url") or ""))

    seen_ids: dict[int, str] = {}
    placed: list[tuple[str, dict]] = []
    for p in panels_of(dash):
        where = f"panel {p.get('id')} {p.get('title')!r}"
        pid = p.get("id")
        if pid is None:
            problem(where, "no id")
        elif pid in seen_ids:
            problem(where, f"id {pid} also used by {seen_ids[pid]}")
        else:
            seen_ids[pid] = where
        if not (p.get("title") or "").strip():
            problem(where, "no title")
        g = p.get("gridPos")
        if not g or any(k not in g for k in ("x", "y", "w", "h")):
            problem(where, "no grid position")
        else:
            if g["x"] < 0 or g["y"] < 0 or g["w"] <= 0 or g["h"] <= 0 or g["x"] + g["w"] > GRID_WIDTH:
                problem(where, f"grid position {g} outside the {GRID_WIDTH}-column grid")
            for other_where, og in placed:
                if _overlap(g, og):
                    problem(where, f"overlaps {other_where}")
            placed.append((where, g))
        targets = p.get("targets") or []
        if p.get("type") != "text" and not targets:
            problem(where, "no query")
        for t in targets:
            tw = f"{where} target {t.get('refId')}"
            if (t.get("datasource") or {}).get("uid") not in datasource_uids:
                problem(tw, "target without a known datasource uid")
            sql = t.get("rawSql") or ""
            texts.append((tw, sql))
            low = sql.lower()
            for table in PRIVATE_TABLES:
                if table in low:
                    problem(tw, f"reads {table}: persons appear by pseudonymous id only")
        texts.append((where, p.get("title") or ""))
        texts.extend((where, s) for s in _strings(p.get("fieldConfig") or {}))
        texts.extend((where, s) for s in _strings(p.get("links") or []))
    for where, text in texts:
        for name in sorted(used_variables(text)):
            if name.startswith("__"):
                if name not in BUILTINS:
                    problem(where, f"unknown built-in ${name}")
            elif name not in defined:
                problem(where, f"uses ${name}, which the dashboard does not define")
    return problems
