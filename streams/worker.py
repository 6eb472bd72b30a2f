"""`riskwatch worker`: create the topics, open the database, run the Faust app until stopped.

With `until_drained` the worker stops by itself, cleanly (exit 0), once everything in events.raw has
gone all the way to the database: checked every DRAIN_CHECK seconds from the consumer group's
committed offsets (streams/lag.py) and this worker's own state; two checks in a row must agree.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.configset import ConfigSet
from pipeline.settings import Settings
from pipeline.storage.db import open_database
from streams.app import StreamApp
from streams.jsonlog import logging_config
from streams.lag import LagReader
from streams.sink import StreamWriter
from streams.topics import TopicNames, ensure_topics

log = logging.getLogger("riskwatch.stream.worker")

DRAIN_CHECK = 2.0
DRAIN_REPORT = 30.0            # seconds between two "not drained yet" lines


def run_worker(settings: Settings, cfg: ConfigSet, *, clock: str, until_drained: bool = False,
               log_level: str = "info") -> int:
    """Run until SIGTERM/SIGINT (or drained); returns the exit code."""
    import faust  # noqa: F401 - fail early and clearly when the stream extra is missing

    names = TopicNames.make(settings.topic_prefix, settings.app_id)
    counts = ensure_topics(settings.kafka_bootstrap, names, settings.topic_partitions, settings.topic_replication)
    engine = open_database(settings.db_url)
    writer = StreamWriter(engine, retry_deadline=5.0, assignments=cfg.assignments)
    datadir = Path(tempfile.mkdtemp(prefix=f"riskwatch-{settings.app_id}-"))
    try:
        stream = StreamApp(settings, cfg, writer, counts, clock=clock, datadir=datadir)
        if until_drained:
            stream.app.timer(DRAIN_CHECK, name="riskwatch.drained")(_drain_check(stream, settings, names))
        worker = stream.app.Worker(loglevel=log_level, logging_config=logging_config(log_level), quiet=True,
                                   redirect_stdouts=False)
        log.info("worker starting", extra={
            "app_id": settings.app_id, "clock": clock, "topics": names.consumed, "raw_partitions": counts.raw,
            "entity_partitions": counts.by_entity, "db": engine.url.render_as_string(hide_password=True),
        })
        # What is built so far (modules, config, the app) lives as long as the process: frozen out of
        # the collector's walks, a full collection no longer visits it every few batches.
        gc.freeze()
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            return 1 if stream.failed else int(exc.code or 0)
        return 1 if stream.failed else 0
    finally:
        writer.close()
        engine.dispose()
        shutil.rmtree(datadir, ignore_errors=True)


def _drain_check(stream: StreamApp, settings: Settings, names: TopicNames):
    state: dict[str, Any] = {"reader": None, "previous": None, "agreed": 0, "reported": time.monotonic()}

    async def check() -> None:
        if not stream.commits.ready or stream.app.rebalancing:
            state["agreed"] = 0
            return
        loop = asyncio.get_running_loop()
        try:
            if state["reader"] is None:
                state["reader"] = await loop.run_in_executor(None, LagReader, settings.kafka_bootstrap, names.group_of)
            lags = await loop.run_in_executor(None, state["reader"].read, names.consumed)
        except Exception as exc:  # noqa: BLE001 - the broker may be restarting: check again later
            log.warning("drain check failed; retrying", extra={"error": repr(exc)})
            reader, state["reader"], state["agreed"], state["previous"] = state["reader"], None, 0, None
            if reader is not None:
                await loop.run_in_executor(None, _close_quietly, reader)
            return
        previous, state["previous"] = state["previous"], {(x.topic, x.partition): x for x in lags}
        done = stream.idle() and previous is not None and sum(x.end for x in lags if x.topic == names.raw) > 0
        waiting_for = None if done else "this worker's scorers or sink"
        for x in lags if done else ():
            committed = x.committed or 0
            before = previous.get((x.topic, x.partition))
            if x.topic == names.by_entity:
                # progress ticks keep arriving: everything that was there at the last check is done
                done = before is not None and committed >= before.end
            else:
                done = committed >= x.end and before is not None and before.end == x.end
            if not done:
                waiting_for = f"{x.topic}/{x.partition} committed {x.committed} of {x.end}"
                break
        state["agreed"] = state["agreed"] + 1 if done else 0
        if waiting_for and time.monotonic() - state["reported"] >= DRAIN_REPORT:
            state["reported"] = time.monotonic()
            log.info("not drained yet", extra={"waiting_for": waiting_for})
        if state["agreed"] >= 2:
            log.info("input drained: stopping", extra={"counters": vars(stream.counters)})
            state["reader"].close()
            os.kill(os.getpid(), signal.SIGTERM)

    return check


def _close_quietly(reader: LagReader) -> None:
    try:
        reader.close()
    except Exception:  # noqa: BLE001
        pass
