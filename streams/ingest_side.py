"""The worker's ingest side: events.raw (streams/raw_reader.py) through the ingest (streams/ingest.py)
to events.dlq, events.ingested, events.by-entity and the ingest-state changelog, and the progress
ticks every by-entity partition's watermark is built from (streams/watermark.py).

A batch is committed on events.raw once everything it sent (fan-out with its ticks, DLQ, ingested,
ingest state) is acknowledged by the broker. While the ingest is idle, ticks still go out every
IDLE_TICK seconds, or as soon as they change (a partition read to its end counts as caught up).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from pipeline.configset import ConfigSet
from pipeline.settings import Settings
from streams import codec
from streams.ingest import Ingest
from streams.kafka_io import bootstrap_hosts
from streams.raw_reader import RawReader
from streams.topics import INGEST_TABLE, PartitionCounts, TopicNames

log = logging.getLogger("riskwatch.stream")

MAX_MESSAGE = 900_000          # bytes per produced message (broker default limit ~1 MB)
IDLE_TICK = 1.0                # seconds between ticks when nothing changed


@dataclass
class Counters:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    applied: int = 0
    contributions: int = 0
    alerts: int = 0
    written: int = 0


def chunks(items: list, encode, limit: int = MAX_MESSAGE):
    """Encode `items` into messages of at most `limit` bytes (halving the list as needed)."""
    value = encode(items)
    if len(value) <= limit or len(items) <= 1:
        yield items, value
        return
    half = len(items) // 2
    yield from chunks(items[:half], encode, limit)
    yield from chunks(items[half:], encode, limit)


class IngestSide:
    def __init__(self, settings: Settings, cfg: ConfigSet, names: TopicNames, counts: PartitionCounts, *,
                 clock: str, counters: Counters, send, fatal) -> None:
        self.names = names
        self.counts = counts
        self.counters = counters
        self._send = send           # async (topic, key, value, partition) -> the broker's ack future
        self._fatal = fatal         # async (agent name, work): runs a batch, stops the worker on failure
        self.ingest = Ingest(cfg, names.raw, counts.by_entity, clock=clock,
                             max_skew=settings.clock_skew_seconds, dedupe_window=settings.dedupe_window_seconds)
        self.lock = asyncio.Lock()
        self._changelog = names.changelog(INGEST_TABLE)
        self.reader = RawReader(
            ",".join(bootstrap_hosts(settings.kafka_bootstrap)), names.ingest_group,
            names.raw, self._changelog, batch=settings.stream_batch, lock=self.lock,
            on_assigned=self._assigned, on_revoked=self._revoked)
        self._last_ticks: list | None = None
        self._last_tick_at = 0.0
        self._ends: dict[int, int] = {}
        self._ends_at = 0.0
        self._ends_task: asyncio.Future | None = None
        self._revocations = 0
        self._tick_task: asyncio.Future | None = None

    # -- reading ------------------------------------------------------------------------------------

    async def run(self) -> None:
        """The Faust app's task: read, process and commit batches until the app stops."""
        reader = self.reader
        await reader.start()
        try:
            async for messages in reader.batches():
                async with self.lock:
                    mine = set(reader.assigned())
                    messages = [m for m in messages if m[0] in mine]
                    if messages:
                        await self._fatal("ingest", self._batch(messages))
                        reader.done(messages)
                        await reader.commit()
                        log.debug("batch ingested", extra={"messages": len(messages)})
        finally:
            await reader.stop()

    def _assigned(self, p: int, items: list, start: int) -> None:
        self.ingest.forget(p)
        self.ingest.restore(p, items)
        self.ingest.next_offset[p] = start

    def _revoked(self, partitions: list[int]) -> None:
        for p in partitions:
            self.ingest.forget(p)
        self._ends.clear()
        self._revocations += 1

    async def _batch(self, messages: list) -> None:
        """messages: (events.raw partition, offset, value bytes), each partition in offset order."""
        out = self.ingest.process(messages, now=time.time())
        c = self.counters
        c.read += len(messages)
        c.accepted += out.accepted
        c.rejected += out.rejected
        c.duplicates += out.duplicates
        names, send = self.names, self._send
        futures = []
        ticks = self._ticks()
        header = {"n": self.counts.raw}
        for P in range(self.counts.by_entity):
            records = out.by_entity.get(P, [])
            parts = list(chunks(records, lambda r: codec.dumps({"r": r})))
            for i, (part, value) in enumerate(parts):
                if i == len(parts) - 1:
                    value = codec.dumps({"r": part, **header, "k": ticks})
                futures.append(await send(names.by_entity, None, value, P))
        for p, doc in out.ingested.items():
            for _, value in chunks(doc["e"], lambda e, p=p: codec.dumps({"p": p, "e": e, "d": []})):
                futures.append(await send(names.ingested, None, value, p))
            if doc["d"]:
                for _, value in chunks(doc["d"], lambda d, p=p: codec.dumps({"p": p, "e": [], "d": d})):
                    futures.append(await send(names.ingested, None, value, p))
        for p, value in out.dlq:
            futures.append(await send(names.dlq, None, value, p))
        for p, key, value in out.state:
            futures.append(await send(self._changelog, key, value, p))
        self._last_ticks, self._last_tick_at = ticks, time.monotonic()
        await asyncio.gather(*futures)

    # -- progress ticks ---------------------------------------------------------------------------

    def _caught_up(self, p: int) -> bool:
        """Processed to the end of events.raw partition p (as far as this worker knows the end: the
        last fetch's high watermark, or the end offset asked for every second by the tick timer)."""
        done = self.ingest.next_offset.get(p)
        if done is None:
            return False
        ends = [e for e in (self.reader.fetched_end(p), self._ends.get(p)) if e is not None]
        return bool(ends) and done >= max(ends)

    def _refresh_ends(self) -> None:
        """Ask the broker for the end of every assigned events.raw partition (an idle partition has
        no fresh high watermark from fetches), in the background: a round trip to the broker (half
        a second while the worker starts) would make the tick timer overrun its interval."""
        if self._ends_task is not None or time.monotonic() - self._ends_at < IDLE_TICK:
            return
        self._ends_at = time.monotonic()
        self._ends_task = asyncio.ensure_future(self._read_ends())

    async def _read_ends(self) -> None:
        revocations = self._revocations
        try:
            ends = await self.reader.ends()
            if revocations == self._revocations:      # not from before a rebalance
                self._ends = ends
        except Exception as exc:  # noqa: BLE001 - e.g. the broker restarting: the next refresh asks again
            log.warning("events.raw ends not read", extra={"error": repr(exc)})
        finally:
            self._ends_task = None

    def _ticks(self) -> list:
        return [self.ingest.tick(p, self._caught_up(p)) for p in self.reader.assigned() if p in self.ingest.loaded]

    async def tick_timer(self) -> None:
        """Progress ticks while the ingest is idle (a batch sends its own with its records). Sent by
        a task of their own, one at a time: waiting for the broker here (slow during a rebalance)
        would make the timer overrun its interval."""
        if self._tick_task is None or self._tick_task.done():
            self._tick_task = asyncio.ensure_future(self._send_idle_ticks())

    async def _send_idle_ticks(self) -> None:
        try:
            await self._idle_ticks()
        except Exception as exc:  # noqa: BLE001 - e.g. the broker restarting: the next tick goes out
            log.warning("progress tick not sent", extra={"error": repr(exc)})

    async def _idle_ticks(self) -> None:
        self._refresh_ends()
        if self.lock.locked():
            return          # a batch is under way and sends its own ticks; waiting would overrun the timer
        async with self.lock:
            ticks = self._ticks()
            if not ticks:
                return
            if ticks == self._last_ticks and time.monotonic() - self._last_tick_at < IDLE_TICK:
                return
            value = codec.dumps({"r": [], "n": self.counts.raw, "k": ticks})
            futures = [await self._send(self.names.by_entity, None, value, P) for P in range(self.counts.by_entity)]
            self._last_ticks, self._last_tick_at = ticks, time.monotonic()
        await asyncio.gather(*futures)
