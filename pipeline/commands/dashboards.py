"""`riskwatch dashboards build|lint|push|render` (registered in pipeline/cli.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.common import ConfigDirOpt, read_config, time_option
from pipeline.errors import ServiceUnavailable, UsageError

dashboards_app = typer.Typer(help="Grafana dashboards: build JSON + provisioning, lint, push, render screenshots.",
                             no_args_is_help=True)


def _built(config):
    from dashboards.catalog import build_all
    from dashboards.common import DATASOURCE_UID
    from dashboards.lint import lint

    dashboards = build_all(read_config(config))
    problems = [p for d in dashboards.values() for p in lint(d, {DATASOURCE_UID})]
    if problems:
        for p in problems:
            typer.echo(f"lint: {p}", err=True)
        raise UsageError(f"{len(problems)} lint problem(s): nothing written")
    return dashboards


@dashboards_app.command("build")
def build_cmd(
    config: ConfigDirOpt = None,
    out: Annotated[Optional[Path], typer.Option(help="Output directory (default dashboards/provisioning)")] = None,
) -> None:
    """Write every dashboard's JSON and the Grafana provisioning files (datasource, dashboard provider)."""
    from dashboards.provisioning import DEFAULT_OUT, write

    dashboards = _built(config)
    for path in write(dashboards, out or DEFAULT_OUT):
        typer.echo(str(path))


@dashboards_app.command("lint")
def lint_cmd(config: ConfigDirOpt = None) -> None:
    """Check the dashboards offline (ids, grid, datasource uids, variables, titles); exit 2 on a problem."""
    dashboards = _built(config)
    typer.echo(f"{len(dashboards)} dashboards, {sum(len(d['panels']) for d in dashboards.values())} panels: ok")


@dashboards_app.command("push")
def push_cmd(
    url: Annotated[str, typer.Option(help="Grafana base URL, e.g. http://grafana:3000")],
    token: Annotated[str, typer.Option(envvar="GRAFANA_TOKEN", help="Service account token (or env GRAFANA_TOKEN)")],
    db: Annotated[Optional[str], typer.Option(help="PostgreSQL URL Grafana reads (default: the settings' db_url)")] = None,
    db_host: Annotated[Optional[str], typer.Option(help="host:port of PostgreSQL as Grafana sees it (default from --db)")] = None,
    config: ConfigDirOpt = None,
) -> None:
    """Create or update the folder 虹都中心风险监测, the datasource and every dashboard; print what changed."""
    from grafana_client.client import GrafanaException

    from dashboards.push import DatabaseAccess, Pusher
    from pipeline.settings import load_settings

    dashboards = _built(config)
    try:
        access = DatabaseAccess.from_url(db or load_settings().db_url, host=db_host)
        pusher = Pusher.connect(url, token)
        changes = pusher.push(dashboards, access)
    except GrafanaException as exc:
        raise ServiceUnavailable(f"Grafana at {url} refused: {exc.message}") from None
    for change in changes:
        typer.echo(str(change))
    changed = sum(c.action != "unchanged" for c in changes)
    typer.echo(f"{changed} changed, {len(changes) - changed} unchanged")


@dashboards_app.command("render")
def render_cmd(
    db: Annotated[Optional[str], typer.Option(help="PostgreSQL URL with the data (default: the settings' db_url)")] = None,
    out: Annotated[Path, typer.Option(help="Directory for the PNG files")] = Path("docs/img"),
    start: Annotated[Optional[str], typer.Option("--from", help="Range start (RFC 3339); default: --to minus 7 days")] = None,
    end: Annotated[
        Optional[str], typer.Option("--to", help="Range end (RFC 3339); default: midnight after the last event")
    ] = None,
    config: ConfigDirOpt = None,
) -> None:
    """Render each dashboard's panel data to PNG with matplotlib, in the dashboard's grid layout."""
    from zoneinfo import ZoneInfo

    from dashboards.macros import TimeRange
    from dashboards.queryrun import run_dashboard
    from dashboards.render import render_dashboard
    from pipeline.settings import load_settings
    from pipeline.storage.db import make_engine, ping

    cfg = read_config(config)
    dashboards = _built(config)
    engine = make_engine(db or load_settings().db_url)
    if engine.dialect.name != "postgresql":
        raise UsageError("render runs the dashboards' PostgreSQL queries: give a postgresql:// URL")
    ping(engine)
    tz = ZoneInfo(cfg.area.timezone)
    to = _instant(end, "--to") or _after_last_event(engine, tz)
    frm = _instant(start, "--from") or to - timedelta(days=7)
    tr = TimeRange(frm, to)
    subtitle = f"{frm.astimezone(tz):%Y-%m-%d %H:%M} — {to.astimezone(tz):%Y-%m-%d %H:%M}"
    from pipeline.commands.progress import Steps

    with Steps(len(dashboards), "看板截图") as step:
        for uid, dash in dashboards.items():
            step(dash.get("title", uid))
            _, results = run_dashboard(engine, dash, tr)
            typer.echo(str(render_dashboard(dash, results, out / f"{uid}.png", cfg.area.timezone, subtitle)))
    engine.dispose()


def _instant(text: str | None, name: str) -> datetime | None:
    from datetime import UTC

    seconds = time_option(text, name)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _after_last_event(engine, tz) -> datetime:
    import sqlalchemy as sa

    with engine.connect() as conn:
        last = conn.execute(sa.text("SELECT max(occurred_at) FROM events")).scalar()
    if last is None:
        raise UsageError("the database holds no events: replay some first (riskwatch replay FILE --db URL)")
    local = last.astimezone(tz)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))
