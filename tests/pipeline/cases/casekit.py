"""A multi-week scenario for the case tests: events replayed into SQLite, then people's actions.

Weeks (Asia/Shanghai): 2024-W45 = Nov 4-10, W46 = Nov 11-17, W47 = Nov 18-24.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

CST = timezone(timedelta(hours=8))
UTC = timezone.utc


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=CST)


def event(eid: str, t: datetime, kind: str, type_: str, *, location: str | None = None, building: str | None = None,
          persons: tuple[str, ...] = (), tags: tuple[str, ...] = (), **attributes) -> dict:
    doc: dict = {"event_id": eid, "kind": kind, "type": type_, "occurred_at": t.isoformat(), "source": "test"}
    if location or building:
        doc["location"] = {k: v for k, v in (("id", location), ("building", building)) if v}
    if persons:
        doc["subjects"] = [{"type": "person", "id": p, "role": "party"} for p in persons]
    if tags:
        doc["tags"] = list(tags)
    if attributes:
        doc["attributes"] = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in attributes.items()}
    return doc


def store(url: str, config, events: list[dict], until: datetime | None = None) -> None:
    """Replay `events` (in time order) and store them as `riskwatch replay --db` does."""
    from pipeline.replay import replay
    from pipeline.storage.replay_store import open_replay_store

    ordered = sorted(events, key=lambda e: (datetime.fromisoformat(e["occurred_at"]), e["event_id"]))
    lines = [json.dumps(e, ensure_ascii=False).encode() for e in ordered]
    result = replay(lines, config, until=until.timestamp() if until else None, keep_events=True)
    open_replay_store(url, config)(result)


def scenario_events() -> list[dict]:
    """Hazards, disputes and persons over three weeks (see test_brief.py for what each one is for)."""
    return [
        # HZ-A: found in W45, due Nov 9 00:00, never rectified.
        event("h-a1", at(5, 10, 10), "hazard", "found", location="HD-2-09-corridor", building="2",
              hazard_id="HZ-A", due_at=at(9, 0)),
        # HZ-B: rectified before its due time, never verified: open, not overdue.
        event("h-b1", at(6), "hazard", "found", location="HD-1-06-corridor", building="1", hazard_id="HZ-B",
              due_at=at(10, 0)),
        event("h-b2", at(8), "hazard", "rectified", location="HD-1-06-corridor", building="1", hazard_id="HZ-B"),
        # HZ-C: found W46, rectified, verified in W47: closed in W47.
        event("h-c1", at(12), "hazard", "found", location="HD-1-12-corridor", building="1", hazard_id="HZ-C",
              due_at=at(15, 0)),
        event("h-c2", at(13), "hazard", "rectified", location="HD-1-12-corridor", building="1", hazard_id="HZ-C"),
        event("h-c3", at(19), "hazard", "verified", location="HD-1-12-corridor", building="1", hazard_id="HZ-C"),
        # HZ-D: closed in W45: absent from later briefs.
        event("h-d1", at(5), "hazard", "found", location="HD-2-06-corridor", building="2", hazard_id="HZ-D",
              due_at=at(8, 0)),
        event("h-d2", at(7), "hazard", "verified", location="HD-2-06-corridor", building="2", hazard_id="HZ-D"),
        # MD-1: reported W45 with a threat (alert for P-0201, person case), mediation: still 处理中.
        event("d-11", at(6, 9), "dispute", "reported", location="HD-1-1507", building="1", persons=("P-0201",),
              tags=("threat_of_violence",), case_id="MD-1"),
        event("d-12", at(8, 15), "dispute", "mediation_held", location="HD-1-1507", building="1",
              persons=("P-0201",), case_id="MD-1"),
        # MD-2: reported W47 without a place, due Nov 21: overdue, owner by category (dispute).
        event("d-21", at(19), "dispute", "reported", persons=("P-0202",), case_id="MD-2", due_at=at(21, 0)),
        # MD-3: reported W46, escalated, resolved W47: closed in W47.
        event("d-31", at(12), "dispute", "reported", location="HD-2-1203", building="2", case_id="MD-3"),
        event("d-32", at(14), "dispute", "escalated", location="HD-2-1203", building="2", case_id="MD-3"),
        event("d-33", at(20), "dispute", "resolved", location="HD-2-1203", building="2", case_id="MD-3"),
        # MD-4: a threat by P-0301 in W46, resolved in W46 (its alert and person case are closed by hand).
        event("d-41", at(12, 9), "dispute", "reported", location="HD-2-1508", building="2", persons=("P-0301",),
              tags=("threat_of_violence",), case_id="MD-4"),
        event("d-42", at(14, 9), "dispute", "resolved", location="HD-2-1508", building="2", persons=("P-0301",),
              case_id="MD-4"),
    ]


def write_lines(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def act(engine, config) -> dict[str, str]:
    """People's actions on the stored scenario: P-0301's alert closed by hand on Nov 15 and the person's
    file on Nov 16. Returns the alert cases by their entity."""
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import close_case
    from pipeline.cases.derive import derive_cases

    admin = Principal("cli:test", "admin")
    with engine.connect() as conn:
        cases = derive_cases(conn, config.assignments)
    alerts = {c.entity: c.ref for c in cases.values() if c.kind == "alert"}
    close_case(engine, config.assignments, alerts["person:P-0301"], admin, "已稳控", now=at(15))
    close_case(engine, config.assignments, "person:P-0301", admin, "矛盾已化解，解除重点关注", now=at(16))
    return alerts


def meet(engine, config) -> dict[str, int]:
    """Decisions of the W45-W48 meetings, a 转办 of HZ-A to L05 (Nov 20) and a note on MD-1 (Nov 21)."""
    from datetime import date

    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import add_note, reassign
    from pipeline.cases.decisions import add_decision, mark_done

    a, tz, admin = config.assignments, config.area.tz, Principal("cli:test", "admin")

    def decide(case, owner, due, week, made, done=None):
        d = add_decision(engine, a, tz, case, f"研判意见 {case}", owner, due, admin, week, now=made)
        if done is not None:
            mark_done(engine, d.id, "已落实", admin, now=done)
        return d.id

    ids = {
        "overdue": decide("hazard:HZ-A", "L02", date(2024, 11, 15), "2024-W46", at(13)),
        "done_w47": decide("dispute:MD-1", "L01", date(2024, 11, 20), "2024-W46", at(13), done=at(19)),
        "done_w45": decide("hazard:HZ-D", "L02", date(2024, 11, 8), "2024-W45", at(6), done=at(9)),
        "made_w47": decide("dispute:MD-2", "L04", date(2024, 12, 1), "2024-W47", at(20)),
        "made_w48": decide("hazard:HZ-A", "L02", date(2024, 11, 29), "2024-W48", at(26)),
        "not_due": decide("hazard:HZ-B", "L01", date(2024, 11, 30), "2024-W46", at(13)),
    }
    reassign(engine, a, "hazard:HZ-A", admin, "L05", "分管副主任督办", now=at(20))
    add_note(engine, a, "dispute:MD-1", admin, "已约双方再次调解", "progress", now=at(21))
    return ids
