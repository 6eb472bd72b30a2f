"""The `riskwatch` command: the table of subcommands and the one place errors become exit codes.

Subcommands live in pipeline/commands/, one module each, and are imported only when run (or when
their own --help is asked for): `riskwatch --help` imports no transport, database or plotting
library. A command raises a pipeline.errors class; `RiskwatchGroup.invoke` prints it and exits with
the class's code. Commands never convert errors themselves.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from pipeline.errors import ConfigError, RiskwatchError

if TYPE_CHECKING:
    from typer import _click as click  # typer vendors click; its classes are not the `click` package's

# name: (module, attribute, one-line help shown by `riskwatch --help`). The attribute is a
# typer.Typer (a command group) or a function (one command).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "replay": ("pipeline.commands.replay", "replay_command",
               "Run the rule engine over a file exactly as the stream would, and report scores and alerts."),
    "explain": ("pipeline.commands.explain", "explain_command",
                "Explain one entity's score: every contribution, its rule, decay and evidence."),
    "simulate": ("pipeline.commands.simulate", "simulate_cmd",
                 "Simulate patrols, sensors, disputes, hazards and injected risk scenarios."),
    "rules": ("pipeline.commands.rules_apply", "rules_app", "Inspect, validate and apply rules files."),
    "db": ("pipeline.commands.db", "db_app", "Database: migrations (upgrade), status, retention (purge)."),
    "settings": ("pipeline.commands.settings", "settings_command",
                 "List every setting: type, environment variable, default, value in force and doc."),
    "persons": ("pipeline.commands.persons", "persons_app", "The persons registry (encrypted; every read audited)."),
    "tokens": ("pipeline.commands.tokens", "tokens_app", "API bearer tokens: create, list, revoke."),
    "audit": ("pipeline.commands.audit", "audit_app", "The append-only audit log."),
    "export": ("pipeline.commands.export", "export_app",
               "Exports: the weekly risk review (xlsx, pdf) and the yearly statistics."),
    "alerts": ("pipeline.commands.alerts", "alerts_app", "Alerts: list, show, acknowledge, close."),
    "cases": ("pipeline.commands.cases", "cases_app",
              "Cases (隐患、纠纷、预警、一人一案): list, show, note, reassign (转办), close."),
    "decisions": ("pipeline.commands.decisions", "decisions_app",
                  "Decisions of the risk-analysis meeting (研判意见): add, done, list."),
    "meeting": ("pipeline.commands.meeting", "meeting_app", "The weekly meeting's brief (--json) or review files."),
    "notify": ("pipeline.commands.notify", "notify_app", "The notifier: escalate, resolve and notify assigned leaders."),
    "api": ("pipeline.commands.api", "api_app", "The alert HTTP API and the leaders' alert pages."),
    "dashboards": ("pipeline.commands.dashboards", "dashboards_app", "Grafana dashboards: build, lint, push, render."),
    "produce": ("pipeline.commands.kafka", "produce", "Send a JSON Lines file to a Kafka topic."),
    "consume-count": ("pipeline.commands.kafka", "consume_count",
                      "Read a topic to its end and count messages, valid events and rejections."),
    "worker": ("pipeline.commands.worker", "worker_command",
               "Run the streaming pipeline: events.raw -> validate, score -> database."),
    "status": ("pipeline.commands.status", "status_command",
               "Consumer lag, events/s, DLQ count and the last processed position of the stream."),
    "topics": ("pipeline.commands.topics", "topics_app",
               "Remove a stream deployment's Kafka topics and consumer groups."),
    "serve": ("pipeline.commands.serve", "serve_command",
              "One process: HTTP ingest, engine, writer, notifier, API and pages (SQLite or PostgreSQL, no Kafka)."),
    "sources": ("pipeline.commands.sources", "sources_app", "Source tokens for HTTP ingest: create, list, revoke."),
    "links": ("pipeline.commands.links", "links_app", "Alert-page links in notifications: revoke a leader's links."),
    "import": ("pipeline.commands.ledger", "import_app",
               "Import the street's ledgers (台账) as events; write blank ledger templates."),
}


def load_command(name: str) -> click.Command:
    """The click command behind one table entry (imports its module)."""
    module, attribute, _ = COMMANDS[name]
    target: Any = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


def report(exc: RiskwatchError) -> None:
    """The one way an error reaches the person at the terminal: a line on stderr (a config refusal
    adds one line per problem, with file and key)."""
    if isinstance(exc, ConfigError):
        typer.echo(f"错误（{exc.label}）：共 {len(exc.issues)} 处问题，配置未采用", err=True)
        for issue in exc.issues:
            typer.echo(f"  {issue}", err=True)
        return
    message = " ".join(str(exc).split()) or type(exc).__name__
    typer.echo(f"错误（{exc.label}）：{message}", err=True)


class RiskwatchGroup(TyperGroup):
    """The top-level group: commands from COMMANDS, loaded on first use, and the error handler."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in COMMANDS]
        rows += [(name, cmd.get_short_help_str()) for name, cmd in self.commands.items() if name not in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RiskwatchError as exc:
            report(exc)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="riskwatch",
    cls=RiskwatchGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _main() -> None:
    """Risk monitoring for the 虹都中心 key area: events in, explainable scores and alerts out."""


if __name__ == "__main__":
    app()
