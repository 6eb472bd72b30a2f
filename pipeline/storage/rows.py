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
from pipeline.rawcopy import bounded_copy, bounded_detail

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
    # Set when `raw` is already a bounded copy (a dead letter): the original's length and SHA-256.
    raw_length: int | None = None
    raw_sha256: str | None = None


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
                   "received_at", "raw_length", "raw_sha256"),
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
    """The row of a rejection: never more of the original than pipeline.rawcopy keeps (a 200 MB line
    is stored as its first 64 KiB, its length and its hash), text when UTF-8, else bytes."""
    raw: str | None = None
    raw_bytes: bytes | None = None
    length, sha256 = r.raw_length, r.raw_sha256
    if r.raw is not None:
        original = r.raw.encode("utf-8", "surrogatepass") if isinstance(r.raw, str) else bytes(r.raw)
        copy = bounded_copy(original)
        if length is None:
            length, sha256 = copy.length, copy.sha256
        raw = _utf8_prefix(copy.prefix, copy.truncated or length > len(copy.prefix))
        if raw is None or "\x00" in raw:  # not UTF-8, or NUL (PostgreSQL text cannot hold it): the bytes
            raw, raw_bytes = None, copy.prefix
    return (r.source, r.partition, r.position, r.reason, bounded_detail(r.detail), r.event_id, raw, raw_bytes,
            r.received_at or now, length, sha256)


def _utf8_prefix(prefix: bytes, cut: bool) -> str | None:
    """`prefix` as text when it is UTF-8; a character the cut split in two at the end is left out."""
    try:
        return prefix.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(prefix) - 3 and exc.reason == "unexpected end of data":
            return prefix[:exc.start].decode("utf-8")
        return None


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
