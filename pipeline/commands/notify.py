"""`riskwatch notify [--once]`: the notifier (escalation, resolution, notices to leaders).

Reads config/channels.yaml beside assignments.yaml (`--config DIR` as every command) and the
environment variables it names; a broken file or a missing variable is refused with every problem
listed (exit 2). Without `--once` it runs passes every `--interval` until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, db_url
from pipeline.commands.common import ConfigDirOpt

notify_app = typer.Typer(help="The notifier: escalate, resolve and notify assigned leaders.", invoke_without_command=True)


@notify_app.callback()
def notify_cmd(
    once: Annotated[bool, typer.Option("--once", help="One pass (sending every due notice at once), then exit")] = False,
    interval: Annotated[str, typer.Option("--interval", help="Time between passes")] = "5s",
    max_age: Annotated[str, typer.Option("--max-age", help="Alert changes older than this are not notified")] = "7d",
    channels: Annotated[Optional[Path], typer.Option("--channels", help="channels.yaml to use", dir_okay=False)] = None,
    check: Annotated[bool, typer.Option("--check", help="List the leaders without a channel (exit 1 if any), then exit")]
    = False,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Run the notifier."""
    from datetime import timedelta

    from pipeline.notify.service import build, leaders_without_channel
    from pipeline.settings import load_settings
    from pipeline.timeutil import duration_seconds

    every, age = duration_seconds(interval), duration_seconds(max_age)
    settings = load_settings()
    if check:
        missing = leaders_without_channel(settings, config, channels)
        for lid, name in missing:
            typer.echo(f"{lid}\t{name}\t未配置通知渠道（其预警通知无法送达）")
        if missing:
            raise typer.Exit(1)
        typer.echo("每位包保领导均已配置通知渠道")
        return
    notifier = build(settings, config, channels, db_url(db), max_age=timedelta(seconds=age))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = notifier.engine
    try:
        if once:
            report = notifier.run_once(flush=True)
            typer.echo(f"escalated {report.escalated}, resolved {report.resolved}, planned {report.planned}, "
                       f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
                       f"uncertain {report.uncertain}"
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
