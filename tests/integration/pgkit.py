"""PostgreSQL helpers shared by the integration tests: scratch databases and the restart lock.

Several tests stop and start the one PostgreSQL server (the storage writer's reconnect test, the
stream's outage test). They take the machine-wide lock below exclusively; every other test holds it
shared while it talks to the server, so parallel test runs on one machine never see each other's
restarts. Import with `sys.path` pointing here (pytest puts this folder first): `import pgkit`.
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

LOCK_PATH = Path(tempfile.gettempdir()) / "riskwatch-pg-restart.lock"


@contextlib.contextmanager
def server_lock(exclusive: bool = False, timeout: float = 180.0) -> Iterator[None]:
    """Hold the server lock (shared by default); fail the test when another run holds it too long."""
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with open(LOCK_PATH, "a") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail("another test run held the PostgreSQL restart lock for too long", pytrace=False)
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def admin_engine(pg_url: str) -> sa.Engine:
    return sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def create_database(pg_url: str, label: str, migrate: bool = True) -> str:
    """CREATE DATABASE rw_<label>_<uuid> beside `pg_url` (migrated to the head); returns its URL."""
    from pipeline.storage import db

    name = f"rw_{label}_{uuid.uuid4().hex[:12]}"
    admin = admin_engine(pg_url)
    try:
        with server_lock(), admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    if migrate:
        engine = db.make_engine(url)
        try:
            with server_lock():
                db.upgrade(engine)
        finally:
            engine.dispose()
    return url


def drop_database(pg_url: str, url: str) -> None:
    """DROP DATABASE … WITH (FORCE), then plain DROPs for a while: right after a server restart an
    autovacuum worker may be busy in the database, and FORCE needs the right to signal it (the server
    cancels autovacuum for a plain DROP). A failure to drop a scratch database never fails a test."""
    name = sa.engine.make_url(url).database
    admin = admin_engine(pg_url)
    try:
        with server_lock():
            for attempt, sql in enumerate([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                                           *[f'DROP DATABASE IF EXISTS "{name}"'] * 20]):
                try:
                    with admin.connect() as conn:
                        conn.execute(sa.text(sql))
                    return
                except sa.exc.SQLAlchemyError:
                    time.sleep(0.5 if attempt else 0)
    finally:
        admin.dispose()


@contextlib.contextmanager
def scratch_database(pg_url: str, label: str, migrate: bool = True) -> Iterator[str]:
    """A database of the test's own for the duration of the block."""
    url = create_database(pg_url, label, migrate)
    try:
        yield url
    finally:
        drop_database(pg_url, url)
