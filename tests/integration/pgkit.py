"""PostgreSQL helpers for the integration tests and the benchmarks: scratch databases, the machine-wide
restart lock, and stopping/starting the local server.

Several tests stop and start the one PostgreSQL server (the storage writer's reconnect test, the
stream's outage test). They hold the machine-wide lock below exclusively; every other use of the server
(creating or dropping a scratch database, a test that talks to it) holds it shared, so parallel test
runs on one machine never see each other's restarts. This module is the only copy of these helpers:
`bench/` imports it too (`python -m bench.<name>` from the repository root).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import sqlalchemy as sa

LOCK_PATH = Path(tempfile.gettempdir()) / "riskwatch-pg-restart.lock"


class LockTimeout(RuntimeError):
    """Another run on this machine held the server lock for longer than we wait."""


class ServerLock:
    """The machine-wide readers/writer lock (flock) around the PostgreSQL server. Held shared, it can
    be turned exclusive for a restart and back (one open file, so the conversion cannot deadlock on a
    second lock of our own)."""

    def __init__(self, timeout: float = 180.0):
        self.timeout = timeout
        self._fh: IO[str] | None = None

    def _flock(self, mode: int) -> None:
        assert self._fh is not None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self._fh, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout("another test run held the PostgreSQL restart lock for too long") from None
                time.sleep(0.2)

    @contextlib.contextmanager
    def shared(self) -> Iterator[ServerLock]:
        self._fh = open(LOCK_PATH, "a")
        try:
            self._flock(fcntl.LOCK_SH)
            yield self
        finally:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Inside shared(): exclusive for the block, shared again afterwards."""
        self._flock(fcntl.LOCK_EX)
        try:
            yield
        finally:
            self._flock(fcntl.LOCK_SH)


@contextlib.contextmanager
def server_lock(exclusive: bool = False, timeout: float = 180.0) -> Iterator[None]:
    """Hold the server lock for the block (shared by default)."""
    lock = ServerLock(timeout)
    with lock.shared():
        if exclusive:
            with lock.exclusive():
                yield
        else:
            yield


def admin_engine(pg_url: str) -> sa.Engine:
    return sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def create_database(pg_url: str, label: str, migrate: bool = True) -> str:
    """CREATE DATABASE rw_<label>_<uuid> beside `pg_url` (migrated to the head unless told); its URL."""
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
    """A database of the caller's own for the duration of the block."""
    url = create_database(pg_url, label, migrate)
    try:
        yield url
    finally:
        drop_database(pg_url, url)


# -- stopping and starting the local server (Debian's pg_ctlcluster) ------------------------------


def local_cluster(url: str) -> tuple[str, str] | None:
    """(version, name) of the Debian cluster serving `url`'s port, when it runs on this machine."""
    parsed = sa.engine.make_url(url)
    if parsed.host not in ("127.0.0.1", "localhost", None) or not shutil.which("pg_ctlcluster"):
        return None
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        ver, name, port, *_ = line.split()
        if int(port) == (parsed.port or 5432):
            return ver, name
    return None


def is_running(cluster: tuple[str, str]) -> bool:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[:2] == list(cluster) and "online" in line for line in out.splitlines())


def pg_ctl(cluster: tuple[str, str], action: str, *args: str) -> None:
    """pg_ctlcluster VERSION NAME stop|start, retried; a cluster already in the wanted state is fine
    (another test run on this machine may have started it first)."""
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    done = None
    for _ in range(3):
        done = subprocess.run([*prefix, "pg_ctlcluster", *cluster, action, *args],
                              capture_output=True, text=True, timeout=120)
        if done.returncode == 0 or is_running(cluster) == (action == "start"):
            return
        time.sleep(1)
    assert done is not None
    out = " ".join((done.stderr + " " + done.stdout).split())
    raise AssertionError(f"pg_ctlcluster {' '.join(cluster)} {action} failed ({done.returncode}): {out}")


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Return once the server at `url` answers a query."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        engine.dispose()
