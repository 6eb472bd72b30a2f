"""The Faust application: the ingest task, two agents, a changelog-backed table, timers.

    events.raw ──ingest──► events.dlq, events.ingested, events.by-entity (+ ticks), ingest state
    events.by-entity ──score──► risk.updates, alerts
    events.ingested + events.dlq + risk.updates + alerts ──sink──► database

The logic lives in streams/ingest.py, scoring.py and sink.py; the ingest side (events.raw read in
batches with aiokafka beside Faust, streams/ingest_side.py and raw_reader.py) runs as a task of this
app; this module runs the scoring and sink agents, moves their messages between the logic and Kafka,
and decides when a message counts as done. At-least-once with exactly-once effects:
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
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import faust

from pipeline.alerting.records import ended_alerts
from pipeline.configset import ConfigSet
from pipeline.settings import Settings
from pipeline.storage.db import StorageUnavailable
from streams import codec
from streams.acks import AckQueue
from streams.commits import Commits
from streams.ended import EndedAlerts
from streams.faust_internals import changelog_topic, write_table
from streams.ingest_side import Counters, IngestSide
from streams.kafka_io import bootstrap_hosts
from streams.partitioning import EntityPartitioner
from streams.scoring import PartitionScorer, clock_key
from streams.sink import StreamWriter, decode
from streams.topics import ENTITY_TABLE, PartitionCounts, TopicNames

log = logging.getLogger("riskwatch.stream")

TICK_EVERY = 0.25              # seconds between checks of the ingest's progress
TAKE_WITHIN = 0.05             # seconds an agent waits to fill a batch
COMMIT_EVERY = 1.0             # seconds between two commits of the finished offsets
ALERT_POLL_EVERY = 5.0         # seconds between two reads of the alerts the workflow ended
STATE_EVERY = 0.5              # seconds between two writes of the scorers' changed table values
# After a failed batch the process ends within this many seconds, exit code 1, even when stopping
# Faust hangs (a send the broker keeps refusing, a stuck thread): a supervisor then restarts it.
FATAL_EXIT_WITHIN = 15.0


def exit_soon(within: float) -> None:
    """End the process with exit code 1 after `within` seconds unless it has ended by then. A daemon
    thread: it fires even when the event loop is blocked, and does not keep a clean exit waiting."""
    def end() -> None:
        log.critical("the worker did not stop in time after a failure: exiting", extra={"within_s": within})
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(within, end)
    timer.daemon = True
    timer.start()


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
        self.app = app = faust.App(
            settings.app_id,
            broker=";".join(f"kafka://{h}" for h in bootstrap_hosts(settings.kafka_bootstrap)),
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
        raw_codec: dict[str, Any] = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                                         acks=False)
        self.by_entity_topic = app.topic(names.by_entity, partitions=counts.by_entity, **raw_codec)
        self.sink_topic = app.topic(names.ingested, names.dlq, names.updates, names.alerts, **raw_codec)
        raw_table: dict[str, Any] = dict(key_type=bytes, value_type=bytes)   # raw: values are our orjson bytes
        # Faust would name the changelog <app_id>-<table>-changelog; the deployment's prefix goes in
        # front. Given at creation: Faust's recovery knows a table by its changelog's name from then.
        changelog = changelog_topic(app, names.changelog(ENTITY_TABLE), counts.by_entity)
        self.entity_table = app.Table(ENTITY_TABLE, partitions=counts.by_entity, changelog_topic=changelog,
                                      help="per-entity engine state and applied positions", **raw_table)

        self.partition_of = EntityPartitioner(counts.by_entity)
        self.scorers: dict[int, PartitionScorer] = {}
        self.score_acks = AckQueue()
        self.ended = EndedAlerts()
        self.ingest = IngestSide(settings, cfg, names, counts, clock=clock, counters=self.counters,
                                 send=self._send, fatal=self._fatal)
        self.score_lock = asyncio.Lock()
        self.commits = Commits(app, names.faust_consumed)
        self._last_state_write = time.monotonic()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskwatch-sink")
        self.sink_backlog = 0
        self.failed = False
        self._commit_task: asyncio.Future | None = None

        batch = settings.stream_batch
        app.task(self.ingest.run)
        app.agent(self.by_entity_topic, name="riskwatch.score")(self._score_agent(batch))
        app.agent(self.sink_topic, name="riskwatch.sink")(self._sink_agent(batch))
        app.timer(TICK_EVERY, name="riskwatch.ticks")(self.ingest.tick_timer)
        app.timer(10.0, name="riskwatch.progress")(self._progress_timer)
        app.timer(ALERT_POLL_EVERY, name="riskwatch.ended-alerts")(self._ended_alerts_timer)
        app.timer(COMMIT_EVERY, name="riskwatch.commit")(self._commit_timer)
        # Faust's Signal type wants handlers of (sender, *args, signal=..., **kwargs); it calls these two
        # with (sender, revoked) and (sender)
        app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]
        app.on_rebalance_complete.connect(self._on_rebalance_complete)  # type: ignore[arg-type]

    # -- rebalancing ---------------------------------------------------------------------------------

    async def _on_revoked(self, sender, revoked, **kwargs) -> None:
        self.commits.ready = False
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
                      if tp.topic in self.names.faust_consumed)
        log.info("partitions assigned", extra={"partitions": mine})

    # -- table writes ----------------------------------------------------------------------------------

    async def _put(self, table, partition: int, key: bytes, value: bytes | None):
        return await write_table(self.app, table, partition, key, value)

    async def _send(self, topic: str, key: bytes | None, value: bytes, partition: int | None):
        return await self.app.producer.send(topic, key, value, partition, None, None)

    # -- batches ------------------------------------------------------------------------------------

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
            self.failed = True
            exit_soon(FATAL_EXIT_WITHIN)
            await self.app.crash(exc)
            raise

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
                result = await self._fatal("sink", self._in_db(loop, lambda data=data: self.writer.write_stream(data)))
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
        """Seeks and commits run in Faust's consumer thread, queued behind its fetch (up to 1 s):
        one at a time, in a task of their own, so the timer never overruns its interval."""
        if self._commit_task is None or self._commit_task.done():
            self._commit_task = asyncio.ensure_future(self._reseek_and_commit())

    async def _reseek_and_commit(self) -> None:
        try:
            await self.commits.reseek()
            await self.commits.commit()
        except Exception as exc:  # noqa: BLE001 - e.g. a rebalance under way: the next tick tries again
            log.warning("seek or commit failed; retrying", extra={"error": repr(exc)})

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
