"""docker-compose.yml validated offline (no Docker engine here): the Compose Specification's JSON
schema (vendored in tests/dashboards/schemas/ with its licence note), and consistency with the code — every `riskwatch`
command parses with the real CLI, ports and addresses agree, env names are settings the code reads,
no secret is written in the file, Grafana mounts the provisioning that `dashboards build` writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
import typer.main
import yaml

from dashboards import provisioning
from pipeline.cli import app
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
EXPECTED_SERVICES = {"kafka", "postgres", "migrate", "worker", "notifier", "api", "simulator", "grafana"}
RISKWATCH_SERVICES = sorted(n for n, s in SERVICES.items() if (s.get("command") or [None])[0] == "riskwatch")


def test_valid_against_the_compose_specification_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(COMPOSE), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_check_is_not_vacuous():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["postgres"]["depends_on"] = {"kafka": {"condition": "whenever"}}
    broken["services"]["grafana"]["volumez"] = ["./x:/x"]
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(broken))) >= 2


def test_the_whole_stack_is_there():
    assert EXPECTED_SERVICES <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert SERVICES["simulator"]["profiles"] == ["demo"]
    assert set(COMPOSE["volumes"]) >= {"kafka-data", "pg-data", "grafana-data"}
    for name in ("kafka", "postgres", "grafana", "api"):
        assert "test" in SERVICES[name]["healthcheck"], name


def test_start_order_uses_health_and_completion():
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("worker", "notifier", "api", "grafana"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    for name in ("worker", "simulator"):
        assert SERVICES[name]["depends_on"]["kafka"]["condition"] == "service_healthy", name


def _is_group(cmd) -> bool:
    return hasattr(cmd, "commands")   # typer vendors its own click: duck-type the group


def _resolve(args: list[str]):
    """Walk the real CLI as click does (get_command also finds lazily registered subcommands):
    (command, its own args, path of names)."""
    cmd = typer.main.get_command(app)
    path: list[str] = []
    while _is_group(cmd) and args:
        sub = cmd.get_command(cmd.make_context(" ".join(["riskwatch", *path]), [], resilient_parsing=True), args[0])
        if sub is None:
            break
        path.append(args[0])
        cmd, args = sub, args[1:]
    return cmd, args, path


def _missing(name: str) -> str | None:
    args = SERVICES[name]["command"][1:]
    cmd, rest, path = _resolve(args)
    if not path or (_is_group(cmd) and rest and not rest[0].startswith("-")):
        return f"`riskwatch {args[0]}` does not exist in pipeline/cli.py yet"
    return None


@pytest.mark.parametrize("name", RISKWATCH_SERVICES)
def test_service_command_exists_and_its_options_parse(name):
    reason = _missing(name)
    args = SERVICES[name]["command"][1:]
    cmd, rest, path = _resolve(args)
    assert path and not (_is_group(cmd) and rest and not rest[0].startswith("-")), reason
    ctx = cmd.make_context(" ".join(["riskwatch", *path]), list(rest), resilient_parsing=False)
    assert ctx.params is not None


def test_api_listens_where_it_is_published():
    cmd = SERVICES["api"]["command"]
    port = cmd[cmd.index("--port") + 1]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert f"{port}:{port}" in SERVICES["api"]["ports"]
    assert f":{port}/" in " ".join(SERVICES["api"]["healthcheck"]["test"])


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return dict(env) if isinstance(env, dict) else dict(e.split("=", 1) for e in env)


def test_env_names_are_settings_or_read_by_the_code():
    fields = {f"RISKWATCH_{name.upper()}" for name in Settings.model_fields}
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("pipeline", "streams", "dashboards", "config")
                     for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".yaml"))
    names = {k for s in SERVICES.values() for k in _env(s) if k.startswith("RISKWATCH_")}
    names |= set(re.findall(r"^(RISKWATCH_\w+)=", (ROOT / ".env.example").read_text(), re.M))
    unknown = sorted(n for n in names if n not in fields and n not in code)
    assert unknown == []
    assert {"RISKWATCH_DB_URL", "RISKWATCH_KAFKA_BOOTSTRAP"} <= names


def test_addresses_point_at_the_services():
    for name in RISKWATCH_SERVICES:
        env = _env(SERVICES[name])
        url = sa.engine.make_url(re.sub(r"\$\{[^}]*\}", "x", env["RISKWATCH_DB_URL"]))
        assert (url.get_backend_name(), url.host, url.port or 5432) == ("postgresql", "postgres", 5432), name
        assert env["RISKWATCH_KAFKA_BOOTSTRAP"] == "kafka:9092", name
    assert "PLAINTEXT://kafka:9092" in SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert _env(SERVICES["grafana"])["POSTGRES_HOST"] == "postgres"


def test_no_secret_in_the_file():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for s in SERVICES.values():
        for key, value in _env(s).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(r"\$\{\w+(:\?[^}]*)?\}", str(value)), f"{key} must come from .env"
    assert "change-me" not in text
    assert (ROOT / ".env.example").is_file() and ".env" in (ROOT / ".gitignore").read_text().split()


def test_grafana_mounts_the_built_provisioning():
    mounts = SERVICES["grafana"]["volumes"]
    assert f"./dashboards/provisioning:{provisioning.CONTAINER_DIR}:ro" in mounts
    assert (ROOT / "dashboards" / "provisioning" / provisioning.JSON_SUBDIR).is_dir()
    image = SERVICES["grafana"]["image"]
    assert image.startswith("grafana/grafana:11."), "the dashboards are built with the SDK for Grafana 11.6"


def test_dockerfile_installs_the_project():
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert any(re.fullmatch(r"RUN pip install (-c constraints\.txt )?(-e )?\.", ln) for ln in lines)
    for ln in lines:
        if ln.startswith("COPY "):
            for src in ln.split()[1:-1]:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
    assert all(SERVICES[n].get("build") == "." for n in RISKWATCH_SERVICES)
