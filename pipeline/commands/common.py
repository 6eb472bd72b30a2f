"""What every command shares: the --config and --rules options, reading the configuration, time options.

Errors are not handled here: a command raises a pipeline.errors class and pipeline/cli.py reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.configset import ConfigSet

ConfigDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        help="Directory with vocabulary.yaml, area.yaml, rules.yaml, assignments.yaml; "
        "files missing there come from the project's config/ (the directory itself must exist)",
        exists=True,
        file_okay=False,
    ),
]
RulesOpt = Annotated[
    Optional[Path],
    typer.Option("--rules", help="Rules file to use instead of the config's rules.yaml", exists=True, dir_okay=False),
]


def read_config(config_dir: Path | None, rules_file: Path | None = None) -> ConfigSet:
    """The four config files (ConfigError listing every problem when refused)."""
    from pipeline.configset import load_config

    return load_config(config_dir, rules_file)


def time_option(text: str | None, option: str) -> float | None:
    """An RFC 3339 option value as epoch seconds; UsageError naming the option when it is not one."""
    from pipeline.timeutil import parse_time

    if text is None:
        return None
    try:
        return parse_time(text).timestamp()
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
