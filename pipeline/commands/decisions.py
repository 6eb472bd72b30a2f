"""`riskwatch decisions add|done|list`: the meeting's decisions (研判意见, docs/contract.md §8).

`add` prints the new decision's id alone on the first line of stdout. The CLI acts as admin.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config

decisions_app = typer.Typer(help="Decisions of the risk-analysis meeting (研判意见): add, done, list.",
                            no_args_is_help=True)
ActorOpt = Annotated[Optional[str], typer.Option("--actor", help="Who acts (default: cli:<login name>)")]


def _principal(actor: str | None):
    from pipeline.alerting.access import Principal
    from pipeline.audit import cli_actor

    return Principal(actor or cli_actor(), "admin")


@decisions_app.command("add")
def add_cmd(
    case: Annotated[str, typer.Option("--case", help="Case reference, e.g. hazard:HZ-2024-0003")],
    text: Annotated[str, typer.Option("--text", help="The decision (研判意见 / 措施)")],
    owner: Annotated[str, typer.Option("--owner", help="Responsible leader id (责任人)")],
    due: Annotated[str, typer.Option("--due", help="Due date YYYY-MM-DD (时限)")],
    week: Annotated[Optional[str], typer.Option("--week", help="The meeting's ISO week (default: this week)")] = None,
    actor: ActorOpt = None,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Record a decision; prints its id alone on the first line."""
    from pipeline.cases.decisions import add_decision, parse_due

    cfg = read_config(config)
    due_date = parse_due(due)
    engine = open_db(db)
    try:
        decision = add_decision(engine, cfg.assignments, cfg.area.tz, case, text, owner, due_date,
                                _principal(actor), week)
    finally:
        engine.dispose()
    typer.echo(str(decision.id))
    typer.echo(f"已记录研判意见（{decision.week}，{decision.case}，责任人 {decision.owner}，时限 {decision.due}）", err=True)


@decisions_app.command("done")
def done_cmd(
    decision_id: Annotated[int, typer.Argument(help="Decision id")],
    note: Annotated[str, typer.Option("--note", help="How it was carried out (落实情况)")],
    actor: ActorOpt = None,
    db: DbOpt = None,
    config: ConfigDirOpt = None,
) -> None:
    """Mark a decision done, with a note on 落实情况."""
    from pipeline.cases.decisions import mark_done

    read_config(config)  # --config on every command (docs/contract.md §5): a refused one refuses the command
    engine = open_db(db)
    try:
        decision = mark_done(engine, decision_id, note, _principal(actor))
    finally:
        engine.dispose()
    typer.echo(f"{decision.id}：已落实")


@decisions_app.command("list")
def list_cmd(
    state: Annotated[Optional[str], typer.Option("--state", help="open, done or overdue")] = None,
    owner: Annotated[Optional[str], typer.Option("--owner", help="Only this leader's")] = None,
    case: Annotated[Optional[str], typer.Option("--case", help="Only this case's")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines output")] = False,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Decisions by id with their state now."""
    from datetime import UTC, datetime

    from pipeline.cases.decisions import list_decisions
    from pipeline.labels import DECISION_STATES, label

    cfg = read_config(config)
    tz = cfg.area.tz
    engine = open_db(db)
    try:
        with engine.connect() as conn:
            found = list_decisions(conn, tz, state, owner, case)
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    for d in found:
        if as_json:
            typer.echo(json.dumps(d.as_dict(now, tz), ensure_ascii=False))
        else:
            typer.echo(f"{d.id:>4}  {d.week}  {d.case:<28} {d.owner:<5} 时限 {d.due}  "
                       f"{label(DECISION_STATES, d.state_at(now, tz)):<6} {d.text}")
    typer.echo(f"共 {len(found)} 条", err=True)
