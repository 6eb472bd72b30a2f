"""Cases derived from the stored events, alerts and people's case actions, as of any time.

`derive_cases(conn, assignments, as_of)` folds, in time order, everything stored before `as_of`
(everything when None): the hazard and dispute events (by `attributes.hazard_id` / `case_id`), the
alerts with their history, and the case actions (notes, 转办, closing by hand). Nothing is read that
happened at or after `as_of`, so the brief of an old week is what was true at the end of that week,
whatever happened since. With `refs` only those cases (and the person cases they touch) are derived:
what the storage writer does for each batch.

The owner (docs/contract.md §8): the latest 转办 before `as_of`, else for alert cases the alert's
assignee, else the §5 assignee of the person (person cases), of the building of the opening
event's location, of the category equal to the case kind, else the default leader.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.assignments import Assignments
from pipeline.cases.model import ENDED_STATES, CaseRecord
from pipeline.storage import models as m
from pipeline.storage.case_tables import CaseAction
from pipeline.timeutil import aware, parse_time

EVENTS = m.Event.__table__
ALERTS = m.Alert.__table__
HISTORY = m.AlertHistory.__table__
ENTITIES = m.Entity.__table__
ACTIONS = CaseAction.__table__

HAZARD_STATES = {"rectified": "rectified", "verified": "closed", "reopened": "open"}
DISPUTE_STATES = {"mediation_held": "in_progress", "escalated": "referred", "referred": "referred",
                  "resolved": "closed"}
ALERT_STATES = {"acknowledged": "acknowledged", "resolved": "resolved", "closed": "closed"}
# Alert history entries that are delivery, not work on the case: they do not count as its last action.
NOT_ACTIONS = ("notified", "escalated")
ID_KEY = {"hazard": "hazard_id", "dispute": "case_id"}


@dataclass
class _Fold:
    """A case being folded from its timeline."""

    ref: str
    kind: str
    state: str
    opened_at: datetime
    last_action_at: datetime
    building: str | None = None
    location_id: str | None = None
    entity: str | None = None
    due: datetime | None = None
    closed_at: datetime | None = None
    owner: str | None = None
    level: str | None = None
    persons: set[str] = field(default_factory=set)

    def move(self, state: str, at: datetime) -> None:
        self.state = state
        self.closed_at = at if state in ENDED_STATES else None

    def touch(self, at: datetime) -> None:
        self.last_action_at = max(self.last_action_at, at)

    def record(self) -> CaseRecord:
        return CaseRecord(self.ref, self.kind, self.state, self.owner, self.building, self.location_id,
                          self.entity, self.opened_at, self.due, self.closed_at, self.last_action_at,
                          tuple(sorted(self.persons)))


def _due_at(doc: dict[str, Any]) -> datetime | None:
    value = (doc.get("attributes") or {}).get("due_at")
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value).astimezone(UTC)
    except ValueError:
        return None   # a malformed deadline is no deadline: the case still shows, without 逾期


def _case_id(doc: dict[str, Any], key: str) -> str | None:
    value = (doc.get("attributes") or {}).get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


class _Reader:
    """The stored rows a derivation needs, everything strictly before `as_of`."""

    def __init__(self, conn: sa.Connection, as_of: datetime | None):
        self.conn = conn
        self.as_of = None if as_of is None else as_of.astimezone(UTC)

    def before(self, col):
        return sa.true() if self.as_of is None else col < self.as_of

    def events(self, kind: str, ids: Iterable[str] | None) -> list[Any]:
        q = sa.select(EVENTS.c.event_id, EVENTS.c.type, EVENTS.c.occurred_at, EVENTS.c.building,
                      EVENTS.c.location_id, EVENTS.c.doc).where(EVENTS.c.kind == kind,
                                                                self.before(EVENTS.c.occurred_at))
        if ids is not None:
            q = q.where(EVENTS.c.doc["attributes"][ID_KEY[kind]].as_string().in_(sorted(ids)))
        return list(self.conn.execute(q.order_by(EVENTS.c.occurred_at, EVENTS.c.event_id)))

    def alerts(self, ids: Iterable[str] | None = None, entities: Iterable[str] | None = None) -> list[Any]:
        q = sa.select(ALERTS.c.alert_id, ALERTS.c.entity, ALERTS.c.level, ALERTS.c.assignee,
                      ALERTS.c.raised_at, ALERTS.c.status, ENTITIES.c.building).select_from(
            ALERTS.outerjoin(ENTITIES, ENTITIES.c.ref == ALERTS.c.entity)).where(self.before(ALERTS.c.raised_at))
        if ids is not None or entities is not None:
            q = q.where(sa.or_(ALERTS.c.alert_id.in_(sorted(ids or ())), ALERTS.c.entity.in_(sorted(entities or ()))))
        return list(self.conn.execute(q.order_by(ALERTS.c.raised_at, ALERTS.c.alert_id)))

    def history(self, alert_ids: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for i in range(0, len(alert_ids), 500):
            q = sa.select(HISTORY.c.alert_id, HISTORY.c.action, HISTORY.c.level, HISTORY.c.at).where(
                HISTORY.c.alert_id.in_(alert_ids[i:i + 500]), self.before(HISTORY.c.at)
            ).order_by(HISTORY.c.at, HISTORY.c.id)
            for r in self.conn.execute(q):
                out[r.alert_id].append(r)
        return out

    def actions(self, refs: Iterable[str] | None) -> dict[str, list[Any]]:
        q = sa.select(ACTIONS.c.ref, ACTIONS.c.action, ACTIONS.c.owner, ACTIONS.c.at).where(self.before(ACTIONS.c.at))
        if refs is not None:
            q = q.where(ACTIONS.c.ref.in_(sorted(refs)))
        out: dict[str, list[Any]] = defaultdict(list)
        for r in self.conn.execute(q.order_by(ACTIONS.c.at, ACTIONS.c.id)):
            out[r.ref].append(r)
        return out

    def buildings(self, refs: Iterable[str]) -> dict[str, str | None]:
        refs = sorted(set(refs))
        if not refs:
            return {}
        q = sa.select(ENTITIES.c.ref, ENTITIES.c.building).where(ENTITIES.c.ref.in_(refs))
        return {r.ref: r.building for r in self.conn.execute(q)}


def _fold_events(kind: str, rows: list[Any]) -> dict[str, _Fold]:
    transitions = HAZARD_STATES if kind == "hazard" else DISPUTE_STATES
    opening = "found" if kind == "hazard" else "reported"
    cases: dict[str, _Fold] = {}
    for r in rows:
        doc = r.doc or {}
        ident = _case_id(doc, ID_KEY[kind])
        if ident is None:
            continue
        ref, at = f"{kind}:{ident}", aware(r.occurred_at)
        case = cases.get(ref)
        if case is None:
            if r.type != opening:
                continue   # nothing before the opening event belongs to the case
            case = cases[ref] = _Fold(ref, kind, "open", at, at, r.building, r.location_id,
                                      f"location:{r.location_id}" if kind == "hazard" and r.location_id else None,
                                      _due_at(doc))
        elif r.type in transitions:
            case.move(transitions[r.type], at)
        if kind == "dispute":
            case.due = _due_at(doc) or case.due   # the latest deadline given
        case.persons.update(s["id"] for s in doc.get("subjects") or ()
                            if isinstance(s, dict) and s.get("type") == "person" and isinstance(s.get("id"), str))
        case.touch(at)
    return cases


def _fold_alerts(rows: list[Any], history: dict[str, list[Any]], assignments: Assignments,
                 current: bool) -> dict[str, _Fold]:
    cases: dict[str, _Fold] = {}
    for a in rows:
        raised = aware(a.raised_at)
        entity = a.entity
        case = _Fold(f"alert:{a.alert_id}", "alert", "open", raised, raised, a.building,
                     entity.partition(":")[2] if entity.startswith("location:") else None, entity,
                     owner=a.assignee, level=a.level)
        for h in history.get(a.alert_id, ()):
            at = aware(h.at)
            if h.action in ("raised", "upgraded"):
                case.level = h.level
            elif h.action in ALERT_STATES:
                case.move(ALERT_STATES[h.action], at)
            if h.action not in NOT_ACTIONS:
                case.touch(at)
        if current and a.status != case.state:   # the table is authoritative for the present
            case.move(a.status, case.closed_at or case.last_action_at)
        timeout = assignments.ack_timeout.get(case.level or "")
        if case.state == "open" and timeout is not None:
            case.due = raised + timedelta(seconds=timeout)
        cases[case.ref] = case
    return cases


def _fold_persons(alerts: dict[str, _Fold], disputes: dict[str, _Fold], persons: set[str] | None,
                  actions: dict[str, list[Any]], buildings: dict[str, str | None]) -> dict[str, _Fold]:
    """一人一案: opened by the person's first alert; open while any of their alerts or disputes is open,
    then until closed by hand (a close counts only when made after the last of them ended)."""
    related: dict[str, list[_Fold]] = defaultdict(list)
    for case in alerts.values():
        if case.entity and case.entity.startswith("person:"):
            related[case.entity].append(case)
    opened = {ref: min(c.opened_at for c in cs) for ref, cs in related.items()}
    for case in disputes.values():
        for pid in case.persons:
            if f"person:{pid}" in opened:
                related[f"person:{pid}"].append(case)
    out: dict[str, _Fold] = {}
    for ref, items in related.items():
        if persons is not None and ref not in persons:
            continue
        live = [c for c in items if c.opened_at >= opened[ref] or c.state not in ENDED_STATES]
        person = _Fold(ref, "person", "open", opened[ref], max(c.last_action_at for c in live),
                       buildings.get(ref), None, ref)
        if all(c.state in ENDED_STATES for c in live):
            ended = max(c.closed_at or c.last_action_at for c in live)
            closes = [aware(a.at) for a in actions.get(ref, ()) if a.action == "close" and aware(a.at) >= ended]
            if closes:
                person.move("closed", closes[-1])
        out[ref] = person
    return out


def _owner(case: _Fold, assignments: Assignments) -> str:
    if case.kind == "alert" and case.owner:
        return case.owner
    if case.kind == "person" and case.ref in assignments.by_entity:
        return assignments.by_entity[case.ref]
    if case.building is not None and case.building in assignments.by_building:
        return assignments.by_building[case.building]
    return assignments.by_category.get(case.kind) or assignments.default


def derive_cases(conn: sa.Connection, assignments: Assignments, as_of: datetime | None = None,
                 refs: Iterable[str] | None = None) -> dict[str, CaseRecord]:
    """Every case (or those of `refs` and the person cases they touch) as of `as_of` (None: all stored)."""
    reader = _Reader(conn, as_of)
    keep: set[str] | None = None
    person_refs: set[str] | None = None
    if refs is None:
        hazards = _fold_events("hazard", reader.events("hazard", None))
        disputes = _fold_events("dispute", reader.events("dispute", None))
        alert_rows = reader.alerts()
    else:
        want: dict[str, set[str]] = defaultdict(set)
        for ref in refs:
            kind, _, ident = ref.partition(":")
            want[kind].add(ident)
        hazards = _fold_events("hazard", reader.events("hazard", want["hazard"])) if want["hazard"] else {}
        # Any person case may hang on any dispute naming the person: the disputes are read whole.
        disputes = (_fold_events("dispute", reader.events("dispute", None))
                    if want["dispute"] or want["person"] or want["alert"] else {})
        touched = reader.alerts(want["alert"]) if want["alert"] else []
        person_refs = ({f"person:{p}" for p in want["person"]}
                       | {a.entity for a in touched if a.entity.startswith("person:")}
                       | {f"person:{p}" for d in want["dispute"] for p in
                          (disputes[f"dispute:{d}"].persons if f"dispute:{d}" in disputes else ())})
        alert_rows = reader.alerts(want["alert"], person_refs) if want["alert"] or person_refs else []
        keep = ({f"{kind}:{i}" for kind, ids in want.items() for i in ids}
                | {f"alert:{a.alert_id}" for a in touched} | person_refs)
    history = reader.history([a.alert_id for a in alert_rows])
    alerts = _fold_alerts(alert_rows, history, assignments, current=as_of is None)
    person_alerts = {a.entity for a in alert_rows if a.entity.startswith("person:")}
    actions = reader.actions(keep)
    persons = _fold_persons(alerts, disputes, person_refs, actions, reader.buildings(person_alerts))

    folded = {**hazards, **disputes, **alerts, **persons}
    out: dict[str, CaseRecord] = {}
    for ref, case in folded.items():
        if keep is not None and ref not in keep:
            continue
        owner = _owner(case, assignments)
        for act in actions.get(ref, ()):
            if act.action == "reassign" and act.owner:
                owner = act.owner
            case.touch(aware(act.at))
        out[ref] = replace(case.record(), owner=owner)
    return out


def derive_case(conn: sa.Connection, assignments: Assignments, ref: str,
                as_of: datetime | None = None) -> CaseRecord | None:
    return derive_cases(conn, assignments, as_of, [ref]).get(ref)
