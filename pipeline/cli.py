"""The `riskwatch` command. It only wires the core: each subcommand lives in pipeline/commands/."""

from __future__ import annotations

import typer

from pipeline.commands.db import db_app
from pipeline.commands.alerts import alerts_app
from pipeline.commands.api import api_app
from pipeline.commands.notify import notify_app
from pipeline.commands.audit import audit_app
from pipeline.commands.explain import explain_command
from pipeline.commands.export import export_app
from pipeline.commands.persons import persons_app
from pipeline.commands.replay import replay_command
from pipeline.commands.rules import rules_app
from pipeline.commands.rules_apply import register as register_rules_apply  # noqa: F401 (adds `rules apply`)
from pipeline.commands.settings import register as register_settings_command
from pipeline.commands.simulate import simulate_cmd
from pipeline.commands.tokens import tokens_app
from pipeline.commands.worker import worker_command
from pipeline.commands.status import status_command
from streams.cli_kafka import register as register_kafka_commands
from dashboards.cli import dashboards_app

app = typer.Typer(
    name="riskwatch",
    help="Risk monitoring for the 虹都中心 key area: events in, explainable scores and alerts out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("replay")(replay_command)
app.command("explain")(explain_command)
app.command("simulate")(simulate_cmd)
app.add_typer(rules_app, name="rules")
app.add_typer(db_app, name="db")
register_settings_command(app)
app.add_typer(persons_app, name="persons")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")
app.add_typer(alerts_app, name="alerts")
app.add_typer(notify_app, name="notify")
app.add_typer(api_app, name="api")
app.add_typer(dashboards_app, name="dashboards")
register_kafka_commands(app)
app.command("worker")(worker_command)
app.command("status")(status_command)

if __name__ == "__main__":
    app()
