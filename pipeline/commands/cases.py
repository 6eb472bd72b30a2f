"""`riskwatch cases list|show|note|reassign|close|refresh`: the cases of docs/contract.md §8.

Someone with the database in hand acts as admin; the actor recorded is `--actor`, by default
`cli:<login name>`. Tables are in Chinese (officers read them), times in Beijing time.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config

cases_app = typer.Typer(help="Cases (隐患、纠纷、预警、一人一案): list, show, note, reassign, close.",
                        no_args_is_help=True)

ActorOpt = Annotated[Optional[str], typer.Option("--actor", help="Who acts (default: cli:<login name>)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output")]


def _principal(actor: str | None):
    from pipeline.alerting.access import Principal
    from pipeline.audit import cli_actor

    return Principal(actor or cli_actor(), "admin")


def _case_line(c, now, area) -> str:
    from pipeline.cases.brief import case_place
    from pipeline.labels import CASE_KINDS, case_state_label, label, time_text

    late = c.days_overdue(now)
    overdue = f"逾期{late}天" if late else ("已逾期" if c.is_overdue(now) else "")
    return (f"{c.ref:<28} {label(CASE_KINDS, c.kind):<5} {case_state_label(c.kind, c.state):<6} {c.owner or '-':<5} "
            f"{case_place(c, area) or '-':<16} 期限 {time_text(c.due) or '无':<12} {overdue}")


@cases_app.command("list")
def list_cmd(
    leader: Annotated[Optional[str], typer.Option("--leader", help="Only this leader's cases")] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="hazard, dispute, alert or person")] = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Closed cases too")] = False,
    as_json: JsonOpt = False,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Cases now, overdue first (open ones unless --all)."""
    from datetime import UTC, datetime

    from pipeline.cases.derive import derive_cases

    cfg = read_config(config)
    engine = open_db(db)
    try:
        with engine.connect() as conn:
            cases = derive_cases(conn, cfg.assignments)
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    chosen = sorted((c for c in cases.values() if (include_closed or c.is_open)
                     and (leader is None or c.owner == leader) and (kind is None or c.kind == kind)),
                    key=lambda c: (-c.days_overdue(now), c.opened_at, c.ref))
    if as_json:
        for c in chosen:
            typer.echo(json.dumps(c.as_dict(now), ensure_ascii=False))
        return
    for c in chosen:
        typer.echo(_case_line(c, now, cfg.area))
    typer.echo(f"共 {len(chosen)} 件", err=True)


@cases_app.command("show")
def show_cmd(ref: str, as_json: JsonOpt = False, config: ConfigDirOpt = None, db: DbOpt = None) -> None:
    """One case with its notes, 转办 and closing."""
    from datetime import UTC, datetime

    from pipeline.cases.actions import case_actions
    from pipeline.cases.derive import derive_case
    from pipeline.errors import NotFound
    from pipeline.labels import CASE_ACTIONS, NOTE_KINDS, label, time_text

    cfg = read_config(config)
    engine = open_db(db)
    try:
        with engine.connect() as conn:
            case = derive_case(conn, cfg.assignments, ref)
            if case is None:
                raise NotFound(f"no case {ref}")
            actions = case_actions(conn, ref)
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    if as_json:
        typer.echo(json.dumps({**case.as_dict(now), "actions": [a.as_dict() for a in actions]},
                              ensure_ascii=False, indent=2))
        return
    typer.echo(_case_line(case, now, cfg.area))
    typer.echo(f"立案 {time_text(case.opened_at, year=True)}  最近处置 {time_text(case.last_action_at, year=True)}")
    for a in actions:
        what = label(NOTE_KINDS, a.note_kind) if a.action == "note" else label(CASE_ACTIONS, a.action)
        to = f" → {a.owner}" if a.owner else ""
        typer.echo(f"  {time_text(a.at, year=True)}  {what}{to}  {a.actor}：{a.text or ''}")


@cases_app.command("note")
def note_cmd(
    ref: str,
    text: Annotated[str, typer.Option("--text", help="The note")],
    kind: Annotated[str, typer.Option("--kind", help="measure (处置措施) or progress (进展)")] = "progress",
    actor: ActorOpt = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Add a note (处置措施 / 进展) to a case."""
    from pipeline.cases.actions import add_note

    cfg = read_config(config)
    engine = open_db(db)
    try:
        done = add_note(engine, cfg.assignments, ref, _principal(actor), text, kind)
    finally:
        engine.dispose()
    typer.echo(f"{done.ref}：已记录（{done.id}）")


@cases_app.command("reassign")
def reassign_cmd(
    ref: str,
    to: Annotated[str, typer.Option("--to", help="The leader who takes the case over")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required)")],
    actor: ActorOpt = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """转办: give a case to another leader, with a reason."""
    from pipeline.cases.actions import reassign

    cfg = read_config(config)
    engine = open_db(db)
    try:
        done = reassign(engine, cfg.assignments, ref, _principal(actor), to, reason)
    finally:
        engine.dispose()
    typer.echo(f"{done.ref}：已转办 {done.owner}")


@cases_app.command("close")
def close_cmd(
    ref: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the case is closed (required)")],
    actor: ActorOpt = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Close a person case (一人一案) by hand, or an alert case with its alert."""
    from pipeline.cases.actions import close_case

    cfg = read_config(config)
    engine = open_db(db)
    try:
        close_case(engine, cfg.assignments, ref, _principal(actor), reason)
    finally:
        engine.dispose()
    typer.echo(f"{ref}：已办结")


@cases_app.command("refresh")
def refresh_cmd(config: ConfigDirOpt = None, db: DbOpt = None) -> None:
    """Rewrite the cases table from the stored events and alerts (e.g. after assignments.yaml changed)."""
    from pipeline.cases.store import refresh_cases

    cfg = read_config(config)
    engine = open_db(db)
    try:
        with engine.begin() as conn:
            n = refresh_cases(conn, cfg.assignments)
    finally:
        engine.dispose()
    typer.echo(f"已更新 {n} 件")
