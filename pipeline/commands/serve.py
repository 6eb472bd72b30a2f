"""`riskwatch serve`: the one-process deployment (docs/contract.md §9) — HTTP ingest, the engine, the
storage writer, the notifier, the alert API and the pages in one process on SQLite or PostgreSQL,
without Kafka. With `--kafka` the same ingest endpoint produces to events.raw instead, for
`riskwatch worker` (which then does the engine's and the writer's work); the API and pages stay.

Threads: uvicorn serves HTTP on the main thread's event loop; the engine loop (pipeline/serve/
processor.py) and the notifier each run in a daemon thread. Before HTTP opens, the engine loads its
stored state and runs one step, so deadlines that fell due while the process was down fire at once;
the notifier's first pass escalates what fell due meanwhile. A ledger uploaded in the workspace goes
through the same accept as POST /v1/events (pipeline/serve/ledger_sink.py; with --kafka, to
events.raw as `import ledger --to-kafka`), so the running engine scores it.

SIGTERM or SIGINT: uvicorn stops taking requests and finishes the ones in progress (an accepted
event is committed before its 200), the engine loop and the notifier stop after their current step,
and the process exits 0.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
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
    _leave_on_signals()
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
    stop, wake = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    try:
        app = create_app(engine, cfg.assignments, body_limit=settings.body_limit)
        if kafka:
            from pipeline.commands.ledger import kafka_sink

            sink = _kafka_sink(settings)
            ledger_sink = kafka_sink(settings, cfg)
        else:
            from pipeline.serve.ledger_sink import InboxSink

            sink, threads = _one_process(engine, cfg, settings, stop, wake, notify=not no_notify, config=config,
                                         db=db)
            ledger_sink = InboxSink(sink, cfg)
        if not no_pages:
            from pipeline.web.pages import mount_from_settings

            mount_from_settings(app, cfg, settings, ledger_sink)
        mount_ingest(app, engine, cfg.vocabulary, sink, body_limit=settings.ingest_body_limit,
                     max_skew=settings.clock_skew_seconds)

        def shutdown() -> None:
            # after the last request: the engine loop's step in progress commits (or not at all)
            _stop(stop, wake, threads)

        app.router.on_shutdown.append(shutdown)
        if kafka:
            app.router.on_shutdown.append(sink.close)
        log.info("serving", extra={"host": host, "port": port, "clock": settings.clock, "kafka": kafka})
        # The modules, config and app built so far live as long as the process: out of the collector's
        # sight, a full collection no longer walks them every few requests (ingest -> Kafka went from
        # 25,000 to 37,000 events/s in bench/ingest.py with this alone).
        gc.freeze()
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=False,
                    server_header=False)
    finally:
        _stop(stop, wake, threads)
        engine.dispose()


def _leave_on_signals() -> None:
    """While it serves, uvicorn takes SIGTERM and SIGINT and shuts down; then it raises the signal
    again at the handler that was there before. This one leaves through serve's `finally` (threads
    stopped, database closed) with exit code 0, where the default handler would kill the process
    (143) before it. Installed first, it also ends a start-up (imports, state loading) cleanly."""
    def leave(signum: int, frame: object) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, leave)


def _stop(stop: threading.Event, wake: threading.Event, threads: list[threading.Thread],
          patience: float = 10.0) -> None:
    """Stop the engine loop and the notifier: each finishes its current step or pass, `wake` ends
    the loop's idle wait at once. Threads still busy after `patience` are left behind (daemons), so
    a supervisor's stop stays prompt: an engine step commits entirely or not at all, and a notice
    being sent stays pending in the database for the next start."""
    stop.set()
    wake.set()
    deadline = time.monotonic() + patience
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _kafka_sink(settings):
    from pipeline.errors import UnknownTopic
    from streams.ingest_producer import KafkaSink
    from streams.kafka_io import topic_partitions
    from streams.topics import TopicNames

    topic = TopicNames.make(settings.topic_prefix, settings.app_id).raw
    if topic_partitions(settings.kafka_bootstrap, topic) is None:
        raise UnknownTopic(topic, settings.kafka_bootstrap)
    return KafkaSink(settings.kafka_bootstrap, topic)


def _one_process(engine, cfg, settings, stop: threading.Event, wake: threading.Event, *, notify: bool, config, db):
    """The database sink, the engine loop (started: state loaded, one step run) and the notifier."""
    from pipeline.ingest.sink import DatabaseSink
    from pipeline.serve.inbox import InboxWriter
    from pipeline.serve.processor import Processor

    notifier = None
    if notify:
        from pipeline.notify.service import build

        notifier = build(settings, config, None, db or settings.db_url)
    loop_writer = InboxWriter(engine, assignments=cfg.assignments)
    processor = Processor(loop_writer, cfg, clock=settings.clock)
    processor.step()
    threads = [threading.Thread(target=processor.run, args=(stop, wake), name="riskwatch-engine", daemon=True)]
    if notifier is not None:
        threads.append(threading.Thread(target=notifier.run, args=(NOTIFY_EVERY_S, stop), name="riskwatch-notifier",
                                        daemon=True))
    for thread in threads:
        thread.start()
    # ingest answers 503 after 2 s of a database that does not answer, rather than holding the client
    return DatabaseSink(InboxWriter(engine, retry_deadline=2.0, lock=loop_writer.lock, assignments=cfg.assignments),
                        wake), threads
