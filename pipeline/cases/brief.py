"""The weekly brief of the risk-analysis meeting (研判会, docs/contract.md §8), as of the week's end.

`meeting_brief(conn, area, assignments, week)` derives every case as of Sunday 24:00 in the area's
time zone (derive.py reads nothing stored at or after that instant), so the brief of an old week is
what was true then, and returns the contract's JSON object:
- open_cases: every case open at `as_of`, whenever opened, by days_overdue then score (both
  descending; disputes have no score and come after scored cases of the same days; then by ref);
- new / closed: refs of the cases opened / ended (closed, resolved) in the week, sorted;
- by_leader: open and overdue cases per owner;
- decisions: every decision due by the week's last day that was not done before the week's start,
  and every decision the week's meeting made (its `week`), by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.area import Area
from pipeline.assignments import Assignments
from pipeline.cases.decisions import DecisionRecord, list_decisions
from pipeline.cases.derive import derive_cases
from pipeline.cases.model import CaseRecord, iso
from pipeline.errors import UsageError
from pipeline.exports.period import Period, iso_week
from pipeline.labels import place_name
from pipeline.storage.views import entity_scores_at


def week_period(week: str, area: Area) -> Period:
    try:
        return iso_week(week, area.tz)
    except ValueError as exc:
        raise UsageError(f"--week: {exc}") from None


def case_place(case: CaseRecord, area: Area) -> str | None:
    """The Chinese name of the case's place (area.yaml's, else built from the location id), or None."""
    if case.location_id:
        return place_name(case.location_id, area)
    if case.entity and case.entity.startswith("checkpoint:"):
        ident = case.entity.partition(":")[2]
        return next((cp.name for cp in area.checkpoints if cp.id == ident), None)
    return None


def open_case_entry(case: CaseRecord, at: datetime, area: Area, scores: dict[str, Any]) -> dict[str, Any]:
    score = level = None
    if case.kind != "dispute" and case.entity:
        found = scores.get(case.entity)
        score, level = (found.score, found.level) if found is not None else (0.0, "low")
    return {"ref": case.ref, "kind": case.kind, "state": case.state, "leader": case.owner,
            "building": case.building, "place": case_place(case, area), "opened_at": iso(case.opened_at),
            "due": iso(case.due), "days_overdue": case.days_overdue(at), "score": score, "level": level,
            "last_action_at": iso(case.last_action_at)}


def _sort_key(entry: dict[str, Any]) -> tuple:
    score = entry["score"]
    return (-entry["days_overdue"], -(score if score is not None else -1.0), entry["ref"])


def brief_decisions(decisions: list[DecisionRecord], period: Period) -> list[DecisionRecord]:
    """Due by the week's end and open at its start (not done before it) or done in it; or made in the
    week (its `week`). When a decision was recorded does not matter: one recorded today for an old
    meeting counts in that meeting's briefs like one recorded then (§8 reads the due date and states)."""
    start, end = period.start, period.end
    out = []
    for d in decisions:
        open_at_start = not d.done_by_time(start)
        done_in_week = d.done_at is not None and start < d.done_at <= end
        if d.week == period.label or (d.due <= period.last_day and (open_at_start or done_in_week)):
            out.append(d)
    return out


def meeting_brief(conn: sa.Connection, area: Area, assignments: Assignments, week: str) -> dict[str, Any]:
    """The §8 JSON object of the week `YYYY-Www`."""
    period = week_period(week, area)
    as_of, start = period.end, period.start
    cases = derive_cases(conn, assignments, as_of)
    scores = entity_scores_at(conn, as_of)
    open_cases = sorted((open_case_entry(c, as_of, area, scores) for c in cases.values() if c.is_open),
                        key=_sort_key)
    by_leader: dict[str, dict[str, int]] = {}
    for c in cases.values():
        if c.is_open:
            tally = by_leader.setdefault(c.owner or "", {"open": 0, "overdue": 0})
            tally["open"] += 1
            tally["overdue"] += int(c.is_overdue(as_of))
    decisions = brief_decisions(list_decisions(conn, area.tz), period)
    return {
        "week": period.label,
        "as_of": iso(as_of),
        "open_cases": open_cases,
        "new": sorted(c.ref for c in cases.values() if c.opened_at >= start),
        "closed": sorted(c.ref for c in cases.values()
                         if not c.is_open and c.closed_at is not None and c.closed_at >= start),
        "by_leader": dict(sorted(by_leader.items())),
        "decisions": [{"id": d.id, "case": d.case, "owner": d.owner, "due": d.due.isoformat(),
                       "state": d.state_at(as_of, area.tz), "done_at": iso(d.done_at) if d.done_by_time(as_of)
                       else None} for d in decisions],
    }
