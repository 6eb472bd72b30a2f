"""config/channels.yaml: how each leader of assignments.yaml is reached.

```yaml
version: 1
group_wait: 30s            # notices for one leader within this window go out as one message
timeout: 10s               # per request to a peer
robot_timeout: 15s         # per request to a WeCom/DingTalk robot; a later reply makes the delivery uncertain
smtp:                      # needed when any leader has an email channel
  host: mail.example.org   # or host_env
  port: 587
  starttls: true
  username_env: RISKWATCH_SMTP_USER
  password_env: RISKWATCH_SMTP_PASSWORD
  sender: riskwatch@example.org
leaders:
  L01:
    - {type: wecom, url_env: RISKWATCH_WECOM_URL_L01}
    - {type: dingtalk, url_env: RISKWATCH_DINGTALK_URL_L01, secret_env: RISKWATCH_DINGTALK_SECRET_L01}
    - {type: email, to_env: RISKWATCH_EMAIL_L01}
    - {type: webhook, url: "https://duty.example.org/hook", token_env: RISKWATCH_HOOK_TOKEN}
```
Secrets (robot URLs carry their key, DingTalk's signing secret, SMTP credentials, addresses) are
named by environment variable (`*_env`), never written here. A leader that is not in
assignments.yaml, an unknown channel type or option, refuses the whole file with every problem
listed. `check_environment` lists every unset variable at the notifier's start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.assignments import Assignments
from pipeline.config_errors import ConfigError, ConfigIssue, Problems, issues_from_validation_error, load_yaml_mapping
from pipeline.notify.channels import CHANNELS
from pipeline.notify.channels.base import Options, missing_env
from pipeline.timeutil import duration_seconds

_TOP_KEYS = ("version", "group_wait", "timeout", "robot_timeout", "smtp", "leaders")


class SmtpOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str | None = None
    host_env: str | None = None
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    sender: str

    @model_validator(mode="after")
    def _one_host(self):
        if (self.host is None) == (self.host_env is None):
            raise ValueError("give exactly one of host, host_env")
        if "@" not in self.sender:
            raise ValueError("sender must be an email address")
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError("username_env and password_env go together")
        return self

    def resolved(self, env: Mapping[str, str]) -> SmtpOptions:
        """A copy with `host` taken from the environment when `host_env` is used."""
        if self.host_env is None:
            return self
        return self.model_copy(update={"host": env.get(self.host_env, "")})


@dataclass(frozen=True)
class ChannelSpec:
    leader_id: str
    id: str                 # unique per leader; the channel's key in the notification log
    type: str
    options: Options


@dataclass(frozen=True)
class ChannelsConfig:
    by_leader: dict[str, tuple[ChannelSpec, ...]]
    group_wait: float = 30.0
    timeout: float = 10.0
    smtp: SmtpOptions | None = None
    source: str = ""
    robot_timeout: float = 15.0

    def channels_of(self, leader_id: str) -> tuple[ChannelSpec, ...]:
        return self.by_leader.get(leader_id, ())


def load_channels(path: str | Path, assignments: Assignments) -> ChannelsConfig:
    name = str(path)
    data = load_yaml_mapping(path)
    problem = Problems(name)
    issues = problem.issues

    for key in data:
        if key not in _TOP_KEYS:
            problem(str(key), "unknown key")
    if data.get("version", 1) != 1:
        problem("version", "only version 1 is known")
    seconds = {}
    for key, default in (("group_wait", "30s"), ("timeout", "10s"), ("robot_timeout", "15s")):
        try:
            seconds[key] = duration_seconds(str(data.get(key, default)))
        except ValueError as exc:
            problem(key, str(exc))
    smtp = None
    if data.get("smtp") is not None:
        try:
            smtp = SmtpOptions.model_validate(data["smtp"])
        except ValidationError as exc:
            issues += issues_from_validation_error(name, exc, "smtp")
    raw = data.get("leaders")
    if not isinstance(raw, dict):
        problem("leaders", "must be a mapping of leader id to a list of channels")
        raw = {}
    by_leader: dict[str, tuple[ChannelSpec, ...]] = {}
    for leader_id, entries in raw.items():
        key = f"leaders.{leader_id}"
        if leader_id not in assignments.leaders:
            problem(key, f"unknown leader {leader_id!r} (not in assignments.yaml)")
            continue
        if not isinstance(entries, list) or not entries:
            problem(key, "must be a non-empty list of channels")
            continue
        specs: list[ChannelSpec] = []
        for i, entry in enumerate(entries):
            spec = _channel(name, f"{key}[{i}]", leader_id, entry, issues)
            if spec is None:
                continue
            if any(s.id == spec.id for s in specs):
                problem(f"{key}[{i}]", f"a second {spec.type} channel needs its own id (duplicate {spec.id!r})")
                continue
            if spec.type == "email" and smtp is None and data.get("smtp") is None:
                problem(f"{key}[{i}]", "an email channel needs the smtp section")
            specs.append(spec)
        by_leader[leader_id] = tuple(specs)
    if issues:
        raise ConfigError(issues)
    return ChannelsConfig(by_leader, seconds["group_wait"], seconds["timeout"], smtp, name, seconds["robot_timeout"])


def _channel(file: str, key: str, leader_id: str, entry, issues: list[ConfigIssue]) -> ChannelSpec | None:
    if not isinstance(entry, dict):
        issues.append(ConfigIssue(file, key, "must be a mapping with a type"))
        return None
    kind = entry.get("type")
    cls = CHANNELS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        issues.append(ConfigIssue(file, f"{key}.type", f"unknown channel type {kind!r} (one of {', '.join(CHANNELS)})"))
        return None
    options = {k: v for k, v in entry.items() if k != "type"}
    try:
        parsed = cls.Options.model_validate(options)
    except ValidationError as exc:
        issues.extend(issues_from_validation_error(file, exc, key))
        return None
    return ChannelSpec(leader_id, parsed.id or str(kind), str(kind), parsed)


def env_names(config: ChannelsConfig) -> list[str]:
    """Every environment variable the channels (and SMTP) name, in file order, once each: what a
    deployment's .env must set (.env.example is kept in step with config/channels.yaml by a test)."""
    names: list[str] = []
    for specs in config.by_leader.values():
        for spec in specs:
            names += [getattr(spec.options, key) for key in CHANNELS[spec.type].env_keys]
    if config.smtp is not None:
        names += [getattr(config.smtp, option) for option in ("host_env", "username_env", "password_env")]
    return list(dict.fromkeys(n for n in names if n))


def leaders_without_channel(config: ChannelsConfig, assignments: Assignments) -> list[str]:
    """Leaders of assignments.yaml that channels.yaml gives no channel: their notices cannot go out."""
    return sorted(lid for lid in assignments.leaders if not config.channels_of(lid))


def check_environment(config: ChannelsConfig, env: Mapping[str, str]) -> None:
    """ConfigError listing every environment variable the channels (and SMTP) need but lack."""
    issues = []
    for leader_id, specs in config.by_leader.items():
        for i, spec in enumerate(specs):
            for option, var in missing_env(spec.options, CHANNELS[spec.type].env_keys, env):
                issues.append(ConfigIssue(config.source, f"leaders.{leader_id}[{i}].{option}",
                                          f"environment variable {var} is not set"))
    if config.smtp is not None:
        for option in ("host_env", "username_env", "password_env"):
            var = getattr(config.smtp, option)
            if var and not env.get(var):
                issues.append(ConfigIssue(config.source, f"smtp.{option}", f"environment variable {var} is not set"))
    if issues:
        raise ConfigError(issues)
