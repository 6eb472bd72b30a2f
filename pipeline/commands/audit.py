"""`riskwatch audit list [--since TIME|DURATION] [--action A] [--json]`: read the append-only audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.errors import UsageError

audit_app = typer.Typer(help="The append-only audit log: reveals, exports, acknowledgements, rule changes, purges.",
                        no_args_is_help=True)


def parse_since(text: str) -> datetime:
    """An RFC 3339 time, a date (YYYY-MM-DD, UTC midnight) or a duration back from now (7d)."""
    from pipeline.timeutil import parse_duration, parse_time

    try:
        return datetime.now(UTC) - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a time, date or duration: {text!r} (e.g. 2024-11-01, 7d, 2024-11-01T08:00:00+08:00)") from None


def _detail(detail: dict | None) -> str:
    """周次：2024-W45；文件：a.xlsx、a.pdf；含真实身份：否 (nested values as compact JSON)."""
    import orjson

    from pipeline import labels

    def value(key: str, v) -> str:
        if isinstance(v, bool):
            return "是" if v else "否"
        if key == "export":
            return labels.label(labels.EXPORT_KINDS, str(v))
        if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
            return "、".join(str(x) for x in v)
        if isinstance(v, (dict, list)):
            return orjson.dumps(v).decode()
        return str(v)

    return "；".join(f"{labels.label(labels.AUDIT_FIELDS, k)}：{value(k, v)}" for k, v in (detail or {}).items())


@audit_app.command("list")
def list_cmd(
    since: Annotated[Optional[str],
                     typer.Option("--since", help="RFC 3339 time, YYYY-MM-DD, or a duration back from now (7d)")] = None,
    action: Annotated[Optional[str],
                      typer.Option("--action", help="Only this action (reveal, export, rules_apply, purge, ...)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout")] = False,
    db: DbOpt = None,
) -> None:
    """List audit records, oldest first."""
    import orjson

    from pipeline.audit import list_records

    try:
        start = parse_since(since) if since else None
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None
    engine = open_db(db)
    try:
        records = list_records(engine, since=start, action=action)
    finally:
        engine.dispose()
    if not as_json:
        from pipeline import labels
        from pipeline.commands.tables import show, table

        show(table(("序号", "时间（北京时间）", "操作人", "操作", "详情"), (
            (r.id, labels.time_text(r.at, year=True), r.actor, labels.label(labels.AUDIT_ACTIONS, r.action),
             _detail(r.detail)) for r in records)))
        return
    for r in records:
        at = r.at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        typer.echo(orjson.dumps({"id": r.id, "at": at, "actor": r.actor, "action": r.action, "detail": r.detail}).decode())
