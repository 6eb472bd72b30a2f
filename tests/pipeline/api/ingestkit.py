"""What the POST /v1/events tests post: a valid hazard event of a source, with changes."""

from __future__ import annotations


def event(i: int, source: str = "patrol-app", **extra) -> dict:
    doc = {"event_id": f"e-{i}", "kind": "hazard", "type": "found", "occurred_at": "2024-11-05T09:00:00+08:00",
           "source": source, "location": {"id": "HD-1-0101", "building": "1"}}
    doc.update(extra)
    return doc
