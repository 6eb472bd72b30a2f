"""`riskwatch serve`: the one-process deployment (docs/contract.md §9) — HTTP ingest, the engine, the
storage writer, the notifier, the alert API and the pages in one process on SQLite or PostgreSQL,
without Kafka. With `--kafka` the same ingest endpoint produces to events.raw instead, for
`riskwatch worker` (which then does the engine's and the writer's work); the API and pages stay.

Threads: uvicorn serves HTTP on the main thread's event loop; the engine loop (pipeline/serve/
processor.py) and the notifier each run in a daemon thread. Before HTTP opens, the engine loads its
stored state and runs one step, so deadlines that fell due while the process was down fire at once;
the notifier's first pass escalates what fell due meanwhile.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config
from pipeline.errors import UsageError

log = logging.getLogger("riskwatch.serve")
NOTIFY_EVERY_S = 5.0


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    clock: Annotated[Optional[str], typer.Option(
        "--clock", help="Engine clock: wall (default, live traffic) or event (greatest occurred_at: results equal "
        "`riskwatch replay` of the events in the order they were accepted; backfills, tests)")] = None,
    kafka: Annotated[bool, typer.Option("--kafka", help="Produce accepted events to events.raw (settings "
                                        "kafka_bootstrap, topic_prefix) for `riskwatch worker` instead of scoring "
                                        "them here")] = False,
    no_pages: Annotated[bool, typer.Option("--no-pages", help="Without the alert pages (they need "
                                           "RISKWATCH_LINK_SECRET)")] = False,
    no_notify: Annotated[bool, typer.Option("--no-notify", help="Without the notifier (it needs "
                                            "config/channels.yaml and the variables it names)")] = False,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Serve POST /v1/events and GET /v1/health, score what arrives, notify, and serve the API and pages."""
    import uvicorn

    from pipeline.api.app import create_app
    from pipeline.api.ingest import mount_ingest
    from pipeline.settings import load_settings
    from streams import jsonlog

    cfg = read_config(config)
    settings = load_settings(None, **({"clock": clock} if clock else {}))
    if not no_pages:
        from pipeline.web.links import Keys, LinkSecretMissing

        try:
            Keys.from_settings(settings)
        except LinkSecretMissing as exc:
            raise UsageError(f"{exc}; or pass --no-pages") from None
    engine = open_db(db)
    jsonlog.setup()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        app = create_app(engine, cfg.assignments, body_limit=settings.body_limit)
        if not no_pages:
            from pipeline.web.pages import mount_from_settings

            mount_from_settings(app, cfg, settings)
        if kafka:
            sink = _kafka_sink(settings)
        else:
            sink, threads = _one_process(engine, cfg, settings, stop, notify=not no_notify, config=config, db=db)
        mount_ingest(app, engine, cfg.vocabulary, sink, body_limit=settings.ingest_body_limit,
                     max_skew=settings.clock_skew_seconds)

        def shutdown() -> None:
            # uvicorn ends the process with the signal it caught after this: the engine loop's
            # step in progress commits (or not at all) before the threads are left behind
            stop.set()
            for thread in threads:
                thread.join(timeout=10)

        app.router.on_shutdown.append(shutdown)
        if kafka:
            app.router.on_shutdown.append(sink.close)
        log.info("serving", extra={"host": host, "port": port, "clock": settings.clock, "kafka": kafka})
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=False,
                    server_header=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        engine.dispose()


def _kafka_sink(settings):
    from pipeline.errors import UnknownTopic
    from streams.ingest_producer import KafkaSink
    from streams.kafka_io import topic_partitions
    from streams.topics import TopicNames

    topic = TopicNames.make(settings.topic_prefix, settings.app_id).raw
    if topic_partitions(settings.kafka_bootstrap, topic) is None:
        raise UnknownTopic(topic, settings.kafka_bootstrap)
    return KafkaSink(settings.kafka_bootstrap, topic)


def _one_process(engine, cfg, settings, stop: threading.Event, *, notify: bool, config, db):
    """The database sink, the engine loop (started: state loaded, one step run) and the notifier."""
    from pipeline.ingest.sink import DatabaseSink
    from pipeline.serve.inbox import InboxWriter
    from pipeline.serve.processor import Processor

    notifier = None
    if notify:
        from pipeline.notify.service import build

        notifier = build(settings, config, None, db or settings.db_url)
    wake = threading.Event()
    loop_writer = InboxWriter(engine)
    processor = Processor(loop_writer, cfg, clock=settings.clock)
    processor.step()
    threads = [threading.Thread(target=processor.run, args=(stop, wake), name="riskwatch-engine", daemon=True)]
    if notifier is not None:
        threads.append(threading.Thread(target=notifier.run, args=(NOTIFY_EVERY_S, stop), name="riskwatch-notifier",
                                        daemon=True))
    for thread in threads:
        thread.start()
    # ingest answers 503 after 2 s of a database that does not answer, rather than holding the client
    return DatabaseSink(InboxWriter(engine, retry_deadline=2.0, lock=loop_writer.lock), wake), threads
