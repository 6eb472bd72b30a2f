"""What travels on the stream's topics: JSON (orjson) values, one format per topic.

events.by-entity (batched per partition by the ingest):
    {"r": [[entity_ref, t, source_partition, source_offset, event_doc], ...],
     "n": <events.raw partition count>,
     "k": [[source_partition, t_sent | null, caught_up (0/1), max_t | null], ...]}   progress ticks
events.ingested (batched per source partition):
    {"p": source_partition, "e": [[t, offset, event_doc], ...], "d": [[event_id, offset, first_partition, first_offset], ...]}
events.dlq (one rejection per message; docs/contract.md §1):
    {"reason", "detail", "event_id", "topic", "partition", "offset", "raw" | "raw_base64",
     "raw_length", "raw_sha256", "raw_truncated"}
    `raw` is a bounded copy of the original bytes (pipeline/rawcopy.py), and so is `detail`: a dead
    letter always fits on the broker, whatever was refused.
risk.updates (key = entity ref):
    {"type": "contribution", "entity", "rule", "category", "points", "at", "events", "half_life", "building",
     "score", "level"}  |  {"type": "entity", "ref", "building", "criticality"}
alerts (key = entity ref):
    {"change", "alert_id", "entity", "level", "assignee", "rules", "at", "score"}

Times are epoch seconds as JSON numbers: orjson writes the shortest repr of a float, so a time read
back is the same float, and contribution/alert identities (hashes of the time) match replay's.
"""

from __future__ import annotations

import base64

import orjson

from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.rawcopy import bounded_copy, bounded_detail
from pipeline.storage.rows import EntityRecord, RejectedMessage

dumps = orjson.dumps
loads = orjson.loads
NON_STR_KEYS = orjson.OPT_NON_STR_KEYS


def event_of(t: float, doc: dict) -> Event:
    """An accepted event as it was validated upstream (the ingest ran the contract on it)."""
    return Event(doc["event_id"], doc["kind"], doc["type"], t, doc)


# -- events.dlq ---------------------------------------------------------------------------------


def dlq_value(raw: bytes, reason: str, detail: str, event_id: str | None, topic: str, partition: int,
              offset: int) -> bytes:
    copy = bounded_copy(raw)
    doc: dict = {"reason": reason, "detail": bounded_detail(detail), "event_id": event_id,
                 "topic": topic, "partition": partition, "offset": offset,
                 "raw_length": copy.length, "raw_sha256": copy.sha256, "raw_truncated": copy.truncated}
    try:
        doc["raw"] = copy.prefix.decode("utf-8")
    except UnicodeDecodeError:
        doc["raw_base64"] = base64.b64encode(copy.prefix).decode("ascii")
    return dumps(doc)


def rejection_of(value: bytes) -> RejectedMessage:
    doc = loads(value)
    raw = doc.get("raw")
    if raw is None and doc.get("raw_base64") is not None:
        raw = base64.b64decode(doc["raw_base64"])
    return RejectedMessage(
        source=doc["topic"], position=int(doc["offset"]), reason=doc["reason"], partition=int(doc["partition"]),
        event_id=doc.get("event_id"), detail=doc.get("detail"), raw=raw,
        raw_length=doc.get("raw_length"), raw_sha256=doc.get("raw_sha256"),
    )


# -- risk.updates and alerts ----------------------------------------------------------------------


def contribution_value(c: Contribution) -> bytes:
    return dumps({
        "type": "contribution", "entity": c.entity, "rule": c.rule, "category": c.category, "points": c.points,
        "at": c.at, "events": c.events, "half_life": c.half_life, "building": c.building, "score": c.score,
        "level": c.level,
    })


def entity_value(e: EntityRecord) -> bytes:
    return dumps({"type": "entity", "ref": e.ref, "building": e.building, "criticality": e.criticality})


def update_of(value: bytes) -> Contribution | EntityRecord:
    d = loads(value)
    if d["type"] == "entity":
        return EntityRecord(d["ref"], d["building"], d["criticality"])
    return Contribution(d["entity"], d["rule"], d["category"], d["points"], d["at"], tuple(d["events"]),
                        d["half_life"], d["building"], d["score"], d["level"])


def alert_value(a: AlertChange) -> bytes:
    return dumps({"change": a.change, "alert_id": a.alert_id, "entity": a.entity, "level": a.level,
                  "assignee": a.assignee, "rules": a.rules, "at": a.at, "score": a.score})


def alert_of(value: bytes) -> AlertChange:
    d = loads(value)
    return AlertChange(d["change"], d["alert_id"], d["entity"], d["level"], d["assignee"], tuple(d["rules"]),
                       d["at"], d["score"])
