"""`riskwatch db upgrade|status|purge [--db URL]`: the database's migrations, state and retention.

Registered by pipeline/cli.py as `app.add_typer(db_app, name="db")`. `--db` defaults to the settings'
`db_url`. Only `upgrade` creates a SQLite file; the others refuse a missing one (exit 2).
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from typing import Annotated, Optional

import typer

from pipeline.commands.access import db_url
from pipeline.errors import UsageError

db_app = typer.Typer(help="Database: migrations (upgrade), status, retention (purge).", no_args_is_help=True)

DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db (default: settings db_url)"),
]


def _settings():
    from pipeline.settings import load_settings

    return load_settings()


@db_app.command("upgrade")
def upgrade_cmd(db: DbOpt = None) -> None:
    """Create or migrate the database schema to the newest revision (idempotent).

    Runs as the schema owner: `--db`, else the settings' db_owner_url, else db_url. The services hold
    only the runtime role, which owns nothing (docs/exports-and-privacy.md, Database roles)."""
    from pipeline.storage import db as storage

    url = db or _settings().db_owner_url or _settings().db_url
    engine = storage.make_engine(url)
    try:
        storage.ping(engine)
        before = storage.current_revision(engine)
        head = storage.head_revision()
        if before == head:
            typer.echo(f"{storage.mask_url(url)}: already at {head}")
            return
        if before is not None and before not in storage.known_revisions():
            raise storage.SchemaOutdated(
                f"database schema at unknown revision {before} (this riskwatch knows up to {head}): "
                "it was written by a newer riskwatch"
            )
        storage.upgrade(engine)
    finally:
        engine.dispose()
    typer.echo(f"{storage.mask_url(url)}: upgraded from {before or 'empty'} to {head}")


@db_app.command("status")
def status_cmd(db: DbOpt = None) -> None:
    """Show the schema revision, the expected head and the rows of every table."""
    from pipeline.storage import db as storage

    url = db_url(db)
    engine = storage.make_engine(url)
    storage.ping(engine)
    current = storage.current_revision(engine)
    counts = storage.row_counts(engine)
    head = storage.head_revision()
    if current == head:
        state = "up to date"
    elif current is not None and current not in storage.known_revisions():
        state = "unknown revision (newer riskwatch?)"
    else:
        state = f"outdated: run `riskwatch db upgrade --db {storage.mask_url(url)}`"
    typer.echo(f"database: {storage.mask_url(url)}")
    typer.echo(f"revision: {current or 'none'}")
    typer.echo(f"head:     {head} ({state})")
    width = max(len(name) for name in counts)
    for name, n in counts.items():
        typer.echo(f"  {name:<{width}}  {'-' if n is None else n:>10}")


@db_app.command("purge")
def purge_cmd(
    before: Annotated[
        Optional[str], typer.Option("--before", help="Remove what is older than this duration (default: settings retention)")
    ] = None,
    db: DbOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove events, rejections and contributions older than the cutoff, serve's applied accept-log rows
    received before it, and person entities left without contributions or open alerts; an audit_log record
    keeps the counts (never contents)."""
    from pipeline.storage import db as storage
    from pipeline.storage.purge import count_purge, purge
    from pipeline.timeutil import parse_duration

    duration = before or _settings().retention
    try:
        age = parse_duration(duration)
    except ValueError as exc:
        raise UsageError(f"--before: {exc}") from None
    url = db_url(db)
    cutoff = datetime.now(UTC) - age
    engine = storage.open_database(url)
    counts = count_purge(engine, cutoff)
    shown = cutoff.isoformat(timespec="seconds").replace("+00:00", "Z")
    typer.echo(
        f"{storage.mask_url(url)}: before {shown} ({duration} ago): {counts.events} events, "
        f"{counts.rejections} rejections, {counts.contributions} contributions, {counts.entities} person entities, "
        f"{counts.inbox} accept-log rows"
    )
    if counts.total and not yes:
        if not sys.stdin.isatty():
            raise UsageError("not removing anything without --yes when not run interactively")
        typer.confirm("Remove them?", abort=True)
    try:
        done = purge(engine, cutoff, actor=f"cli:{_user()}", detail={"retention": duration})
    finally:
        engine.dispose()
    typer.echo(
        f"removed {done.events} events, {done.rejections} rejections, {done.contributions} contributions, "
        f"{done.entities} person entities, {done.inbox} accept-log rows (recorded in audit_log)"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"
