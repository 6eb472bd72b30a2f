"""A three-week scenario (2024-W45..W47) for the meeting-brief acceptance tests: events, rules and the
decisions of the meetings, written so that every §8 field of the last week can be stated by hand."""

from __future__ import annotations

from pathlib import Path

from tests.acceptance.kit import event, write_events

RULES = """
version: 1
defaults:
  half_life: 14d
  levels: {medium: 30, high: 60, critical: 90}
  alert_level: high
rules:
  - id: hazard-found
    title: 发现隐患
    category: safety
    target: location
    type: match
    when: {kind: hazard, type: found}
    score: 20
  - id: threat
    title: 暴力威胁
    category: dispute
    target: person
    roles: [party]
    type: match
    when: {kind: dispute, tags: {any: [threat_of_violence]}}
    score: 60
    alert: true
"""


def hazard(eid: str, type_: str, at: str, hid: str, location: dict | None = None, **attrs: str) -> dict:
    extra = {"location": location} if location else {}
    return event(eid, "hazard", type_, at, "patrol-app", attributes={"hazard_id": hid, **attrs}, **extra)


def dispute(eid: str, type_: str, at: str, cid: str, *, person: str | None = None, location: dict | None = None,
            tags: list[str] | None = None, **attrs: str) -> dict:
    extra: dict = {}
    if location:
        extra["location"] = location
    if person:
        extra["subjects"] = [{"type": "person", "id": person, "role": "party"}]
    if tags:
        extra["tags"] = tags
    return event(eid, "dispute", type_, at, "mediation", attributes={"case_id": cid, **attrs}, **extra)


CORRIDOR_2_9 = {"id": "HD-2-09-corridor", "building": "2", "floor": 9}
CORRIDOR_1_5 = {"id": "HD-1-05-corridor", "building": "1", "floor": 5}
UNIT_1_1203 = {"id": "HD-1-1203", "building": "1", "floor": 12, "unit": "03"}
SOMEWHERE_2 = {"id": "HD-2-nowhere-x", "building": "2"}

EVENTS = [
    # W45 (2024-11-04 .. 11-10, Beijing time)
    hazard("h-a1", "found", "2024-11-05T10:10:00+08:00", "HZ-A", CORRIDOR_2_9, due_at="2024-11-08T23:59:59+08:00"),
    hazard("h-b1", "found", "2024-11-06T09:00:00+08:00", "HZ-B", CORRIDOR_1_5, due_at="2024-11-30T23:59:59+08:00"),
    hazard("h-c1", "found", "2024-11-07T09:00:00+08:00", "HZ-C"),
    dispute("d-x1", "reported", "2024-11-08T09:00:00+08:00", "MD-X", person="P-0600", location=UNIT_1_1203,
            tags=["threat_of_violence"]),
    # W46 (11-11 .. 11-17)
    hazard("h-b2", "rectified", "2024-11-12T09:00:00+08:00", "HZ-B", CORRIDOR_1_5),
    dispute("d-11", "reported", "2024-11-12T09:00:00+08:00", "MD-1", person="P-0500", location=UNIT_1_1203,
            due_at="2024-11-20T23:59:59+08:00"),
    dispute("d-12", "mediation_held", "2024-11-13T09:00:00+08:00", "MD-1"),
    dispute("d-21", "reported", "2024-11-14T09:00:00+08:00", "MD-2", person="P-0101", tags=["threat_of_violence"]),
    dispute("d-x2", "resolved", "2024-11-15T09:00:00+08:00", "MD-X"),
    # W47 (11-18 .. 11-24)
    hazard("h-b3", "verified", "2024-11-19T09:00:00+08:00", "HZ-B", CORRIDOR_1_5),
    dispute("d-13", "resolved", "2024-11-20T09:00:00+08:00", "MD-1"),
    dispute("d-31", "reported", "2024-11-21T09:00:00+08:00", "MD-3", location=SOMEWHERE_2,
            due_at="2024-11-22T23:59:59+08:00"),
    dispute("d-32", "referred", "2024-11-21T15:00:00+08:00", "MD-3"),
    hazard("h-d1", "found", "2024-11-25T09:00:00+08:00", "HZ-D", CORRIDOR_2_9),  # next week: not in W47
]

# (case, owner, due, week made, done?) — the decisions of the meetings
DECISIONS = [
    ("hazard:HZ-A", "L02", "2024-11-15", "2024-W45"),  # due before W47's end, open: shown, overdue
    ("hazard:HZ-A", "L02", "2024-11-30", "2024-W45"),  # due after W47's end, made earlier: not shown
    ("dispute:MD-2", "L04", "2024-12-31", "2024-W47"),  # made in W47: shown, open
    ("hazard:HZ-C", "L10", "2024-12-31", "2024-W46"),  # not due, made earlier: not shown
    ("hazard:HZ-A", "L02", "2024-11-24", "2024-W46"),  # due on W47's last day: shown, open until the day ends
]


def write(tmp: Path) -> tuple[Path, Path]:
    rules = tmp / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return write_events(tmp / "events.jsonl", EVENTS), rules
