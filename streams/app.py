"""The Faust application: three agents, two changelog-backed tables, a progress timer.

    events.raw ──ingest──► events.dlq, events.ingested, events.by-entity (+ ticks)
    events.by-entity ──score──► risk.updates, alerts
    events.ingested + events.dlq + risk.updates + alerts ──sink──► database

The logic lives in streams/ingest.py, scoring.py and sink.py; this module moves messages between
them and Kafka, and decides when a source message counts as done. At-least-once with exactly-once
effects:
- agents take batches with `Stream.noack_take`; Faust's acks are off and the worker commits its own
  offsets (streams/commits.py: Faust's ack bookkeeping could commit past messages never processed
  around a rebalance). A message is done when its effects are durable, and the commit timer commits,
  per partition, the offset before which everything is done;
- ingest: a batch is done after everything it sent (fan-out, ticks, DLQ, ingested, table
  changelog) is acknowledged by the broker;
- score: outputs (risk.updates, alerts) are sent and acknowledged FIRST; the changed table values
  follow (every STATE_EVERY seconds, so a busy entity is written once for many batches); only then
  are messages done, in offset order, once all their records are applied (streams/acks.py). A crash
  between outputs and table write re-applies the records from the previous state and sends the
  same outputs again: the sink's writes are idempotent;
- sink: a batch is done after the database transaction committed.
Table writes go straight to the changelog topic with an explicit partition (`_put`): the agents
work on batches spanning partitions, where Faust's `table[key] = value` would pick the partition of
whatever event happens to be current.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import faust

from pipeline.alerting.records import ended_alerts
from pipeline.configset import ConfigSet
from pipeline.settings import Settings
from pipeline.storage.db import StorageUnavailable
from streams import codec
from streams.acks import AckQueue
from streams.commits import Commits
from streams.ended import EndedAlerts
from streams.ingest import Ingest
from streams.partitioning import EntityPartitioner
from streams.scoring import PartitionScorer, clock_key
from streams.sink import StreamWriter, decode
from streams.raw_reader import RawReader
from streams.topics import ENTITY_TABLE, INGEST_TABLE, PartitionCounts, TopicNames

log = logging.getLogger("riskwatch.stream")

MAX_MESSAGE = 900_000          # bytes per produced message (broker default limit ~1 MB)
TICK_EVERY = 0.25              # seconds between checks of the ingest's progress
IDLE_TICK = 1.0                # seconds between ticks when nothing changed
TAKE_WITHIN = 0.05             # seconds an agent waits to fill a batch
COMMIT_EVERY = 1.0             # seconds between two commits of the finished offsets
ALERT_POLL_EVERY = 5.0         # seconds between two reads of the alerts the workflow ended
STATE_EVERY = 0.5              # seconds between two writes of the scorers' changed table values


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


class StreamApp:
    def __init__(
        self,
        settings: Settings,
        cfg: ConfigSet,
        writer: StreamWriter,
        counts: PartitionCounts,
        *,
        clock: str,
        datadir: Path,
    ):
        self.settings = settings
        self.cfg = cfg
        self.writer = writer
        self.counts = counts
        self.clock = clock
        self.names = names = TopicNames.make(settings.topic_prefix, settings.app_id)
        self.counters = Counters()
        self.started = time.monotonic()
        bootstrap = ";".join(f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",") if h.strip())
        self.app = app = faust.App(
            settings.app_id,
            broker=bootstrap,
            store="memory://",
            datadir=str(datadir),
            web_enabled=False,
            topic_partitions=settings.topic_partitions,
            topic_replication_factor=settings.topic_replication,
            topic_disable_leader=True,
            processing_guarantee="at_least_once",
            stream_wait_empty=False,
            stream_buffer_maxsize=max(4 * settings.stream_batch, 4096),
            broker_commit_interval=1.0,
            # A killed worker's partitions are reassigned once its session expires; the default (60 s)
            # would stall a restarted worker that long. The broker's minimum is 6 s.
            broker_session_timeout=8.0,
            broker_heartbeat_interval=2.0,
            consumer_auto_offset_reset="earliest",
            producer_linger_ms=5,
            producer_max_batch_size=256 * 1024,
            producer_max_request_size=4 * 1024 * 1024,
            table_standby_replicas=1,
        )
        # acks=False: this app commits its own offsets (streams/commits.py, streams/offsets.py)
        raw_codec = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw", acks=False)
        self.by_entity_topic = app.topic(names.by_entity, partitions=counts.by_entity, **raw_codec)
        self.sink_topic = app.topic(names.ingested, names.dlq, names.updates, names.alerts, **raw_codec)
        raw_table = dict(key_type=bytes, value_type=bytes)   # raw serializers: values are our orjson bytes
        self.entity_table = app.Table(ENTITY_TABLE, partitions=counts.by_entity,
                                      help="per-entity engine state and applied positions", **raw_table)

        self.ingest = Ingest(cfg, names.raw, counts.by_entity, clock=clock,
                             max_skew=settings.clock_skew_seconds, dedupe_window=settings.dedupe_window_seconds)
        self.partition_of = EntityPartitioner(counts.by_entity)
        self.scorers: dict[int, PartitionScorer] = {}
        self.score_acks = AckQueue()
        self.ended = EndedAlerts()
        self.ingest_lock = asyncio.Lock()
        self._ingest_changelog = names.changelog(INGEST_TABLE)
        self.raw_reader = RawReader(
            ",".join(h.strip() for h in settings.kafka_bootstrap.split(",") if h.strip()), names.ingest_group,
            names.raw, names.changelog(INGEST_TABLE), batch=settings.stream_batch, lock=self.ingest_lock,
            on_assigned=self._raw_assigned, on_revoked=self._raw_revoked)
        self.score_lock = asyncio.Lock()
        self.commits = Commits(app, names.consumed)
        self._last_ticks: list | None = None
        self._last_tick_at = 0.0
        self._ends: dict = {}
        self._ends_at = 0.0
        self._last_state_write = time.monotonic()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskwatch-sink")
        self.sink_backlog = 0

        batch = settings.stream_batch
        app.task(self._ingest_loop)
        app.agent(self.by_entity_topic, name="riskwatch.score")(self._score_agent(batch))
        app.agent(self.sink_topic, name="riskwatch.sink")(self._sink_agent(batch))
        app.timer(TICK_EVERY, name="riskwatch.ticks")(self._tick_timer)
        app.timer(10.0, name="riskwatch.progress")(self._progress_timer)
        app.timer(ALERT_POLL_EVERY, name="riskwatch.ended-alerts")(self._ended_alerts_timer)
        app.timer(COMMIT_EVERY, name="riskwatch.commit")(self._commit_timer)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.on_rebalance_complete.connect(self._on_rebalance_complete)

    # -- rebalancing ---------------------------------------------------------------------------------

    async def _on_revoked(self, sender, revoked, **kwargs) -> None:
        self.commits.ready = False
        self._ends.clear()
        async with self.score_lock:
            # what is done stays done for the next owner: the scorers' table values, then the offsets
            try:
                await self._write_states(revoking=True)
                self.commits.done(self.score_acks.ready())
                await self.commits.commit(revoking=True)
            except Exception as exc:  # noqa: BLE001 - the next owner then re-applies a little more
                log.warning("could not save progress before the rebalance", extra={"error": repr(exc)})
            for tp in revoked:
                if tp.topic == self.names.by_entity:
                    self.scorers.pop(tp.partition, None)
            gone = set(revoked)
            self.score_acks.drop(lambda tp: tp not in gone)
        log.info("partitions revoked", extra={"partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in revoked)})

    async def _on_rebalance_complete(self, sender, **kwargs) -> None:
        self.commits.ready = True
        mine = sorted(f"{tp.topic}/{tp.partition}" for tp in self.app.consumer.assignment()
                      if tp.topic in self.names.consumed)
        log.info("partitions assigned", extra={"partitions": mine})

    # -- table writes ----------------------------------------------------------------------------------

    async def _put(self, table, partition: int, key: bytes, value: bytes | None):
        """Write a table value (None: delete) to the local store and the changelog; returns the send
        future, acknowledged once the changelog has it."""
        if value is None:
            table.data.pop(key, None)
        else:
            table.data[key] = value
        return await self.app.producer.send(
            table.changelog_topic.get_topic_name(), key, value, partition, None, None)

    async def _send(self, topic: str, key: bytes | None, value: bytes, partition: int | None):
        return await self.app.producer.send(topic, key, value, partition, None, None)

    # -- ingest -------------------------------------------------------------------------------------

    async def _ingest_loop(self) -> None:
        """events.raw in batches (streams/raw_reader.py); a batch is committed once everything it
        sent is on the broker."""
        reader = self.raw_reader
        await reader.start()
        try:
            async for messages in reader.batches():
                async with self.ingest_lock:
                    mine = set(reader.assigned())
                    messages = [m for m in messages if m[0] in mine]
                    if messages:
                        await self._fatal("ingest", self._ingest_batch(messages))
                        reader.done(messages)
                        await reader.commit()
        finally:
            await reader.stop()

    def _raw_assigned(self, p: int, items: list, start: int) -> None:
        self.ingest.forget(p)
        self.ingest.restore(p, items)
        self.ingest.next_offset[p] = start

    def _raw_revoked(self, partitions: list[int]) -> None:
        for p in partitions:
            self.ingest.forget(p)
        self._ends.clear()

    async def _fatal(self, agent: str, work):
        """Run a batch; any failure stops the worker. Agents keep state in memory next to the tables
        (and a failed send leaves them ahead of the changelog): the only safe way on is a fresh
        process that restores from Kafka, which the process supervisor starts (docs/stream.md)."""
        try:
            return await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.critical("batch failed: stopping the worker", exc_info=True, extra={"agent": agent})
            await self.app.crash(exc)
            raise

    async def _ingest_batch(self, messages: list) -> None:
        """messages: (events.raw partition, offset, value bytes), each partition in offset order."""
        out = self.ingest.process(messages, now=time.time())
        c = self.counters
        c.read += len(messages)
        c.accepted += out.accepted
        c.rejected += out.rejected
        c.duplicates += out.duplicates
        names = self.names
        futures = []
        ticks = self._ticks()
        header = {"n": self.counts.raw}
        for P in range(self.counts.by_entity):
            records = out.by_entity.get(P, [])
            parts = list(chunks(records, lambda r: codec.dumps({"r": r})))
            for i, (part, value) in enumerate(parts):
                if i == len(parts) - 1:
                    value = codec.dumps({"r": part, **header, "k": ticks})
                futures.append(await self._send(names.by_entity, None, value, P))
        for p, doc in out.ingested.items():
            for part, value in chunks(doc["e"], lambda e: codec.dumps({"p": p, "e": e, "d": []})):
                futures.append(await self._send(names.ingested, None, value, p))
            if doc["d"]:
                futures.append(await self._send(names.ingested, None, codec.dumps({"p": p, "e": [], "d": doc["d"]}), p))
        for p, value in out.dlq:
            futures.append(await self._send(names.dlq, None, value, p))
        for p, key, value in out.state:
            futures.append(await self._send(self._ingest_changelog, key, value, p))
        self._last_ticks, self._last_tick_at = ticks, time.monotonic()
        await asyncio.gather(*futures)

    def _caught_up(self, p: int) -> bool:
        """Processed to the end of events.raw partition p (as far as this worker knows the end: the
        last fetch's high watermark, or the end offset asked for every second by the tick timer)."""
        done = self.ingest.next_offset.get(p)
        if done is None:
            return False
        ends = [e for e in (self.raw_reader.fetched_end(p), self._ends.get(p)) if e is not None]
        return bool(ends) and done >= max(ends)

    async def _refresh_ends(self) -> None:
        """Ask the broker for the end of every assigned events.raw partition (an idle partition has
        no fresh high watermark from fetches)."""
        if time.monotonic() - self._ends_at < IDLE_TICK:
            return
        self._ends_at = time.monotonic()
        self._ends = await self.raw_reader.ends()

    def _ticks(self) -> list:
        return [self.ingest.tick(p, self._caught_up(p)) for p in self.raw_reader.assigned()
                if p in self.ingest.loaded]

    async def _tick_timer(self) -> None:
        """Progress ticks while the ingest is idle (a batch sends its own with its records)."""
        if not self.commits.ready or self.app.rebalancing:
            return
        try:
            await self._idle_ticks()
        except Exception as exc:  # noqa: BLE001 - e.g. the broker restarting: the next tick goes out
            log.warning("progress tick not sent", extra={"error": repr(exc)})

    async def _idle_ticks(self) -> None:
        await self._refresh_ends()
        async with self.ingest_lock:
            ticks = self._ticks()
            if not ticks:
                return
            if ticks == self._last_ticks and time.monotonic() - self._last_tick_at < IDLE_TICK:
                return
            value = codec.dumps({"r": [], "n": self.counts.raw, "k": ticks})
            futures = [await self._send(self.names.by_entity, None, value, P) for P in range(self.counts.by_entity)]
            self._last_ticks, self._last_tick_at = ticks, time.monotonic()
        await asyncio.gather(*futures)

    # -- scoring ------------------------------------------------------------------------------------

    def _score_agent(self, batch: int):
        async def score(stream):
            async for events in stream.noack_take(batch, within=TAKE_WITHIN):
                async with self.score_lock:
                    current = await self.commits.admit(events)
                    await self._fatal("score", self._score_batch(current))
                    if self.commits.ready and self._state_due():
                        await self._fatal("score", self._write_states())
                        self.commits.done(self.score_acks.ready())
        return score

    def _state_due(self) -> bool:
        """Table values go out every STATE_EVERY seconds (an entity changed by many batches is written
        once), and at once when there is nothing left to wait for (a drained input)."""
        if time.monotonic() - self._last_state_write >= STATE_EVERY:
            return True
        return all(s.watermark.caught_up() and not s.waiting for s in self.scorers.values())

    async def _write_states(self, revoking: bool = False) -> None:
        if not (self.commits.ready or revoking):
            return          # revoked: these partitions' values are another worker's to write now
        writes = []
        for P, scorer in self.scorers.items():
            for key, value in scorer.state_writes():
                writes.append(await self._put(self.entity_table, P, key, value))
        if writes:
            await asyncio.gather(*writes)
        self._last_state_write = time.monotonic()

    def _scorer(self, P: int) -> PartitionScorer:
        scorer = self.scorers.get(P)
        if scorer is None:
            scorer = self.scorers[P] = PartitionScorer(P, self.cfg, self.clock)
            meta = clock_key(P)
            partition_of = self.partition_of
            items = [
                (k, v) for k, v in self.entity_table.data.items()
                if k == meta or (k[:1] != b"~" and partition_of(k.decode("utf-8")) == P)
            ]
            scorer.restore(items)
            for entity, alert_id in self.ended.of_partition(P, partition_of):
                scorer.end_alert(entity, alert_id)
            log.info("scoring partition restored", extra={"partition": P, "entities": len(items),
                                                          "clock": scorer.engine.clock})
        return scorer

    async def _score_batch(self, events) -> None:
        for event in events:
            m = event.message
            scorer = self._scorer(m.partition)
            token = self.score_acks.add(m.tp, event)
            scorer.receive(codec.loads(event.value), token)
        now = time.time()
        flushed = [(P, scorer.flush(now)) for P, scorer in self.scorers.items()]
        names = self.names
        outputs = []
        for _, out in flushed:
            for c in out.contributions:
                outputs.append(await self._send(names.updates, c.entity.encode(), codec.contribution_value(c), None))
            for e in out.entities:
                outputs.append(await self._send(names.updates, e.ref.encode(), codec.entity_value(e), None))
            for a in out.alerts:
                outputs.append(await self._send(names.alerts, a.entity.encode(), codec.alert_value(a), None))
                log.info("alert " + a.change, extra={"entity": a.entity, "alert_id": a.alert_id,
                                                     "alert_level": a.level, "correlation_id": a.alert_id})
            self.counters.applied += out.applied
            self.counters.contributions += len(out.contributions)
            self.counters.alerts += len(out.alerts)
        if outputs:
            await asyncio.gather(*outputs)

    # -- sink ---------------------------------------------------------------------------------------

    def _sink_agent(self, batch: int):
        async def sink(stream):
            loop = asyncio.get_running_loop()
            await self._in_db(loop, lambda: self.writer.write_levels(self.cfg.rules.levels))
            async for events in stream.noack_take(batch, within=TAKE_WITHIN):
                current = await self.commits.admit(events)
                if not current:
                    continue
                data = decode([(e.message.topic, e.message.partition, e.message.offset, e.value) for e in current],
                              self.names)
                self.sink_backlog = len(current)
                result = await self._fatal("sink", self._in_db(loop, lambda: self.writer.write_stream(data)))
                self.sink_backlog = 0
                self.counters.written += data.rows
                log.debug("batch written", extra={"rows": result.rows, "attempts": result.attempts})
                self.commits.done(current)
        return sink

    async def _ended_alerts_timer(self) -> None:
        """Alerts resolved or closed by the workflow: their entities' next firings raise new alerts
        (streams/ended.py)."""
        since = self.ended.since
        loop = asyncio.get_running_loop()

        def read():
            with self.writer.engine.connect() as conn:
                return ended_alerts(conn, since)

        try:
            rows = await loop.run_in_executor(self._db, read)
        except Exception as exc:  # noqa: BLE001 - the database may be away: the next poll reads it
            log.warning("could not read the ended alerts; retrying", extra={"error": repr(exc)})
            return
        new = self.ended.add(rows)
        if not new:
            return
        async with self.score_lock:
            for entity, alert_id in new:
                scorer = self.scorers.get(self.partition_of(entity))
                if scorer is not None and scorer.end_alert(entity, alert_id):
                    log.info("alert ended by the workflow", extra={"entity": entity, "alert_id": alert_id,
                                                                  "correlation_id": alert_id})

    async def _in_db(self, loop, work):
        """Run a database write in the sink's thread until it succeeds (the database may be away)."""
        delay = 0.5
        while True:
            try:
                return await loop.run_in_executor(self._db, work)
            except StorageUnavailable as exc:
                log.warning("database unavailable; batch kept, retrying", extra={"error": str(exc), "retry_in": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _commit_timer(self) -> None:
        await self.commits.reseek()
        await self.commits.commit()

    # -- progress -----------------------------------------------------------------------------------

    async def _progress_timer(self) -> None:
        c = self.counters
        waiting = sum(s.waiting for s in self.scorers.values())
        log.info("progress", extra={
            "read": c.read, "accepted": c.accepted, "rejected": c.rejected, "duplicates": c.duplicates,
            "applied": c.applied, "contributions": c.contributions, "alerts": c.alerts, "rows_written": c.written,
            "waiting": waiting, "unacked_scoring": self.score_acks.held(),
            "watermarks": {P: s.watermark.low() for P, s in sorted(self.scorers.items())},
            "events_per_s": round(c.read / max(time.monotonic() - self.started, 1e-9), 1),
        })

    def idle(self) -> bool:
        """Nothing waiting here: every scorer's sources caught up, nothing pending, sink not writing."""
        return all(s.watermark.caught_up() and not s.waiting for s in self.scorers.values()) \
            and self.sink_backlog == 0
