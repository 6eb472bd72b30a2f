"""`riskwatch settings`: every setting with its type, environment variable, default, value and doc."""

from __future__ import annotations

import typer


def settings_command() -> None:
    """List every setting: type, environment variable, default, value in force and what it is for."""
    from rich.table import Table

    from pipeline.commands.tables import show
    from pipeline.settings import Settings, load_settings
    from pipeline.storage.db import mask_url

    current = load_settings()
    table = Table(title="riskwatch settings (environment > config/settings.yaml > default)")
    for col in ("setting", "type", "environment", "default", "in force", "doc"):
        table.add_column(col)
    prefix = Settings.model_config["env_prefix"]
    for name, field in Settings.model_fields.items():
        annotation = getattr(field.annotation, "__name__", None) or str(field.annotation)
        value = getattr(current, name)
        if name in ("db_url", "db_owner_url") and value:
            value = mask_url(value)  # the database password is not for the screen
        table.add_row(
            name, annotation.replace("typing.", ""), f"{prefix}{name.upper()}", str(field.default),
            str(value), field.description or "",
        )
    show(table)


def register(app: typer.Typer) -> None:
    app.command("settings")(settings_command)
