"""Options and helpers shared by the commands that need a database and, for reveals, a token and a purpose."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

TOKEN_ENV = "RISKWATCH_TOKEN"

DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db (default: settings db_url); "
                 "a SQLite file must exist (`riskwatch db upgrade` creates it)"),
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
    """The database URL a command works on: --db, else the settings'. A SQLite file that does not
    exist is refused (DatabaseMissing): only `riskwatch db upgrade` creates one, so a mistyped path
    never becomes an empty database that answers "0 alerts"."""
    from pipeline.settings import load_settings
    from pipeline.storage.db import require_database, sqlite_file

    url = db or load_settings().db_url
    path = sqlite_file(url)
    if db and path is not None and not path.is_absolute():
        # settings anchor relative SQLite paths at the project; on the command line they mean the current directory
        url = f"sqlite:///{path.resolve()}"
    require_database(url)
    return url


def open_db(db: str | None) -> Engine:
    """An Engine at the schema head (StorageUnavailable, DatabaseMissing or SchemaOutdated otherwise)."""
    from pipeline.storage.db import open_database

    return open_database(db_url(db))
