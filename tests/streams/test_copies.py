"""Copies of one event_id resolve as in replay, whatever order the worker reads partitions in: a
producer puts every copy on one partition (streams/partitioning.py, docs/stream.md)."""

from __future__ import annotations

import struct
import zlib

import orjson

from pipeline.timeutil import parse_time
from streams.ingest import Ingest
from streams.partitioning import OccurredAtPartitioner, event_id_key
from tests.pipeline import enginekit as ek


def line(eid: str, at: float) -> bytes:
    return orjson.dumps(ek.event(eid, "monitoring", "gas_alarm", at, loc="HD-2-0101", building="2"))


def time_partition(line_: bytes, partitions: int = 4) -> int:
    """Where the line's occurred_at alone would send it."""
    t = parse_time(orjson.loads(line_)["occurred_at"]).timestamp()
    return zlib.crc32(struct.pack(">d", t)) % partitions


def test_a_resent_event_with_a_corrected_time_goes_where_its_first_copy_went():
    part = OccurredAtPartitioner(4)
    first, corrected = line("e-1", 0), line("e-1", 3 * 60)
    assert time_partition(first) != time_partition(corrected)     # the times alone would split them
    lines = [first, *(line(f"e-{i}", i * 60) for i in range(2, 6)), corrected]
    assigned = [part(x) for x in lines]
    assert assigned[-1] == assigned[0]
    assert assigned[1:-1] == [time_partition(x) for x in lines[1:-1]]      # other lines as before


def test_live_producers_key_by_event_id():
    assert event_id_key(line("e-77", 0)) == b"e-77"
    assert event_id_key(b"not json") is None and event_id_key(b'{"event_id": 5}') is None


def _accepted(messages) -> list:
    ingest = Ingest(ek.project_config(), "events.raw", 4)
    out = ingest.process(messages)
    return sorted(orjson.dumps(doc).decode() for p in out.ingested.values() for _, _, doc in p["e"])


def test_which_copy_is_accepted_does_not_depend_on_partition_read_order():
    lines = [line("e-1", 0), line("e-2", 60), line("e-3", 120), line("e-1", 3 * 60), line("e-4", 240)]
    part = OccurredAtPartitioner(4)
    positions: dict[int, int] = {}
    messages = []
    for x in lines:
        p = part(x)
        messages.append((p, positions.get(p, 0), x))
        positions[p] = positions.get(p, 0) + 1
    by_partition = sorted(messages, key=lambda m: (m[0], m[1]))
    reversed_partitions = sorted(messages, key=lambda m: (-m[0], m[1]))
    first_copy = orjson.loads(lines[0])
    assert _accepted(by_partition) == _accepted(reversed_partitions)
    assert orjson.dumps(first_copy).decode() in _accepted(reversed_partitions)     # replay keeps the first
