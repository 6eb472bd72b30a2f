"""pipeline/cli.py: subcommands load lazily (no transport at start), and the one error handler."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from pipeline import cli
from pipeline.config_errors import ConfigIssue
from pipeline.errors import AlertNotFound, ConfigError, InvalidTransition, KafkaUnavailable, UsageError

HEAVY = ("kafka", "faust", "aiokafka", "uvicorn", "matplotlib", "pandas", "sqlalchemy", "fastapi", "openpyxl",
         "reportlab", "grafana_client", "alembic")


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_cli_imports_no_transport():
    assert _imported_after("import pipeline.cli") & set(HEAVY) == set()


def test_help_imports_no_transport_and_lists_every_command():
    code = "from pipeline.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass"
    assert _imported_after(code) & set(HEAVY) == set()
    result = CliRunner().invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for name, (_, _, summary) in cli.COMMANDS.items():
        assert name in result.output and summary.split()[0] in result.output


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_every_table_entry_loads_its_command(name):
    command = cli.load_command(name)
    assert command.name == name
    assert CliRunner().invoke(cli.app, [name, "--help"]).exit_code == 0


def _app_raising(exc: Exception) -> typer.Typer:
    app = typer.Typer(cls=cli.RiskwatchGroup)
    app.callback()(lambda: None)  # a group, as riskwatch is

    @app.command("boom")
    def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize("exc,code,line", [
    (UsageError("--week: not a week"), 2, "错误（输入有误）：--week: not a week"),
    (KafkaUnavailable("127.0.0.1:1"), 2,
     "错误（服务不可用）：Kafka not reachable at 127.0.0.1:1: start it with scripts/kafka-start.sh"),
    (AlertNotFound("没有编号为 a1 的预警"), 3, "错误（未找到）：没有编号为 a1 的预警"),
    (InvalidTransition("alert a1 is closed"), 5, "错误（状态不允许）：alert a1 is closed"),
])
def test_an_error_is_one_line_and_its_exit_code(exc, code, line):
    result = CliRunner().invoke(_app_raising(exc), ["boom"])
    assert result.exit_code == code
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_a_refused_config_lists_each_problem_with_file_and_key():
    exc = ConfigError([ConfigIssue("rules.yaml", "rules.x.score", "Input should be greater than 0"),
                       ConfigIssue("assignments.yaml", "default", "must name a leader (got 'L00')")])
    result = CliRunner().invoke(_app_raising(exc), ["boom"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "错误（配置有误）：共 2 处问题，配置未采用",
        "  rules.yaml: rules.x.score: Input should be greater than 0",
        "  assignments.yaml: default: must name a leader (got 'L00')",
    ]


def test_other_exceptions_are_not_swallowed():
    result = CliRunner().invoke(_app_raising(RuntimeError("bug")), ["boom"])
    assert isinstance(result.exception, RuntimeError)


def test_streams_and_dashboards_do_not_reach_back_into_the_cli_layer():
    """Dependencies point inward: the CLI wires streams/ and dashboards/, never the other way round
    (labels come from pipeline/labels.py, not from a command or from pipeline/explain.py)."""
    import ast
    from pathlib import Path

    root = Path(cli.__file__).resolve().parents[1]
    outer = ("pipeline.cli", "pipeline.commands", "pipeline.explain")
    found = []
    for path in sorted([*(root / "streams").rglob("*.py"), *(root / "dashboards").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            found += [f"{path.relative_to(root)}: {m}" for m in modules if m.startswith(outer)]
    assert found == []
