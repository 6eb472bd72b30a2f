"""`riskwatch notify [--once]`: the notifier (escalation, resolution, notices to leaders).

Reads config/channels.yaml beside assignments.yaml (`--config DIR` as every command) and the
environment variables it names; a broken file or a missing variable is refused with every problem
listed (exit 2). Without `--once` it runs passes every `--interval` until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db_or_exit
from pipeline.commands.common import ConfigDirOpt, fail, load_config_or_exit, refuse_config

notify_app = typer.Typer(help="The notifier: escalate, resolve and notify assigned leaders.", invoke_without_command=True)


def load_channels_or_exit(config_dir: Path | None, assignments, channels_file: Path | None = None):
    from pipeline.config_errors import ConfigError
    from pipeline.configset import config_file
    from pipeline.notify.config import load_channels

    try:
        return load_channels(channels_file or config_file("channels.yaml", config_dir), assignments)
    except ConfigError as exc:
        raise refuse_config(exc) from None


@notify_app.callback()
def notify_cmd(
    once: Annotated[bool, typer.Option("--once", help="One pass (sending every due notice at once), then exit")] = False,
    interval: Annotated[str, typer.Option("--interval", help="Time between passes")] = "5s",
    max_age: Annotated[str, typer.Option("--max-age", help="Alert changes older than this are not notified")] = "7d",
    channels: Annotated[Optional[Path], typer.Option("--channels", help="channels.yaml to use", dir_okay=False)] = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Run the notifier."""
    from datetime import timedelta

    from pipeline.config_errors import ConfigError
    from pipeline.notify.config import check_environment
    from pipeline.notify.notifier import Notifier
    from pipeline.settings import load_settings
    from pipeline.timeutil import duration_seconds

    try:
        every, age = duration_seconds(interval), duration_seconds(max_age)
    except ValueError as exc:
        raise fail(str(exc)) from None
    cfg = load_config_or_exit(config)
    chans = load_channels_or_exit(config, cfg.assignments, channels)
    try:
        check_environment(chans, os.environ)
        settings = load_settings()
    except ConfigError as exc:
        raise refuse_config(exc) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = open_db_or_exit(db)
    notifier = Notifier(engine, cfg, chans, grafana_url=settings.grafana_url, timezone=settings.timezone,
                        max_age=timedelta(seconds=age))
    try:
        if once:
            report = notifier.run_once(flush=True)
            typer.echo(f"escalated {report.escalated}, resolved {report.resolved}, planned {report.planned}, "
                       f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"
                       + (" (another notifier holds the lock)" if report.skipped else ""))
            for error in report.errors:
                typer.echo(f"  {error}", err=True)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        notifier.run(every, stop)
    finally:
        notifier.close()
        engine.dispose()
