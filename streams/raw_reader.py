"""events.raw read in batches with aiokafka's getmany, beside the Faust app.

Why not a Faust agent: Faust hands every message on by itself (a task and a wait per message in
its fetcher, then a queue per stream); on this machine a Faust agent that does nothing but take
and ack reads ~13,000 messages/s, below the stream's throughput goal before any work is done
(bench/stream.py measures both). events.raw is the one topic with a message per event, so the
ingest reads it directly: one getmany per batch, its own consumer group (`<app_id>-ingest`), its
own commits after a batch's effects are on the broker, and its own state restore:

- the ingest state (accepted event ids, progress; streams/ingest.py) lives in the compacted topic
  `<app_id>-ingest-state-changelog`, one partition per events.raw partition, as a Faust table's
  changelog would; on assignment a partition's entries are read back from the start of that
  partition before any of its messages are processed;
- aiokafka delivers each partition in offset order from the committed offset (no seeks, no
  generations to filter); a revocation waits for the batch in hand (the ingest lock), so everything
  processed is committed before another worker takes the partition. A commit that fails (a
  rebalance under way, the broker away) is retried with the next batch; the next owner then
  processes a few messages again, which the ingest and the scorers recognise (same position).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from streams.offsets import resume_offsets

log = logging.getLogger("riskwatch.stream")

SESSION_TIMEOUT_MS = 8000      # as the Faust app's: a killed worker's partitions move after 8 s
HEARTBEAT_MS = 2000
FETCH_WAIT_MS = 50             # the longest a getmany waits to fill a batch


class RawReader(ConsumerRebalanceListener):
    def __init__(self, bootstrap: str, group: str, topic: str, changelog: str, *, batch: int, lock: asyncio.Lock,
                 on_assigned, on_revoked) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topic = topic
        self.changelog = changelog
        self.batch = batch
        self.lock = lock
        self._on_assigned = on_assigned       # (partition, [(key, value)], start offset) per assigned partition
        self._on_revoked = on_revoked         # sync (partitions) after the last commit
        self.consumer: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}   # done but not committed yet

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, client_id=f"{self.group}-{uuid.uuid4().hex[:6]}",
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=self.batch,
            session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=HEARTBEAT_MS,
            fetch_max_wait_ms=FETCH_WAIT_MS, max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=self)

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def batches(self):
        """Yield [(partition, offset, value bytes)], each partition in offset order; after the caller
        has made a batch's effects durable it calls `done(batch)` (under the lock it holds)."""
        while True:
            records = await self.consumer.getmany(timeout_ms=FETCH_WAIT_MS * 4, max_records=self.batch)
            if records:
                yield [(tp.partition, r.offset, r.value) for tp, rs in records.items() for r in rs]

    def done(self, batch) -> None:
        for p, offset, _ in batch:
            tp = TopicPartition(self.topic, p)
            if offset + 1 > self._pending.get(tp, -1):
                self._pending[tp] = offset + 1

    async def commit(self) -> None:
        """Commit what is done (call with the lock held)."""
        pending = {tp: off for tp, off in self._pending.items() if tp in self._started().assignment()}
        if not pending:
            return
        try:
            await self._started().commit({tp: OffsetAndMetadata(off, "") for tp, off in pending.items()})
        except Exception as exc:  # noqa: BLE001 - a rebalance or the broker away: the next batch retries
            log.warning("events.raw commit failed; retrying", extra={"error": repr(exc)})
            return
        for tp, off in pending.items():
            if self._pending.get(tp) == off:
                del self._pending[tp]

    # -- positions ----------------------------------------------------------------------------------

    def _started(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            raise RuntimeError("the events.raw reader has not been started")
        return self.consumer

    def assigned(self) -> list[int]:
        if self.consumer is None:
            return []
        return sorted(tp.partition for tp in self.consumer.assignment())

    def fetched_end(self, p: int) -> int | None:
        """The partition's end as of the last fetch (None before one)."""
        return self._started().highwater(TopicPartition(self.topic, p))

    async def ends(self) -> dict[int, int]:
        tps = [TopicPartition(self.topic, p) for p in self.assigned()]
        if not tps:
            return {}
        return {tp.partition: off for tp, off in (await self._started().end_offsets(tps)).items() if off is not None}

    # -- rebalancing ----------------------------------------------------------------------------------

    async def on_partitions_revoked(self, revoked) -> None:
        async with self.lock:
            await self.commit()
            self._pending.clear()
            self._on_revoked(sorted(tp.partition for tp in revoked))
        if revoked:
            log.info("partitions revoked", extra={"group": self.group,
                                                  "partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in revoked)})

    async def on_partitions_assigned(self, assigned) -> None:
        parts = sorted(tp.partition for tp in assigned)
        async with self.lock:
            starts = await resume_offsets(self.consumer, [TopicPartition(self.topic, p) for p in parts])
            for p, items in (await self._read_changelog(parts)).items():
                self._on_assigned(p, items, starts[TopicPartition(self.topic, p)])
        log.info("partitions assigned", extra={"group": self.group,
                                               "partitions": [f"{self.topic}/{p}" for p in parts]})

    async def _read_changelog(self, parts: list[int]) -> dict[int, list]:
        """The ingest state of these partitions: the last value of every key (None deletes a key)."""
        out: dict[int, dict] = {p: {} for p in parts}
        if not parts:
            return {}
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                  client_id=f"{self.group}-restore-{uuid.uuid4().hex[:6]}")
        await reader.start()
        try:
            tps = [TopicPartition(self.changelog, p) for p in parts]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            ends = await reader.end_offsets(tps)
            left = {tp for tp in tps if ends[tp] > await reader.position(tp)}
            while left:
                records = await reader.getmany(*left, timeout_ms=1000)
                for tp, rs in records.items():
                    state = out[tp.partition]
                    for r in rs:
                        if r.value is None:
                            state.pop(r.key, None)
                        else:
                            state[r.key] = r.value
                for tp in list(left):
                    if await reader.position(tp) >= ends[tp]:
                        left.discard(tp)
        finally:
            await reader.stop()
        return {p: list(state.items()) for p, state in out.items()}
