"""The four config files every command reads (docs/contract.md §5 `--config DIR`), loaded and checked together.

A file missing from DIR is taken from the project's `config/`. Problems of all files are gathered
into one ConfigError, so a user fixing their config sees everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.area import Area, load_area
from pipeline.assignments import Assignments, load_assignments
from pipeline.config_errors import ConfigError, ConfigIssue
from pipeline.contract import Vocabulary, load_vocabulary
from pipeline.rules.loader import BOTTOM_LEVEL, RuleSet, load_rules
from pipeline.settings import DEFAULT_CONFIG_DIR


@dataclass(frozen=True)
class ConfigSet:
    vocabulary: Vocabulary
    area: Area
    rules: RuleSet
    assignments: Assignments


def config_file(name: str, config_dir: Path | None) -> Path:
    if config_dir is not None and (Path(config_dir) / name).exists():
        return Path(config_dir) / name
    return DEFAULT_CONFIG_DIR / name


def load_config(config_dir: Path | None = None, rules_file: Path | None = None) -> ConfigSet:
    if config_dir is not None and not Path(config_dir).is_dir():
        # a mistyped --config must not silently become the project's defaults
        raise ConfigError([ConfigIssue(str(config_dir), "(directory)", "no such directory")])
    issues = []
    vocab = area = rules = assignments = None
    try:
        vocab = load_vocabulary(config_file("vocabulary.yaml", config_dir))
    except ConfigError as exc:
        issues += exc.issues
    try:
        area = load_area(config_file("area.yaml", config_dir))
    except ConfigError as exc:
        issues += exc.issues
    try:
        rules = load_rules(rules_file or config_file("rules.yaml", config_dir), vocab)
    except ConfigError as exc:
        issues += exc.issues
    levels = [BOTTOM_LEVEL] + [name for name, _ in rules.levels] if rules else None
    try:
        assignments = load_assignments(config_file("assignments.yaml", config_dir), levels)
    except ConfigError as exc:
        issues += exc.issues
    if issues or vocab is None or area is None or rules is None or assignments is None:
        raise ConfigError(issues)
    return ConfigSet(vocab, area, rules, assignments)
