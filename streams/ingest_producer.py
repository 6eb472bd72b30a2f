"""The Kafka sink of HTTP ingest (docs/contract.md §9, stream deployment): accepted events go to
`events.raw` for `riskwatch worker`, and a request is answered 200 only once the broker has every one
of them (acks=all).

Each message is the item as posted (an NDJSON line, or an array element re-encoded), keyed by its
event_id, as docs/stream.md asks of live producers: copies of one event_id land on one partition.
The worker validates again (the same contract), so what it rejects goes to events.dlq as for any
producer. An AIOKafkaProducer in the server's event loop, started on the first request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pipeline.contract import Event
from pipeline.errors import KafkaUnavailable

log = logging.getLogger("riskwatch.ingest")
SEND_TIMEOUT_S = 15.0


class KafkaSink:
    def __init__(self, bootstrap: str, topic: str):
        self.bootstrap = bootstrap
        self.topic = topic
        self._producer: AIOKafkaProducer | None = None
        self._lock: asyncio.Lock | None = None

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
                                            max_batch_size=512 * 1024, request_timeout_ms=10_000)
                try:
                    await producer.start()
                except (KafkaError, OSError) as exc:
                    await producer.stop()
                    raise KafkaUnavailable(self.bootstrap) from exc
                self._producer = producer
        return self._producer

    async def accept(self, events: Sequence[tuple[Event, bytes]]) -> None:
        producer = await self._started()
        try:
            sent = [await producer.send(self.topic, value=raw, key=ev.event_id.encode()) for ev, raw in events]
            await asyncio.wait_for(asyncio.gather(*sent), SEND_TIMEOUT_S)
        except (KafkaError, asyncio.TimeoutError) as exc:
            log.warning("events not acknowledged by the broker", extra={"error": repr(exc)})
            raise KafkaUnavailable(self.bootstrap) from exc

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
