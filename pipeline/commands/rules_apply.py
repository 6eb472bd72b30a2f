"""`riskwatch rules apply FILE`: change control for the rules in force.

Validates FILE (guardrails included; a refused file changes nothing), shows what changes against the
rules in force (`--config DIR`'s rules.yaml, else settings' config_dir), replays the last `--days`
(30) of stored events under both rule sets and lists the entities whose level would change. Then,
unless `--dry-run`, it asks (or takes `--yes`), replaces the rules file atomically, stores the new
levels in the database and writes an audit record with the diff and the what-if summary.
The stream workers read the rules file when they start: restart them to put the change in force.
"""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import UTC
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.commands.access import DbOpt, open_db
from pipeline.commands.common import ConfigDirOpt, read_config, time_option
from pipeline.commands.rules import rules_app
from pipeline.errors import UsageError


def register() -> None:
    """Importing this module adds `apply` to `riskwatch rules` (pipeline/cli.py imports it)."""


def _target(config: Path | None) -> Path:
    if config is not None:
        return Path(config) / "rules.yaml"
    from pipeline.settings import load_settings

    return Path(load_settings().config_dir) / "rules.yaml"


@rules_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="The new rules file", exists=True, dir_okay=False)],
    days: Annotated[int, typer.Option("--days", min=1, max=365, help="Days of stored events to replay")] = 30,
    until: Annotated[
        Optional[str], typer.Option("--until", help="End of the what-if window (default: latest stored event)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff and the what-if; change nothing")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    config: ConfigDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Validate a rules file, show the diff and a what-if replay of the last 30 days, then put it in force (audited)."""
    from datetime import datetime

    from pipeline import audit
    from pipeline.config_errors import load_yaml_mapping
    from pipeline.rulechange import latest_event_time, rules_diff, stored_lines, what_if, window
    from pipeline.storage.writer import Writer

    new_cfg = read_config(config, file)           # refused file: every error, exit 2
    old_cfg = read_config(config)
    target = _target(config)
    diff = rules_diff(load_yaml_mapping(target) if target.exists() else {}, load_yaml_mapping(file))
    _show_diff(diff, target)
    end_s = time_option(until, "--until")
    engine = open_db(db)
    try:
        end = datetime.fromtimestamp(end_s, UTC) if end_s is not None else latest_event_time(engine)
        result = None
        if end is None:
            typer.echo("what-if: no stored events to replay")
        else:
            start, end = window(end, days)
            result = what_if(stored_lines(engine, start, end), old_cfg, new_cfg, start, end)
            _show_what_if(result, days)
        if dry_run:
            typer.echo("dry run: nothing changed")
            return
        if diff.empty:
            typer.echo("no change: the rules in force are the same")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("not applying without --yes when not run interactively")
            typer.confirm(f"Put {file} in force as {target}?", abort=True)
        new_text = Path(file).read_bytes()
        old_text = target.read_bytes() if target.exists() else b""
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(new_text)
        os.replace(tmp, target)
        Writer(engine).write_levels(new_cfg.rules.levels)
        audit.record(engine, audit.cli_actor(), audit.RULES_APPLY, {
            "file": str(file), "target": str(target),
            "sha256": {"old": hashlib.sha256(old_text).hexdigest(), "new": hashlib.sha256(new_text).hexdigest()},
            "diff": diff.as_dict(), "what_if": result.as_dict() if result else None})
    finally:
        engine.dispose()
    typer.echo(f"applied: {target} replaced (recorded in the audit log); restart the stream workers to use it")


def _fmt(value) -> str:
    import orjson

    return orjson.dumps(value).decode() if not isinstance(value, str) else value


def _show_diff(diff, target: Path) -> None:
    typer.echo(f"changes against {target}:")
    if diff.empty:
        typer.echo("  (none)")
    for key, (old, new) in diff.defaults.items():
        typer.echo(f"  defaults.{key}: {_fmt(old)} -> {_fmt(new)}")
    for rid in diff.added:
        typer.echo(f"  + rule {rid}")
    for rid in diff.removed:
        typer.echo(f"  - rule {rid}")
    for rid, keys in diff.changed.items():
        for key, (old, new) in keys.items():
            typer.echo(f"  ~ rule {rid}.{key}: {_fmt(old)} -> {_fmt(new)}")


def _show_what_if(result, days: int) -> None:
    from rich.table import Table

    from pipeline.commands.tables import show
    from pipeline.labels import level_label, score_text

    typer.echo(f"what-if over the last {days} days ({result.start:%Y-%m-%d %H:%M}Z .. {result.until:%Y-%m-%d %H:%M}Z, "
               f"{result.events} events): {len(result.changes)} entities change level; "
               f"alerts raised {result.alerts_old} -> {result.alerts_new}")
    if not result.changes:
        return
    table = Table(title="等级将发生变化的对象")
    for col in ("对象", "现行规则", "新规则"):
        table.add_column(col)
    for c in result.changes:
        table.add_row(c.entity, f"{level_label(c.old_level)} {score_text(c.old_score)}",
                      f"{level_label(c.new_level)} {score_text(c.new_score)}")
    show(table)
