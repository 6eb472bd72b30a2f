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


_MESSAGES = {"extra_forbidden": "unknown key", "missing": "required"}


def issues_from_validation_error(
    file: str, exc: ValidationError, prefix: str = "", brackets: bool = False, skip: int = 0
) -> list[ConfigIssue]:
    """One ConfigIssue per pydantic error. Keys join the location with dots; `brackets` writes list
    positions as `assign[0]`; `skip` drops leading location parts (a discriminated union's tag)."""
    out = []
    for err in exc.errors():
        key = ""
        for part in err["loc"][skip:]:
            if part == "[key]":  # the error is about a mapping's key, which the key already names
                continue
            if brackets and isinstance(part, int):
                key += f"[{part}]"
            else:
                key = f"{key}.{part}" if key else str(part)
        if prefix:
            key = f"{prefix}{key if key.startswith('[') else '.' + key}" if key else prefix
        message = _MESSAGES.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        out.append(ConfigIssue(file, key or "(root)", message))
    return out


def safe_loader() -> type:
    """PyYAML's safe loader, in C (libyaml) where the wheel has it: every command reads the config
    files, and the pure-Python scanner took a third of a second of `riskwatch explain`."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_mapping(path) -> dict:
    """Read a YAML file that must hold a mapping; refuse anything else with a ConfigError."""
    import yaml

    name = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=safe_loader())
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, "(file)", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigIssue(name, "(file)", "is a directory, not a YAML file")]) from None
    except OSError as exc:
        raise ConfigError([ConfigIssue(name, "(file)", f"cannot read: {exc.strerror or exc}")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(name, "(file)", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(name, "(root)", "must be a mapping")])
    return data
