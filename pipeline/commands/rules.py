"""`riskwatch rules check FILE`: validate a rules file and summarise it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.common import ConfigDirOpt

rules_app = typer.Typer(help="Inspect and validate rules files.", no_args_is_help=True)


@rules_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The rules file to validate")],
    config: ConfigDirOpt = None,
) -> None:
    """Validate a rules file (guardrails included) and summarise it; exit 2 with every error when refused."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.commands.tables import show
    from pipeline.configset import config_file
    from pipeline.contract import load_vocabulary
    from pipeline.labels import CATEGORIES, ENTITY_KINDS, duration_text, label
    from pipeline.rules.loader import load_rules
    from pipeline.timeutil import format_duration

    vocab = load_vocabulary(config_file("vocabulary.yaml", config))
    ruleset = load_rules(file, vocab)
    console = Console()
    types = Counter(r.type for r in ruleset.rules)
    enabled = sum(r.enabled for r in ruleset.rules)
    levels = ", ".join(f"{n} ≥ {t:g}" for n, t in ruleset.levels)
    console.print(f"{file}: OK — {len(ruleset.rules)} rules ({enabled} enabled): "
                  + ", ".join(f"{n} {t}" for t, n in sorted(types.items())))
    console.print(f"levels: {levels}; alert at {ruleset.alert_level}; default half-life {format_duration(ruleset.half_life)}")
    table = Table()
    for col in ("id", "标题", "类别", "对象", "类型", "分值", "半衰期", "直接预警", "启用"):
        table.add_column(col)
    for r in ruleset.rules:
        table.add_row(
            r.id, r.title, label(CATEGORIES, r.category), label(ENTITY_KINDS, r.target), r.type, f"{r.score:g}",
            duration_text(r.half_life),
            "是" if r.alert else "", "是" if r.enabled else "否",
        )
    show(table)
