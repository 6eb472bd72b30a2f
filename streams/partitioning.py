"""Which partition a message goes to.

- `EntityPartitioner`: an entity's partition of events.by-entity, the one Kafka's default partitioner
  gives the entity ref as a key (murmur2), so one entity lives on one partition whoever sends.
- `OccurredAtPartitioner`: how `riskwatch produce` spreads a time-ordered file over events.raw. Lines
  with the same occurred_at go to the same partition (so file order = (t, partition, offset) order for
  equal times), and different times spread evenly, so every partition advances through time at the
  same pace (small reorder buffers in the scoring agent, see streams/watermark.py). Each partition
  gets a subsequence of the file, so a time-ordered file gives time-ordered partitions: the stream's
  ordering assumption (docs/stream.md).
- Copies of one event_id always go to one partition, in the order sent: whichever copy comes first
  is accepted and the others are duplicates, as in replay, whatever order the worker reads the
  partitions in. `OccurredAtPartitioner` sends a copy where the first line with its event_id went
  (a resend with a corrected time included); `riskwatch produce --partition-by event_id` and live
  producers key every message by its event_id (`event_id_key`), which Kafka's default partitioner
  (and its console producer with `parse.key=true`) turns into one partition per event_id.
"""

from __future__ import annotations

import struct
import zlib

import orjson
from kafka.partitioner.default import murmur2

from pipeline.timeutil import parse_time


def key_partition(key: bytes, partitions: int) -> int:
    """Kafka's default partition for a keyed message."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class EntityPartitioner:
    """Entity ref -> partition of events.by-entity (memoised: refs repeat and murmur2 is pure Python)."""

    def __init__(self, partitions: int):
        self.partitions = partitions
        self._memo: dict[str, int] = {}

    def __call__(self, ref: str) -> int:
        p = self._memo.get(ref)
        if p is None:
            if len(self._memo) > 1_000_000:
                self._memo.clear()
            p = self._memo[ref] = key_partition(ref.encode("utf-8"), self.partitions)
        return p


def _fields(line: bytes) -> tuple[float | None, str | None]:
    """(occurred_at as epoch seconds, event_id) of a JSON line; None for what cannot be read."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    eid = doc.get("event_id")
    try:
        t: float | None = parse_time(doc["occurred_at"]).timestamp()
    except Exception:  # noqa: BLE001 - malformed lines are the consumer's to reject, not ours
        t = None
    return t, eid if isinstance(eid, str) else None


def occurred_at(line: bytes) -> float | None:
    """The occurred_at of a JSON line as epoch seconds, or None when it cannot be read."""
    return _fields(line)[0]


def event_id_key(line: bytes) -> bytes | None:
    """The message key of a line: its event_id (None when it has none; the consumer rejects it)."""
    eid = _fields(line)[1]
    return eid.encode("utf-8") if eid is not None else None


class OccurredAtPartitioner:
    """line -> partition: equal occurred_at, equal partition; a copy of an event_id sent before goes
    where the first line with that event_id went; a line without a readable time stays with the
    previous line (it is rejected by the consumer anyway)."""

    def __init__(self, partitions: int):
        self.partitions = partitions
        self._last = 0
        self._first: dict[str, int] = {}       # event_id -> partition of its first line

    def __call__(self, line: bytes) -> int:
        t, eid = _fields(line)
        first = self._first.get(eid) if eid is not None else None
        if first is not None:
            return first
        if t is not None:
            self._last = zlib.crc32(struct.pack(">d", t)) % self.partitions
        if eid is not None:
            self._first[eid] = self._last
        return self._last
