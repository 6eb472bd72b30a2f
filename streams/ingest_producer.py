"""The Kafka sink of HTTP ingest (docs/contract.md §9, stream deployment): accepted events go to
`events.raw` for `riskwatch worker`, and a request is answered 200 only once the broker has every one
of them (acks=all).

Each message is the item as posted (an NDJSON line, or an array element re-encoded), keyed by its
event_id, as docs/stream.md asks of live producers: copies of one event_id land on one partition.
The worker validates again (the same contract), so what it rejects goes to events.dlq as for any
producer. What the endpoint itself rejects goes to the deployment's events.dlq in the same round,
one dead letter per item built by the stream's own `codec.dlq_value` (topic `http:<token name>/
<request id>`, partition 0, offset the item number: docs/ingest.md, "Rejected items"), keyed by that
source; the sink stores them in `rejections` as any dead letter.
An AIOKafkaProducer in the server's event loop, started on the first request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from pipeline.errors import KafkaUnavailable
from pipeline.ingest.items import Accepted
from pipeline.storage.rows import RejectedMessage
from streams import codec
from streams.topics import TopicNames

log = logging.getLogger("riskwatch.ingest")
SEND_TIMEOUT_S = 15.0
_partitioner = DefaultPartitioner()


async def send_keyed(producer: AIOKafkaProducer, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
    """Send (key, value) messages and return once the broker acknowledged all of them. Messages go
    in batches per partition (the partition Kafka's default partitioner gives the key, as for
    `send`), in their order: a send per message costs ~4 times more in aiokafka's Python code."""
    partitions = sorted(await producer.partitions_for(topic))
    by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
    for key, value in messages:
        by_partition.setdefault(_partitioner(key, partitions, partitions), []).append((key, value))
    sent = []
    for partition, items in by_partition.items():
        batch = producer.create_batch()
        for key, value in items:
            if batch.append(key=key, value=value, timestamp=None) is None:
                sent.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"a message of {len(value)} bytes does not fit in a producer batch")
        if batch.record_count():
            sent.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*sent)


def dead_letter(r: RejectedMessage) -> bytes:
    """The events.dlq value of an item the endpoint rejected: the stream's format, with the item's
    position in place of a topic partition and offset."""
    raw = r.raw.encode("utf-8", "surrogatepass") if isinstance(r.raw, str) else (r.raw or b"")
    return codec.dlq_value(raw, r.reason, r.detail or "", r.event_id, r.source, r.partition, r.position)


class KafkaSink:
    """Group commit: requests that arrive while a round is on its way to the broker wait and go
    together in the next round, one batch per partition, so concurrent requests share batches
    (aiokafka takes one pending batch per partition at a time: a batch per request per partition
    would queue behind each other)."""

    def __init__(self, bootstrap: str, topic: str, dlq_topic: str | None = None):
        self.bootstrap = bootstrap
        self.topic = topic
        # the deployment's events.dlq: the one of the same prefix as `topic` (its events.raw) unless given
        self.dlq_topic = dlq_topic or TopicNames.make(topic.removesuffix(TopicNames.make().raw)).dlq
        self._producer: AIOKafkaProducer | None = None
        self._lock: asyncio.Lock | None = None
        self._waiting: list[tuple[list[tuple[str, bytes, bytes]], asyncio.Future]] = []
        self._round: asyncio.Task | None = None

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
                                            max_batch_size=1024 * 1024, request_timeout_ms=30_000)
                try:
                    await producer.start()
                except (KafkaError, OSError) as exc:
                    await producer.stop()
                    raise KafkaUnavailable(self.bootstrap) from exc
                self._producer = producer
        return self._producer

    async def accept(self, events: Sequence[Accepted], rejections: Sequence[RejectedMessage] = ()) -> None:
        producer = await self._started()
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        messages = [(self.topic, a.event_id.encode(), a.raw) for a in events]
        messages += [(self.dlq_topic, r.source.encode(), dead_letter(r)) for r in rejections]
        self._waiting.append((messages, done))
        if self._round is None or self._round.done():
            self._round = asyncio.create_task(self._rounds(producer))
        try:
            await asyncio.wait_for(asyncio.shield(done), SEND_TIMEOUT_S)
        except (KafkaError, asyncio.TimeoutError) as exc:
            log.warning("events not acknowledged by the broker", extra={"error": repr(exc)})
            raise KafkaUnavailable(self.bootstrap) from exc

    async def _rounds(self, producer: AIOKafkaProducer) -> None:
        while self._waiting:
            waiting, self._waiting = self._waiting, []
            by_topic: dict[str, list[tuple[bytes, bytes]]] = {}
            for messages, _ in waiting:
                for topic, key, value in messages:
                    by_topic.setdefault(topic, []).append((key, value))
            try:
                await asyncio.gather(*(send_keyed(producer, topic, items) for topic, items in by_topic.items()))
            except Exception as exc:  # noqa: BLE001 - every request of the round gets the failure
                for _, done in waiting:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in waiting:
                    if not done.done():
                        done.set_result(None)
    async def ready(self) -> bool:
        try:
            producer = await self._started()
            partitions = await asyncio.wait_for(producer.partitions_for(self.topic), 3.0)
        except (KafkaUnavailable, KafkaError, asyncio.TimeoutError):
            return False
        return bool(partitions)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
