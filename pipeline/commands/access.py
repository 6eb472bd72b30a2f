"""Options and helpers shared by the commands that need a database and, for reveals, a token and a purpose."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from pipeline.commands.common import fail, refuse_config

TOKEN_ENV = "RISKWATCH_TOKEN"

DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db (default: settings db_url)"),
]
TokenOpt = Annotated[
    Optional[str],
    typer.Option("--token", help=f"Bearer token of an analyst or admin (default: ${TOKEN_ENV})", show_default=False),
]
PurposeOpt = Annotated[
    Optional[str], typer.Option("--purpose", help="Why the persons must be identified (recorded in the audit log)")
]


def token_or_env(token: str | None) -> str | None:
    return token or os.environ.get(TOKEN_ENV) or None


def db_url(db: str | None) -> str:
    if db:
        return db
    from pipeline.config_errors import ConfigError
    from pipeline.settings import load_settings

    try:
        return load_settings().db_url
    except ConfigError as exc:
        raise refuse_config(exc) from None


def open_db_or_exit(db: str | None):
    """An Engine at the schema head, or one line on stderr and exit code 2."""
    from pipeline.storage.db import SchemaOutdated, StorageUnavailable, open_database

    try:
        return open_database(db_url(db))
    except (StorageUnavailable, SchemaOutdated) as exc:
        raise fail(str(exc)) from None
