"""From the core's records (Event, Contribution, AlertChange, ...) to table rows.

Every row is a pure function of its input, never of the time it is written, so writing the same input
twice produces the same rows (the wall clock only enters `received_at`/`updated_at` of rejections and
positions, which are keyed by their position and not rewritten).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution

ENGINE_ACTOR = "engine"


@dataclass(frozen=True)
class EntityRecord:
    """An entity to store: `ref` is `<type>:<id>`; criticality is the area multiplier (docs/contract.md §4)."""

    ref: str
    building: str | None = None
    criticality: float = 1.0


@dataclass(frozen=True)
class RejectedMessage:
    """A rejected message and where it came from: (topic, partition, offset) in the stream,
    (file name, 0, line number) in replay. `raw` is the original message (bytes or text) when known."""

    source: str
    position: int
    reason: str
    partition: int = 0
    event_id: str | None = None
    detail: str | None = None
    raw: bytes | str | None = None
    received_at: datetime | None = None


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def contribution_id(entity: str, rule: str, fired_at: float, events) -> str:
    """Identity of a contribution: the same firing (entity, rule, time, evidence) is the same row."""
    key = f"{entity}\x1f{rule}\x1f{fired_at!r}\x1f" + "\x1e".join(events)
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


# Column order of the tuples below (the writer turns them into dicts only for executemany).
COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("event_id", "kind", "type", "occurred_at", "source", "building", "location_id", "doc"),
    "rejections": ("source", "partition", "position", "reason", "detail", "event_id", "raw", "raw_bytes",
                   "received_at"),
    "contributions": ("id", "entity", "rule", "category", "points", "fired_at", "events", "half_life_s",
                      "building"),
    "entities": ("ref", "type", "id", "building", "criticality"),
    "alerts": ("alert_id", "entity", "level", "assignee", "rules", "score", "raised_at", "status", "updated_at"),
    "alert_history": ("alert_id", "action", "level", "actor", "at", "detail"),
    "processed_positions": ("topic", "partition", "next_offset", "updated_at"),
    "levels": ("name", "threshold"),
}


def event_row(ev: Event) -> tuple:
    doc = ev.doc
    loc = doc.get("location") or {}
    return (ev.event_id, ev.kind, ev.type, utc(ev.t), doc.get("source", ""), loc.get("building"), loc.get("id"), doc)


def contribution_row(c: Contribution) -> tuple:
    return (contribution_id(c.entity, c.rule, c.at, c.events), c.entity, c.rule, c.category, float(c.points),
            utc(c.at), list(c.events), float(c.half_life), c.building)


def rejection_row(r: RejectedMessage, now: datetime) -> tuple:
    raw: str | None
    raw_bytes: bytes | None = None
    if isinstance(r.raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(r.raw).decode("utf-8")
        except UnicodeDecodeError:
            raw, raw_bytes = None, bytes(r.raw)
    else:
        raw = r.raw
    if raw is not None and "\x00" in raw:  # PostgreSQL text cannot hold NUL: keep the bytes instead
        raw_bytes = raw.encode("utf-8")
        raw = None
    return (r.source, r.partition, r.position, r.reason, r.detail or None, r.event_id, raw, raw_bytes,
            r.received_at or now)


def entity_row(e: EntityRecord) -> tuple:
    etype, _, eid = e.ref.partition(":")
    return (e.ref, etype, eid, e.building, float(e.criticality))


def alert_rows(changes: list[AlertChange]) -> tuple[list[tuple], list[tuple]]:
    """(alerts upserts, alert_history inserts). An alert's row is its latest change in the batch, with
    `raised_at` the earliest change seen (exact once its `raised` change was stored: the writer keeps
    the minimum). Raised and upgraded changes are history; attached ones only update rules and score."""
    alerts: dict[str, dict] = {}
    history: list[tuple] = []
    for ch in changes:
        at = utc(ch.at)
        row = alerts.get(ch.alert_id)
        if row is None or at >= row["updated_at"]:
            alerts[ch.alert_id] = {
                "alert_id": ch.alert_id,
                "entity": ch.entity,
                "level": ch.level,
                "assignee": ch.assignee,
                "rules": list(ch.rules),
                "score": round(float(ch.score), 4),
                "raised_at": at if row is None else min(at, row["raised_at"]),
                "status": "open",
                "updated_at": at,
            }
        else:
            row["raised_at"] = min(at, row["raised_at"])
        if ch.change in ("raised", "upgraded"):
            detail = {"entity": ch.entity, "assignee": ch.assignee, "rules": list(ch.rules),
                      "score": round(float(ch.score), 2)}
            history.append((ch.alert_id, ch.change, ch.level, ENGINE_ACTOR, at, detail))
    columns = COLUMNS["alerts"]
    return [tuple(a[c] for c in columns) for a in alerts.values()], history
