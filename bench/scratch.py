"""Scratch PostgreSQL databases of the benchmarks: rw_bench_<id> beside a given URL, dropped after.

Imported by the scripts in this folder (`python bench/X.py` puts the folder on sys.path).
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from pipeline.storage import db


def create_database(url: str, migrate: bool = True) -> str:
    """CREATE DATABASE rw_bench_<id> next to `url` (migrated to the head unless told); its URL."""
    name = f"rw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    scratch = sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    if migrate:
        engine = db.make_engine(scratch)
        db.upgrade(engine)
        engine.dispose()
    return scratch


def drop_database(url: str, scratch: str) -> None:
    """Plain DROP, retried: an autovacuum worker still busy in the database is cancelled by the server
    (WITH (FORCE) would need the right to signal it)."""
    name = sa.engine.make_url(scratch).database
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                return
            except sa.exc.DBAPIError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
    finally:
        admin.dispose()
