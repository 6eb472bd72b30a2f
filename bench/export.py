"""Benchmark: the weekly export (`riskwatch export weekly`, xlsx + PDF) of a week with 1,000,000 events
on PostgreSQL, beside the time pandas needs just to read the same rows (the practical limit).

    .venv/bin/python -m bench.export [--events 1000000] [--week 2024-W45] [--pg URL] [--keep]

A fresh database rw_bench_<uuid> is created on the server of --pg (default: RISKWATCH_TEST_PG_URL or
the riskwatch role on 127.0.0.1), migrated, and filled with COPY: the week's events (half checkpoint
visits, device and alarm signals, patrols, hazards, disputes, ...), 30,000 contributions, 2,000 alerts,
and the previous week with a tenth of the volume. It is dropped afterwards unless --keep.
Goal: the export under 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import orjson
import sqlalchemy as sa

from pipeline.configset import load_config
from pipeline.exports.period import iso_week, previous_week
from pipeline.storage import db
from pipeline.storage.postgres_copy import copy_rows
from tests.integration.pgkit import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PG = "postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch"
EVENT_COLS = ("event_id", "kind", "type", "occurred_at", "source", "building", "location_id", "doc")
MIX = [  # (share, kind, type)
    (0.50, "patrol", "checkpoint_visit"), (0.38, "monitoring", "device_offline"), (0.04, "monitoring", "crowd_gathering"),
    (0.02, "monitoring", "smoke_alarm"), (0.02, "monitoring", "gas_alarm"), (0.02, "monitoring", "ebike_indoor_charging"),
    (0.01, "monitoring", "water_leak"), (0.004, "patrol", "issue_found"), (0.002, "patrol", "patrol_finished"),
    (0.002, "hazard", "found"), (0.001, "hazard", "rectified"), (0.001, "dispute", "reported"),
    (0.001, "dispute", "mediation_held"), (0.001, "petition", "received"), (0.001, "inspection", "unit_inspected"),
]


def events(n: int, start, seconds: float, cfg, rnd: random.Random, prefix: str):
    checkpoints = [(cp.id, cp.building, cp.location) for cp in cfg.area.checkpoints]
    kinds = [(k, t) for _, k, t in MIX]
    weights = [w for w, _, _ in MIX]
    picks = rnd.choices(kinds, weights, k=n)
    offsets = sorted(rnd.random() * seconds for _ in range(n))
    for i, ((kind, type_), off) in enumerate(zip(picks, offsets, strict=False)):
        at = start + timedelta(seconds=off)
        b = rnd.choice("12")
        doc = {"event_id": f"{prefix}{i:08d}", "kind": kind, "type": type_, "occurred_at": at.isoformat(),
               "source": "bench"}
        if type_ == "checkpoint_visit":
            cp, b, loc = rnd.choice(checkpoints)
            doc["location"] = {"id": loc, "building": b, "checkpoint": cp}
        else:
            loc = f"HD-{b}-{rnd.randint(2, 24):02d}{rnd.randint(1, 10):02d}"
            doc["location"] = {"id": loc, "building": b}
        if kind == "hazard":
            doc["attributes"] = {"hazard_id": f"HZ-{prefix}{i % 5000:05d}", "category": "fire",
                                 "due_at": (at + timedelta(days=3)).isoformat()}
        elif kind == "dispute":
            doc["attributes"] = {"case_id": f"MD-{prefix}{i % 3000:05d}"}
            doc["subjects"] = [{"type": "person", "id": f"P-{rnd.randint(1, 400):04d}", "role": "party"}]
        elif type_ == "patrol_finished":
            doc["attributes"] = {"personnel": 3, "vehicles": 1, "roads": 4, "communities": 1}
        yield (doc["event_id"], kind, type_, at, "bench", b, doc["location"]["id"], orjson.dumps(doc).decode())


def fill(url: str, n: int, week: str) -> None:
    cfg = load_config()
    cur = iso_week(week, cfg.area.tz)
    prev = previous_week(cur)
    rnd = random.Random(8)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        copy_rows(conn, "events", EVENT_COLS, events(n, cur.start, 7 * 86400 - 1, cfg, rnd, "w"))
        copy_rows(conn, "events", EVENT_COLS, events(n // 10, prev.start, 7 * 86400 - 1, cfg, rnd, "p"))
        rules = [r for r in cfg.rules.rules]
        contrib = []
        for i in range(30_000):
            rule = rnd.choice(rules)
            at = prev.start + timedelta(seconds=rnd.random() * 14 * 86400)
            entity = f"location:HD-{rnd.choice('12')}-{rnd.randint(2, 24):02d}{rnd.randint(1, 10):02d}"
            contrib.append((f"c{i:031d}", entity, rule.id, rule.category, float(rule.score), at,
                            orjson.dumps([f"w{i:08d}"]).decode(), float(rule.half_life), entity.split("-")[1]))
        copy_rows(conn, "contributions", ("id", "entity", "rule", "category", "points", "fired_at", "events",
                                          "half_life_s", "building"), contrib)
        ents = {c[1] for c in contrib}
        copy_rows(conn, "entities", ("ref", "type", "id", "building", "criticality"),
                  [(e, "location", e.split(":", 1)[1], e.split("-")[1], 1.0) for e in ents])
        alerts = [(f"A-{i:06d}", e, rnd.choice(["high", "critical"]), "L01", "[]", 70.0,
                   cur.start + timedelta(seconds=rnd.random() * 7 * 86400), "open",
                   cur.start + timedelta(days=7)) for i, e in enumerate(sorted(ents)[:2000])]
        copy_rows(conn, "alerts", ("alert_id", "entity", "level", "assignee", "rules", "score", "raised_at",
                                   "status", "updated_at"), alerts)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--week", default="2024-W45")
    ap.add_argument("--pg", default=os.environ.get("RISKWATCH_TEST_PG_URL", DEFAULT_PG))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    import pandas as pd

    from pipeline.exports.review import build_review
    from pipeline.exports.writers import EXPORTERS

    url = create_database(args.pg, "bench")
    try:
        t0 = time.perf_counter()
        fill(url, args.events, args.week)
        print(f"filled {args.events:,} events (+{args.events // 10:,} the week before) with COPY in "
              f"{time.perf_counter() - t0:.1f} s")
        cfg = load_config()
        engine = db.open_database(url)
        out = Path(tempfile.mkdtemp(prefix="rw-bench-export-"))

        def export():
            review = build_review(engine, cfg, args.week)
            for exporter in EXPORTERS.values():
                exporter.write(review, out / f"weekly.{exporter.suffix}")

        cur = iso_week(args.week, cfg.area.tz)
        params = {"s": cur.start, "e": cur.end}

        def read_all():
            with engine.connect() as conn:
                return pd.read_sql(sa.text("SELECT * FROM events WHERE occurred_at >= :s AND occurred_at < :e"),
                                   conn, params=params)

        def read_narrow():
            with engine.connect() as conn:
                return pd.read_sql(sa.text("SELECT event_id, kind, type, occurred_at, building, location_id FROM events "
                                           "WHERE occurred_at >= :s AND occurred_at < :e"), conn, params=params)

        t_export = best(export, args.repeat)
        rows = len(read_narrow())
        t_narrow = best(read_narrow, args.repeat)
        t_all = best(read_all, 1)
        engine.dispose()
        print(f"weekly export (xlsx + pdf) of {rows:,} events: {t_export:.2f} s  (goal < 10 s: "
              f"{'OK' if t_export < 10 else 'MISSED'})")
        print(f"pandas.read_sql of the same rows: {t_narrow:.2f} s without doc, {t_all:.2f} s with doc (SELECT *)")
        print(f"export / read (without doc) = {t_export / t_narrow:.2f}")
        return 0 if t_export < 10 else 1
    finally:
        if not args.keep:
            drop_database(args.pg, url)


if __name__ == "__main__":
    sys.exit(main())
