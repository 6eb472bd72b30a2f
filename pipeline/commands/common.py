"""What every command shares: options, config loading and the one-line failure with exit code 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.config_errors import ConfigError

EXIT_USAGE = 2

ConfigDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        help="Directory with vocabulary.yaml, area.yaml, rules.yaml, assignments.yaml; "
        "files missing there come from the project's config/",
        file_okay=False,
    ),
]
RulesOpt = Annotated[Optional[Path], typer.Option("--rules", help="Rules file to use instead of the config's rules.yaml")]


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def refuse_config(exc: ConfigError) -> typer.Exit:
    typer.echo(f"error: configuration refused ({len(exc.issues)} problem(s)):", err=True)
    for issue in exc.issues:
        typer.echo(f"  {issue}", err=True)
    return typer.Exit(EXIT_USAGE)


def load_config_or_exit(config_dir: Path | None, rules_file: Path | None = None):
    from pipeline.configset import load_config

    try:
        return load_config(config_dir, rules_file)
    except ConfigError as exc:
        raise refuse_config(exc) from None


def parse_time_or_exit(text: str | None, option: str) -> float | None:
    from pipeline.timeutil import parse_time

    if text is None:
        return None
    try:
        return parse_time(text).timestamp()
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None
