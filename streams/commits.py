"""The worker's own offsets on Faust's consumer: where each partition starts in a consumer
generation, which delivered messages an agent may process, reading skipped messages again, and
committing what is done. `Offsets` (streams/offsets.py) keeps the bookkeeping; this module talks to
the consumer.

Every call into aiokafka (committed, beginning_offsets, seek, commit) runs in Faust's consumer
thread: aiokafka is not thread-safe, and a seek from the event loop's thread raced the fetcher
(KeyError inside aiokafka's fetcher, the worker crashed). The Faust internals this needs are all in
streams/faust_internals.py.

Faust drops a fetched message whose offset is below the last one it delivered for that partition
(its read mark); a seek therefore also lowers that mark. Messages already fetched when the
seek happens can raise the mark again and make Faust drop the re-read ones, so a partition waiting
for its seek (`Offsets.seeking`) is sought again every RESEEK_AFTER seconds until the expected
offset arrives; otherwise such a partition stalled for good when no later message came.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.structs import OffsetAndMetadata, TopicPartition

from streams.faust_internals import (
    consumer_generation,
    in_consumer_thread,
    kafka_consumer,
    lower_read_mark,
    message_generation,
)
from streams.offsets import ACCEPT, GAP, Offsets, resume_offsets

log = logging.getLogger("riskwatch.stream")

RESEEK_AFTER = 2.0       # seconds before a seek that has not taken effect is repeated
REVOKE_TIMEOUT = 10.0    # seconds the last commit before a rebalance may take


def _kafka_tp(tp) -> TopicPartition:
    return TopicPartition(tp.topic, tp.partition)


class Commits:
    def __init__(self, app, consumed) -> None:
        self.app = app
        self.consumed = set(consumed)
        self.offsets = Offsets()
        self.ready = False
        self._initialised: int | None = None
        self._sought_at: dict = {}
        self._reseeks: dict = {}              # tp -> seeks repeated this generation (log noise)
        self._init_lock = asyncio.Lock()

    # -- admitting -------------------------------------------------------------------------------

    async def admit(self, events) -> list:
        """The events an agent may process now: of the current generation, and per partition in
        offset order from where this generation started. Repeats are dropped; a gap drops the
        message and seeks the partition back to the first offset not yet processed."""
        if not self.ready or not await self.initialise():
            return []
        generation = self.offsets.generation
        offsets = self.offsets
        out = []
        for event in events:
            m = event.message
            if message_generation(m) != generation:
                continue
            tp = m.tp
            if not offsets.known(tp):
                continue        # assigned after this generation started: the next one reads it
            verdict = offsets.accept(tp, m.offset)
            if verdict == ACCEPT:
                out.append(event)
            elif verdict == GAP and self._seek_due(tp):
                log.warning("messages skipped by the consumer: reading them again", extra={
                    "topic": tp.topic, "partition": tp.partition, "expected": offsets.next[tp], "got": m.offset})
                await self._seek(tp, offsets.next[tp])
        return out

    def done(self, events) -> None:
        """These events' effects are durable: their offsets may be committed."""
        generation = self.offsets.generation
        complete = self.offsets.complete
        for event in events:
            m = event.message
            if message_generation(m) == generation:
                complete(m.tp, m.offset + 1)

    # -- generations ------------------------------------------------------------------------------

    async def initialise(self) -> bool:
        """Once per consumer generation: read from the broker where each assigned partition of the
        consumed topics starts (the group's committed offset, else the log start). False when the
        generation changed meanwhile (its messages are then not processed)."""
        generation = consumer_generation(self.app)
        if self._initialised == generation:
            return True
        async with self._init_lock:
            if self._initialised == generation:
                return True
            tps = [tp for tp in self.app.consumer.assignment() if tp.topic in self.consumed]
            starts = await in_consumer_thread(self.app, self._read_starts, tps) if tps else {}
            if consumer_generation(self.app) != generation:
                return False
            self.offsets.new_generation(generation)
            self._sought_at.clear()
            self._reseeks.clear()
            for tp in tps:
                start = starts[_kafka_tp(tp)]
                self.offsets.start(tp, start)
                # Faust may have delivered this partition past `start` in an earlier generation and
                # deliver nothing more: read it again from the start. Every partition is sought, also
                # one Faust never delivered here: skipping those (to spare a fetch at start-up) let a
                # worker restarted after kill -9 sit on a partition it never read (the fault test).
                await self._seek(tp, start)
            self._initialised = generation
            log.debug("generation initialised", extra={"generation": generation, "partitions": len(tps)})
            return True

    async def _read_starts(self, tps) -> dict:
        return await resume_offsets(kafka_consumer(self.app), [_kafka_tp(tp) for tp in tps])

    # -- seeking ----------------------------------------------------------------------------------

    def _seek_due(self, tp) -> bool:
        return time.monotonic() - self._sought_at.get(tp, float("-inf")) >= RESEEK_AFTER

    async def _seek(self, tp, offset: int) -> None:
        self.offsets.seeking[tp] = offset
        self._sought_at[tp] = time.monotonic()
        key = _kafka_tp(tp)

        async def seek() -> None:
            consumer = kafka_consumer(self.app)
            if key in consumer.assignment():
                consumer.seek(key, offset)

        await in_consumer_thread(self.app, seek)
        lower_read_mark(self.app, tp, offset)

    async def reseek(self) -> None:
        """Timer: start a new generation even when no message comes; repeat the seeks that have not
        taken effect while the partition has messages from there on (module doc)."""
        if not self.ready or not await self.initialise():
            return
        for tp, offset in list(self.offsets.seeking.items()):
            try:
                end = self.app.consumer.highwater(tp)
            except Exception:  # noqa: BLE001 - not fetched yet, or no longer assigned
                end = None
            if end is not None and end <= offset:
                continue            # nothing to read from there yet
            if self._seek_due(tp) and self.offsets.next.get(tp) == offset:
                repeats = self._reseeks[tp] = self._reseeks.get(tp, 0) + 1
                # one line per partition and generation; a loaded machine repeats it every 2 s
                log.log(logging.INFO if repeats == 1 else logging.DEBUG, "seek not taken effect yet: seeking again",
                        extra={"topic": tp.topic, "partition": tp.partition, "offset": offset, "repeats": repeats})
                await self._seek(tp, offset)

    # -- committing -------------------------------------------------------------------------------

    async def commit(self, revoking: bool = False) -> None:
        """Commit, per partition, the offset before which everything is done."""
        if not (self.ready or revoking) or self._initialised != consumer_generation(self.app):
            return
        offsets = self.offsets.to_commit(self.app.consumer.assignment())
        if not offsets:
            return
        commit = {_kafka_tp(tp): OffsetAndMetadata(off, "") for tp, off in offsets.items()}

        async def commit_in_thread() -> None:
            await kafka_consumer(self.app).commit(commit)

        try:
            work = in_consumer_thread(self.app, commit_in_thread)
            await (asyncio.wait_for(work, REVOKE_TIMEOUT) if revoking else work)
        except Exception as exc:  # noqa: BLE001 - a rebalance or the broker away: the next commit retries
            log.warning("commit failed; retrying", extra={"error": repr(exc)})
            return
        self.offsets.committed_now(offsets)
