"""`riskwatch alerts list|show|ack|close`: the alert workflow from the command line.

Someone with the database in hand acts as admin; the actor recorded in the alert history and the
audit log is `--actor`, by default `cli:<login name>`. Exit code 3 for an unknown alert, 5 for an action
the alert's state does not allow, 2 for an unreachable database (pipeline/errors.py).
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.errors import AlertNotFound

alerts_app = typer.Typer(help="Alerts: list, show, acknowledge, close (docs/contract.md §5).", no_args_is_help=True)

ActorOpt = Annotated[Optional[str], typer.Option("--actor", help="Who acts (default: cli:<login name>)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output")]


def _actor(actor: str | None) -> str:
    from pipeline.audit import cli_actor

    return actor or cli_actor()


@alerts_app.command("list")
def list_cmd(
    status: Annotated[Optional[list[str]], typer.Option("--status", help="open, acknowledged, resolved, closed (repeatable)")] = None,
    level: Annotated[Optional[list[str]], typer.Option("--level", help="Level (repeatable)")] = None,
    assignee: Annotated[Optional[str], typer.Option("--assignee", help="Leader id")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Alerts, newest first."""
    from pipeline.alerting.records import list_alerts

    engine = open_db(db)
    try:
        with engine.connect() as conn:
            found = list_alerts(conn, statuses=status or None, levels=level or None,
                                assignees=[assignee] if assignee else None, limit=limit)
    finally:
        engine.dispose()
    if as_json:
        for a in found:
            typer.echo(json.dumps(a.as_dict(), ensure_ascii=False))
        return
    for a in found:
        score = "-" if a.score is None else f"{a.score:.2f}"
        typer.echo(f"{a.alert_id}  {a.status:<12} {a.level:<9} {score:>7}  {a.assignee or '-':<6} "
                   f"{a.raised_at:%Y-%m-%dT%H:%M}Z  {a.entity}")
    typer.echo(f"{len(found)} alert(s)", err=True)


@alerts_app.command("show")
def show_cmd(alert_id: str, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """One alert with its history and notification deliveries."""
    from pipeline.alerting.records import deliveries_of, get_alert, history_of

    engine = open_db(db)
    try:
        with engine.connect() as conn:
            alert = get_alert(conn, alert_id)
            if alert is None:
                raise AlertNotFound(f"没有编号为 {alert_id} 的预警")
            history = [h.as_dict() for h in history_of(conn, alert_id)]
            deliveries = deliveries_of(conn, alert_id)
    finally:
        engine.dispose()
    doc = {**alert.as_dict(), "history": history, "deliveries": deliveries}
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    for key in ("alert_id", "entity", "building", "level", "score", "status", "assignee", "raised_at"):
        typer.echo(f"{key:<10} {doc[key]}")
    typer.echo(f"rules      {', '.join(doc['rules'])}")
    typer.echo("history:")
    for h in history:
        detail = json.dumps(h["detail"], ensure_ascii=False) if h["detail"] else ""
        typer.echo(f"  {h['at']}  {h['action']:<12} {h['level']:<9} {h['actor']:<16} {detail}")
    typer.echo("deliveries:")
    for d in deliveries:
        typer.echo(f"  {d['kind']:<10} {d['leader']:<6} {d['channel']:<10} {d['status']:<8} "
                   f"attempts={d['attempts']} {d['last_error'] or ''}")


def _act(action, alert_id: str, db: str | None, **kwargs) -> None:
    engine = open_db(db)
    try:
        alert = action(engine, alert_id, **kwargs)
    finally:
        engine.dispose()
    typer.echo(f"{alert.alert_id}: {alert.status}")


@alerts_app.command("ack")
def ack_cmd(
    alert_id: str,
    note: Annotated[Optional[str], typer.Option("--note", help="Optional note for the history")] = None,
    actor: ActorOpt = None,
    db: DbOpt = None,
) -> None:
    """Acknowledge an open alert: escalation stops; it resolves once the score falls below alert_level."""
    from pipeline.alerting.actions import acknowledge

    _act(acknowledge, alert_id, db, actor=_actor(actor), note=note)


@alerts_app.command("close")
def close_cmd(
    alert_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the alert is closed (required)")],
    actor: ActorOpt = None,
    db: DbOpt = None,
) -> None:
    """Close an alert by hand, with a reason."""
    from pipeline.alerting.actions import close

    _act(close, alert_id, db, actor=_actor(actor), reason=reason)
