"""Every message the ingest side sends fits under the topics' limit, whatever one batch holds."""

from __future__ import annotations

import asyncio

import orjson

from pipeline.settings import Settings
from streams.ingest_side import MAX_MESSAGE, Counters, IngestSide
from streams.topics import MAX_MESSAGE_BYTES, PartitionCounts, TopicNames
from tests.pipeline import enginekit as ek


def test_a_batch_of_many_duplicates_and_large_events_is_split_under_the_limit():
    sent: list[tuple[str, int, bytes]] = []

    async def send(topic, key, value, partition):
        sent.append((topic, partition, value))
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    names = TopicNames.make("t.")
    side = IngestSide(Settings(), ek.project_config(), names, PartitionCounts(1, 2, 2), clock="event",
                      counters=Counters(), send=send, fatal=None)
    eid = "d" * 128
    big_text = "x" * 3900
    first = orjson.dumps(ek.event(eid, "monitoring", "gas_alarm", 0, loc="HD-2-0101", building="2"))
    large = [orjson.dumps(ek.event(f"e-{i}", "monitoring", "gas_alarm", i, loc="HD-2-0101", building="2",
                                   text=big_text)) for i in range(400)]
    messages = [(0, 0, first), *((0, 1 + i, x) for i, x in enumerate(large)),
                *((0, 401 + i, first) for i in range(8000))]        # 8,000 copies of one event: duplicates
    asyncio.run(side._batch(messages))
    assert side.counters.duplicates == 8000 and side.counters.accepted == 401
    assert max(len(v) for _, _, v in sent) <= MAX_MESSAGE < MAX_MESSAGE_BYTES
    ingested = [orjson.loads(v) for topic, _, v in sent if topic == names.ingested]
    assert sum(len(d["d"]) for d in ingested) == 8000 and sum(len(d["e"]) for d in ingested) == 401
