"""One typed settings object. Precedence: environment (RISKWATCH_*) > config/settings.yaml > defaults."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from pipeline.config_errors import ConfigError, issues_from_validation_error, load_yaml_mapping
from pipeline.timeutil import parse_duration

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_SETTINGS_FILE = DEFAULT_CONFIG_DIR / "settings.yaml"
_settings_file: ContextVar[Path] = ContextVar("settings_file", default=DEFAULT_SETTINGS_FILE)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RISKWATCH_", extra="forbid")

    config_dir: Path = Field(DEFAULT_CONFIG_DIR, description="Directory with vocabulary/area/rules/assignments YAML")
    db_url: str = Field("sqlite:///var/riskwatch.db", description="SQLAlchemy URL of the database (SQLite or PostgreSQL)")
    db_owner_url: str | None = Field(None, description="SQLAlchemy URL `riskwatch db upgrade` migrates with: the schema "
                                     "owner's role, which the services never hold (unset: db_url)")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated")
    clock: Literal["wall", "event"] = Field("wall", description="Engine clock in the stream: wall clock or greatest occurred_at")
    clock_skew: str = Field("5m", description="How far ahead of the wall clock an event may be before future_timestamp")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions of the topics riskwatch creates")
    topic_replication: int = Field(1, ge=1, le=16, description="Replication factor of the topics riskwatch creates")
    retention: str = Field("365d", description="How long events, rejections and contributions are kept")
    timezone: str = Field("Asia/Shanghai", description="Time zone of week and year boundaries in exports")
    app_id: str = Field("riskwatch", pattern=r"^[A-Za-z0-9._-]{1,100}$",
                        description="Stream app id: the Kafka consumer group and the prefix of changelog topics")
    topic_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]{0,100}$",
                              description="Prefix of every topic name the stream uses (side-by-side deployments, tests)")
    stream_batch: int = Field(4000, ge=1, le=100_000, description="Most messages a stream agent takes in one batch")
    dedupe_window: str = Field("30d", description="How long (event time) the stream remembers an accepted event_id "
                                                  "to count a repeat as a duplicate")
    grafana_url: str = Field("http://127.0.0.1:3000",
                             description="Base URL of Grafana, for drill-down links in alert notifications")
    public_url: str = Field("http://127.0.0.1:8080",
                            description="Base URL under which `riskwatch api` is reached, for links to alerts")
    link_secret: SecretStr | None = Field(
        None, description="Key (at least 32 characters, e.g. `openssl rand -hex 32`) signing the alert page links in "
        "notifications, the page's forms and logins; `riskwatch api` refuses to serve the alert pages without it")
    link_ttl: str = Field("72h", description="How long an alert page link in a notification stays valid "
                                             "(acknowledge, notes, close)")
    session_ttl: str = Field("12h", description="How long a login to the pages (alert list, workspace) lasts")
    body_limit: int = Field(64 * 1024, ge=1024, le=64 * 1024 * 1024,
                            description="Largest request body (bytes) the API and pages accept; refused with 413 "
                                        "before it is read")
    ingest_body_limit: int = Field(5 * 1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024,
                                   description="Largest POST /v1/events body (bytes); refused with 413 before it is "
                                               "read or the token checked")
    upload_limit: int = Field(20 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024,
                              description="Largest ledger file (bytes) the workspace's upload accepts")

    @field_validator("clock_skew", "retention", "dedupe_window", "link_ttl", "session_ttl")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("db_url", "db_owner_url")
    @classmethod
    def _anchored(cls, value: str | None) -> str | None:
        # A relative SQLite path in settings.yaml or RISKWATCH_DB_URL is the project's var/, wherever the
        # command runs: a different working directory must not mean a different (empty) database.
        prefix = "sqlite:///"
        if value is None:
            return value
        path, sep, query = value[len(prefix):].partition("?")
        if value.startswith(prefix) and path and path != ":memory:" and not path.startswith(("/", "file:", "~")):
            return f"{prefix}{PROJECT_ROOT / path}{sep}{query}"
        return value

    @property
    def clock_skew_seconds(self) -> float:
        return parse_duration(self.clock_skew).total_seconds()

    @property
    def dedupe_window_seconds(self) -> float:
        return parse_duration(self.dedupe_window).total_seconds()

    @property
    def link_ttl_seconds(self) -> float:
        return parse_duration(self.link_ttl).total_seconds()

    @property
    def session_ttl_seconds(self) -> float:
        return parse_duration(self.session_ttl).total_seconds()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: explicit arguments, then the environment, then the YAML file.
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=_settings_file.get()))


def load_settings(settings_file: Path | None = None, **overrides) -> Settings:
    """Read settings.yaml under the environment; refuse the whole file, every error listed, when broken."""
    path = Path(settings_file or DEFAULT_SETTINGS_FILE)
    if path.exists():
        load_yaml_mapping(path)  # a YAML syntax error becomes a ConfigError naming the file
    token = _settings_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(issues_from_validation_error(f"{path} (or RISKWATCH_* environment)", exc)) from None
    finally:
        _settings_file.reset(token)
