"""Which partition a message goes to.

- `EntityPartitioner`: an entity's partition of events.by-entity, the one Kafka's default partitioner
  gives the entity ref as a key (murmur2), so one entity lives on one partition whoever sends.
- `occurred_at_partition`: how `riskwatch produce` spreads a time-ordered file over events.raw. Lines
  with the same occurred_at go to the same partition (so file order = (t, partition, offset) order for
  equal times, and an exact duplicate lands where its original is), and different times spread
  evenly, so every partition advances through time at the same pace (small reorder buffers in the
  scoring agent, see streams/watermark.py). Each partition gets a subsequence of the file, so a
  time-ordered file gives time-ordered partitions: the stream's ordering assumption (docs/stream.md).
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


def occurred_at(line: bytes) -> float | None:
    """The occurred_at of a JSON line as epoch seconds, or None when it cannot be read."""
    try:
        doc = orjson.loads(line)
        return parse_time(doc["occurred_at"]).timestamp()
    except Exception:  # noqa: BLE001 - malformed lines are the consumer's to reject, not ours
        return None


class OccurredAtPartitioner:
    """line -> partition: equal occurred_at, equal partition; a line without a readable time stays with
    the previous line (it is rejected by the consumer anyway)."""

    def __init__(self, partitions: int):
        self.partitions = partitions
        self._last = 0

    def __call__(self, line: bytes) -> int:
        t = occurred_at(line)
        if t is not None:
            self._last = zlib.crc32(struct.pack(">d", t)) % self.partitions
        return self._last
