"""Config refusal with every problem listed: a broken file never half-loads."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class Problems:
    """Every issue found in one file: call it as problem(key, message); `issues` is the list so far."""

    def __init__(self, file: str):
        self.file = file
        self.issues: list[ConfigIssue] = []

    def __call__(self, key: str, message: str) -> None:
        self.issues.append(ConfigIssue(self.file, key, message))


def issues_from_validation_error(file: str, exc: ValidationError, prefix: str = "") -> list[ConfigIssue]:
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        if prefix:
            key = f"{prefix}.{key}" if key != "(root)" else prefix
        out.append(ConfigIssue(file, key, err["msg"]))
    return out


def load_yaml_mapping(path) -> dict:
    """Read a YAML file that must hold a mapping; refuse anything else with a ConfigError."""
    import yaml

    name = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, "(file)", "file not found")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(name, "(file)", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(name, "(root)", "must be a mapping")])
    return data
