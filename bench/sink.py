"""Benchmark: rows/s of the storage writer into PostgreSQL, beside plain COPY of the same rows.

    .venv/bin/python -m bench.sink [--rows 1000000] [--batch 20000] [--url URL] [--keep]

Creates a scratch database (rw_bench_<random>) on the server of --url (default RISKWATCH_TEST_PG_URL
or the local riskwatch role), migrates it, then in the same run:
  writer     Writer.write_batch(contributions=...) in batches of --batch: the production path
             (row building + contribution identity hashing + COPY into staging + INSERT … ON CONFLICT),
  copy       COPY of the same rows (already as tuples) into an identical table (same columns,
             primary key and indexes) — the practical limit of the server,
  executemany (on --executemany-rows rows) the writer with COPY disabled, for the choice of path.
Prints rows/s of each and writer/copy. Goal: writer ≥ 50,000 rows/s and ≥ 50 % of COPY.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import time

import sqlalchemy as sa

from pipeline.engine.engine import Contribution
from pipeline.storage import Writer, db
from pipeline.storage.postgres_copy import copy_rows, pg_copy_type
from pipeline.storage.rows import COLUMNS, contribution_row
from pipeline.storage.schema import metadata
from tests.integration.pgkit import create_database, drop_database

DEFAULT_URL = "postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch"
RULES = [("ebike-indoor-charging", "fire", 20.0, 7 * 86400.0), ("smoke-alarm", "fire", 30.0, 3 * 86400.0),
         ("dispute-party", "dispute", 15.0, 14 * 86400.0), ("checkpoint-patrol-gap", "patrol", 6.0, 3 * 86400.0),
         ("access-forced", "security", 15.0, 3 * 86400.0), ("threat-of-violence", "dispute", 60.0, 14 * 86400.0)]


def contributions(n: int, seed: int = 1) -> list[Contribution]:
    rnd = random.Random(seed)
    kinds = ["location:HD-1-{:04d}", "location:HD-2-{:04d}", "person:P-{:04d}", "checkpoint:CP-{:04d}"]
    t0 = 1730649600.0
    out = []
    for i in range(n):
        rule, category, points, half_life = RULES[i % len(RULES)]
        entity = kinds[i % 4].format(rnd.randrange(5000))
        events = tuple(f"e-{i:07d}-{k}" for k in range(1 + i % 3))
        out.append(Contribution(entity, rule, category, points * 1.5, t0 + i * 0.6, events, half_life,
                                "1" if "HD-1" in entity else "2"))
    return out


def run_writer(engine: sa.Engine, items: list[Contribution], batch: int, copy_threshold: int | None = None) -> float:
    writer = Writer(engine) if copy_threshold is None else Writer(engine, copy_threshold=copy_threshold)
    start = time.perf_counter()
    for i in range(0, len(items), batch):
        writer.write_batch(contributions=items[i:i + batch])
    return time.perf_counter() - start


def run_copy(engine: sa.Engine, items: list[Contribution], batch: int) -> float:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE contributions_copy (LIKE contributions INCLUDING ALL)"))
    columns = COLUMNS["contributions"]
    table = metadata.tables["contributions"]
    types = [pg_copy_type(table.c[c]) for c in columns]   # binary COPY, as fast as COPY gets here
    tuples = list(map(contribution_row, items))
    start = time.perf_counter()
    for i in range(0, len(tuples), batch):
        with engine.begin() as conn:
            copy_rows(conn, "contributions_copy", columns, tuples[i:i + batch], types)
    return time.perf_counter() - start


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000, help="rows per transaction")
    parser.add_argument("--executemany-rows", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--url", default=os.environ.get("RISKWATCH_TEST_PG_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    items = contributions(args.rows)
    # The input stays alive for the whole run; a real sink holds one batch at a time. Keep the
    # million input objects out of the cyclic GC so that it does not dominate the measurement.
    gc.collect()
    gc.freeze()
    url = create_database(args.url, "bench")
    print(f"scratch database {sa.engine.make_url(url).database} on {db.mask_url(args.url)}; {args.rows:,} contributions, "
          f"batches of {args.batch:,}", flush=True)
    engine = db.make_engine(url)
    try:
        t_writer = run_writer(engine, items, args.batch)
        assert count(engine, "contributions") == args.rows
        again = run_writer(engine, items[: args.batch * 5], args.batch)
        assert count(engine, "contributions") == args.rows  # idempotent: nothing added
        t_copy = run_copy(engine, items, args.batch)
        assert count(engine, "contributions_copy") == args.rows
        w, c = args.rows / t_writer, args.rows / t_copy
        print(f"writer (COPY + staging + ON CONFLICT): {w:12,.0f} rows/s  ({t_writer:.1f} s)")
        print(f"plain COPY, same rows, same table:     {c:12,.0f} rows/s  ({t_copy:.1f} s)")
        print(f"ratio writer/COPY:                     {w / c:12.0%}")
        print(f"re-writing {args.batch * 5:,} existing rows (all conflicts): {args.batch * 5 / again:,.0f} rows/s")
        if args.executemany_rows:
            with engine.begin() as conn:
                conn.execute(sa.text("TRUNCATE contributions"))
            n = min(args.executemany_rows, args.rows)
            t_many = run_writer(engine, items[:n], args.batch, copy_threshold=10**12)
            print(f"writer with executemany (multi-row VALUES ON CONFLICT), {n:,} rows: {n / t_many:,.0f} rows/s")
        ok = w >= 50_000 and w / c >= 0.5
        print("goal (≥ 50,000 rows/s and ≥ 50 % of COPY):", "met" if ok else "NOT met")
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(args.url, url)


if __name__ == "__main__":
    main()
