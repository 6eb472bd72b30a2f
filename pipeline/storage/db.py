"""Engine creation, URL masking and the migration check every entry point goes through.

Alembic is configured in code (no alembic.ini): the scripts live in pipeline/storage/migrations and
ship with the package, so `riskwatch db upgrade` works from any working directory.

Failures become one-line exceptions the commands turn into exit code 2:
- StorageUnavailable: the database cannot be reached (or the URL is unusable);
- SchemaOutdated: the database is not at the migration head this code expects.
Messages carry the URL with its password masked, never the password.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from pipeline.errors import DatabaseMissing, SchemaOutdated, StorageUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_S = 5


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ***."""
    try:
        parsed = sa.engine.make_url(url)
    except Exception:
        text = str(url)
        return text.split("://", 1)[0] + "://…" if "@" in text else text
    return parsed.render_as_string(hide_password=True)


def one_line(exc: BaseException) -> str:
    """The first line of a driver error, for a one-line message."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).strip().splitlines() if ln.strip()]
    text = lines[0] if lines else type(orig).__name__
    # psycopg: 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    if "failed:" in text:
        text = text.rsplit("failed:", 1)[1].strip() or text
    text = re.sub(r"^(FATAL|ERROR):\s*", "", text)
    if text[:2].istitle():
        text = text[:1].lower() + text[1:]
    return text


def is_sqlite(url: str | URL) -> bool:
    return sa.engine.make_url(url).get_backend_name() == "sqlite"


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    # SQLite has no pow() without its math extension: the score arithmetic needs it (views.py).
    dbapi_conn.create_function("power", 2, _power, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _power(base, exponent):
    if base is None or exponent is None:
        return None
    try:
        return math.pow(base, exponent)
    except (OverflowError, ValueError):
        return None


def make_engine(url: str | URL, **kwargs) -> Engine:
    """An Engine for `url`; SQLite files (and their directory) are created, PostgreSQL times out fast."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageUnavailable(f"invalid database URL {mask_url(url)}: {one_line(exc)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageUnavailable(f"cannot create SQLite database {database}: {exc.strerror}") from None
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    elif backend == "postgresql":
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_S)
        kwargs.setdefault("pool_pre_ping", True)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise StorageUnavailable(f"invalid database URL {mask_url(url)}: {one_line(exc)}") from None
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names, or None (another backend, in-memory, or a `file:` URI)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def require_database(url: str | URL) -> None:
    """DatabaseMissing when `url` names a SQLite file that does not exist (make_engine would create it)."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise DatabaseMissing(
            f"no SQLite database at {path}: check the path, or create it with `riskwatch db upgrade --db {mask_url(url)}`"
        )


def ping(engine: Engine) -> None:
    """Connect once; StorageUnavailable with one line when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise StorageUnavailable(f"database not reachable at {mask_url(engine.url)}: {one_line(exc)}") from None


# -- migrations -----------------------------------------------------------------------------------


# Alembic is imported where it is used: every command opens a database, and loading Alembic and the
# migration scripts on each start cost most of a short command's time (`riskwatch explain`).
def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _shipped_revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) of the migrations shipped in the package. Each migration's revision id
    is its file name (`NNNN_name`), numbered in one line, so the head is the highest; reading the
    names spares every command Alembic's loading of the scripts (tests/pipeline/storage checks the
    convention against Alembic's own view)."""
    names = sorted(p.stem for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return names[-1], frozenset(names)


def head_revision() -> str:
    return _shipped_revisions()[0]


def known_revisions() -> frozenset[str]:
    return _shipped_revisions()[1]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's alembic_version table; None for an empty database)."""
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    except sa.exc.DBAPIError as exc:
        raise StorageUnavailable(f"database not reachable at {mask_url(engine.url)}: {one_line(exc)}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision` (default the head), in one transaction where the database allows it."""
    from alembic import command

    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, action, revision: str) -> None:
    try:
        with engine.begin() as conn:
            action(alembic_config(conn), revision)
    except sa.exc.OperationalError as exc:
        raise StorageUnavailable(f"database not reachable at {mask_url(engine.url)}: {one_line(exc)}") from None


def check_schema(engine: Engine) -> None:
    """SchemaOutdated unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    url = mask_url(engine.url)
    if current is not None and current not in known_revisions():
        raise SchemaOutdated(
            f"database schema at unknown revision {current} (this riskwatch knows up to {head}): "
            f"upgrade riskwatch, or run `riskwatch db upgrade --db {url}` with the newer version"
        )
    shown = current or "none (empty database)"
    raise SchemaOutdated(f"database schema at revision {shown}, expected {head}: run `riskwatch db upgrade --db {url}`")


def open_database(url: str | URL, upgrade_sqlite: bool = True, **engine_kwargs) -> Engine:
    """Connect and check the schema now. SQLite (the embedded default) is created and upgraded as
    needed; PostgreSQL must be at the head already (its upgrade is an operator's decision)."""
    engine = make_engine(url, **engine_kwargs)
    try:
        ping(engine)
        if upgrade_sqlite and engine.dialect.name == "sqlite":
            current = current_revision(engine)
            if current != head_revision() and (current is None or current in known_revisions()):
                upgrade(engine)
        check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def row_counts(engine: Engine) -> dict[str, int | None]:
    """Rows per riskwatch table (None for a table that does not exist yet)."""
    from pipeline.storage.schema import tables

    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() if t.name in present else None
                for t in tables()
            }
    except sa.exc.OperationalError as exc:
        raise StorageUnavailable(f"database not reachable at {mask_url(engine.url)}: {one_line(exc)}") from None


@contextlib.contextmanager
def connection(bind: Engine | sa.Connection):
    """Use a given Connection as is, or connect an Engine for the duration of the block."""
    if isinstance(bind, sa.Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn
