"""The `cases` table: the derived cases at the latest stored time, for dashboards and lists.

The storage writer calls `refresh_cases` in the transaction of every batch with the cases the batch
touched (`touched_refs`), so replay, the stream's sink and `serve` keep the table current alike; a
case action refreshes its own case. `riskwatch cases refresh` rewrites the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pipeline.assignments import Assignments, load_assignments
from pipeline.cases.derive import derive_cases
from pipeline.cases.model import CaseRecord
from pipeline.storage.case_tables import Case

CASES = cast(sa.Table, Case.__table__)
COLUMNS = ("ref", "kind", "state", "is_open", "owner", "building", "location_id", "entity", "opened_at", "due",
           "closed_at", "last_action_at")
CHUNK = 500


@lru_cache(maxsize=4)
def configured_assignments(config_dir: str | None = None) -> Assignments:
    """assignments.yaml of the settings' config directory (for writers built without one)."""
    from pipeline.configset import config_file
    from pipeline.settings import load_settings

    directory = Path(config_dir) if config_dir is not None else load_settings().config_dir
    return load_assignments(config_file("assignments.yaml", directory))


def touched_refs(events: Iterable[tuple], alerts: Iterable[tuple]) -> set[str]:
    """Case refs a batch of rows touches: events rows (rows.COLUMNS["events"]) of hazards and disputes,
    alert rows (rows.COLUMNS["alerts"]) and the person cases of person alerts and named persons."""
    refs: set[str] = set()
    for _eid, kind, _type, _at, _src, _b, _loc, doc in events:
        if kind not in ("hazard", "dispute"):
            continue
        ident = ((doc or {}).get("attributes") or {}).get("hazard_id" if kind == "hazard" else "case_id")
        if isinstance(ident, (str, int)) and not isinstance(ident, bool) and ident != "":
            refs.add(f"{kind}:{ident}")
        if kind == "dispute":
            refs.update(f"person:{s['id']}" for s in (doc or {}).get("subjects") or ()
                        if isinstance(s, dict) and s.get("type") == "person" and isinstance(s.get("id"), str))
    for row in alerts:
        alert_id, entity = row[0], row[1]
        refs.add(f"alert:{alert_id}")
        if entity.startswith("person:"):
            refs.add(entity)
    return refs


def _row(case: CaseRecord) -> dict:
    return {"ref": case.ref, "kind": case.kind, "state": case.state, "is_open": case.is_open,
            "owner": case.owner, "building": case.building, "location_id": case.location_id,
            "entity": case.entity, "opened_at": case.opened_at, "due": case.due, "closed_at": case.closed_at,
            "last_action_at": case.last_action_at}


def write_cases(conn: sa.Connection, cases: Sequence[CaseRecord]) -> int:
    """Upsert the given cases (a case never disappears: its events stay until purged)."""
    if not cases:
        return 0
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(CASES)
    stmt = stmt.on_conflict_do_update(index_elements=["ref"],
                                      set_={c: stmt.excluded[c] for c in COLUMNS if c != "ref"})
    rows = [_row(c) for c in cases]
    for i in range(0, len(rows), CHUNK):
        conn.execute(stmt, rows[i:i + CHUNK])
    return len(rows)


def refresh_cases(conn: sa.Connection, assignments: Assignments, refs: Iterable[str] | None = None) -> int:
    """Derive (at the latest stored time) and store the cases of `refs`, or every case when None."""
    if refs is not None:
        refs = set(refs)
        if not refs:
            return 0
    cases = derive_cases(conn, assignments, None, refs)
    return write_cases(conn, sorted(cases.values(), key=lambda c: c.ref))


def refresh_alert_case(conn: sa.Connection, alert_id: str, entity: str, assignments: Assignments | None = None) -> int:
    """After a person's action on an alert (acknowledge, close, resolve): its case and its person's,
    owned as `assignments` say (default: those of the settings' config directory)."""
    refs = {f"alert:{alert_id}"} | ({entity} if entity.startswith("person:") else set())
    return refresh_cases(conn, assignments or configured_assignments(), refs)
