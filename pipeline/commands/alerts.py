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
from pipeline.commands.common import ConfigDirOpt, read_config
from pipeline.errors import AlertNotFound

alerts_app = typer.Typer(help="Alerts: list, show, acknowledge, close (docs/contract.md §5).", no_args_is_help=True)

ActorOpt = Annotated[Optional[str], typer.Option("--actor", help="Who acts (default: cli:<login name>)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output")]


def _actor(actor: str | None) -> str:
    from pipeline.audit import cli_actor

    return actor or cli_actor()


@alerts_app.command("list")
def list_cmd(
    status: Annotated[Optional[list[str]],
                      typer.Option("--status", help="open, acknowledged, resolved, closed (repeatable)")] = None,
    level: Annotated[Optional[list[str]], typer.Option("--level", help="Level (repeatable)")] = None,
    assignee: Annotated[Optional[str], typer.Option("--assignee", help="Leader id")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigDirOpt = None,
) -> None:
    """Alerts, newest first."""
    from pipeline import labels
    from pipeline.alerting.records import list_alerts
    from pipeline.commands.tables import show, table

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
    cfg = read_config(config)
    leaders = cfg.assignments.leaders
    show(table(("触发时间（北京时间）", "风险对象", "等级", "风险分值", "状态", "包保领导", "预警编号"), (
        (labels.time_text(a.raised_at, cfg.area.tz, year=True), labels.entity_label(a.entity, cfg.area),
         labels.level_label(a.level), labels.score_text(a.score), labels.label(labels.ALERT_STATES, a.status),
         leaders[a.assignee].name if a.assignee in leaders else (a.assignee or "未指定"), a.alert_id)
        for a in found)))
    typer.echo(f"共 {len(found)} 条预警", err=True)


@alerts_app.command("show")
def show_cmd(alert_id: str, as_json: JsonOpt = False, db: DbOpt = None, config: ConfigDirOpt = None) -> None:
    """One alert with its history and notification deliveries."""
    from pipeline import labels
    from pipeline.alerting.records import deliveries_of, get_alert, history_of
    from pipeline.commands.tables import show, table

    engine = open_db(db)
    try:
        with engine.connect() as conn:
            alert = get_alert(conn, alert_id)
            if alert is None:
                raise AlertNotFound(f"没有编号为 {alert_id} 的预警")
            history_of_records = history_of(conn, alert_id)
            history = [h.as_dict() for h in history_of_records]
            deliveries = deliveries_of(conn, alert_id)
    finally:
        engine.dispose()
    doc = {**alert.as_dict(), "history": history, "deliveries": deliveries}
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    cfg = read_config(config)
    tz, leaders = cfg.area.tz, cfg.assignments.leaders
    titles = {r.id: r.title for r in cfg.rules.rules}

    def leader(lid: str | None) -> str:
        return f"{leaders[lid].name}（{lid}）" if lid in leaders else (lid or "未指定")

    facts = (("预警编号", alert.alert_id), ("风险对象", labels.entity_label(alert.entity, cfg.area)),
             ("楼栋", labels.building_label(alert.building) or "—"), ("等级", labels.level_label(alert.level, colour=True)),
             (labels.SCORE, labels.score_text(alert.score)), ("状态", labels.label(labels.ALERT_STATES, alert.status)),
             ("包保领导", leader(alert.assignee)), ("触发时间", labels.time_text(alert.raised_at, tz, year=True)),
             ("触发规则", "、".join(titles.get(r, r) for r in alert.rules)))
    for name, value in facts:
        typer.echo(f"{name}：{value}")
    show(table(("时间", "处置过程", "等级", "操作人", "说明"), (
        (labels.time_text(h.at, tz, year=True), labels.label(labels.ALERT_ACTIONS, h.action), labels.level_label(h.level),
         labels.SOURCES.get(h.actor, h.actor), json.dumps(h.detail, ensure_ascii=False) if h.detail else "")
        for h in history_of_records), title="处置记录"))
    show(table(("通知", "接收人", "渠道", "状态", "尝试次数", "原因"), (
        (labels.label(labels.NOTICE_KINDS, d["kind"]), leader(d["leader"]), labels.label(labels.CHANNEL_TYPES, d["channel"]),
         labels.label(labels.NOTIFICATION_STATES, d["status"]), d["attempts"], d["last_error"] or "")
        for d in deliveries), title="通知送达"))


def _act(action, alert_id: str, db: str | None, **kwargs) -> None:
    engine = open_db(db)
    try:
        alert = action(engine, alert_id, **kwargs)
    finally:
        engine.dispose()
    from pipeline.labels import ALERT_STATES, label

    typer.echo(f"{alert.alert_id}：{label(ALERT_STATES, alert.status)}")


@alerts_app.command("ack")
def ack_cmd(
    alert_id: str,
    note: Annotated[Optional[str], typer.Option("--note", help="Optional note for the history")] = None,
    actor: ActorOpt = None,
    db: DbOpt = None,
    config: ConfigDirOpt = None,
) -> None:
    """Acknowledge an open alert: escalation stops; it resolves once the score falls below alert_level."""
    from pipeline.alerting.actions import acknowledge

    cfg = read_config(config)  # its assignments own the alert's case (docs/contract.md §8)
    _act(acknowledge, alert_id, db, actor=_actor(actor), note=note, assignments=cfg.assignments)


@alerts_app.command("close")
def close_cmd(
    alert_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the alert is closed (required)")],
    actor: ActorOpt = None,
    db: DbOpt = None,
    config: ConfigDirOpt = None,
) -> None:
    """Close an alert by hand, with a reason."""
    from pipeline.alerting.actions import close

    cfg = read_config(config)
    _act(close, alert_id, db, actor=_actor(actor), reason=reason, assignments=cfg.assignments)
