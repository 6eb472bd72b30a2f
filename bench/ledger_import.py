"""Benchmark: `riskwatch import ledger` of a 100,000-row ledger into PostgreSQL, beside pandas reading
the same file in the same run (the floor: what reading alone costs).

    .venv/bin/python -m bench.ledger_import [--rows 100000] [--kind disputes] [--pg URL] [--openpyxl] [--keep]

The ledger is a 矛盾纠纷排查化解台账 (.xlsx, title row, nine columns, 2,000 party names, dates in every form,
two events for most rows), or with --kind patrols a 巡查登记表. A fresh database rw_bench_<uuid> is created
on the server of --pg (default: RISKWATCH_TEST_PG_URL or the riskwatch role on 127.0.0.1), migrated, used
with a new registry key, and dropped afterwards unless --keep. --openpyxl adds pandas' openpyxl engine to
the baselines (about 20 s for this file here). Goal: the import in at most 10 s.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from pipeline.configset import load_config
from pipeline.ledgers.importer import ImportReport, import_ledger
from pipeline.persons.keys import KEYS_ENV, new_key
from pipeline.storage import db
from tests.integration.pgkit import create_database, drop_database

DEFAULT_PG = "postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch"


def _date(rnd: random.Random, day: date) -> object:
    form = rnd.randrange(5)
    if form == 0:
        return day                     # an Excel date cell
    y, m, d = day.year, day.month, day.day
    return (f"{day:%Y-%m-%d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{day:%Y-%m-%d} 14:30")[form - 1]


def ledger(kind: str, rows: int, seed: int = 5) -> bytes:
    rnd = random.Random(seed)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    start = date(2024, 1, 1)
    if kind == "disputes":
        names = [f"住户{n:04d}" for n in range(2000)]
        sheet.append(["矛盾纠纷排查化解台账"])
        sheet.append(["序号", "编号", "登记日期", "化解状态", "纠纷类型", "当事人", "楼栋", "地点", "简要情况", "化解日期"])
        for n in range(rows):
            day = start + timedelta(days=rnd.randrange(366))
            status = rnd.choice(("已化解", "已化解", "化解中", "已移交"))
            closed = _date(rnd, day + timedelta(days=rnd.randrange(20))) if status != "化解中" else None
            parties = "、".join(rnd.sample(names, rnd.choice((1, 2))))
            sheet.append([n + 1, f"MD-{n:06d}", _date(rnd, day), status, rnd.choice(("邻里噪音", "物业费争议", "其他")),
                          parties, rnd.choice(("1号楼", "2", "虹都中心2号楼", None)), rnd.choice(("", "南门外", None)),
                          "双方就噪音问题发生争执", closed])
    elif kind == "inspections":
        units = [f"虹都{n:04d}号商户" for n in range(3000)]
        sheet.append(["执法检查台账"])
        sheet.append(["序号", "日期", "检查对象", "检查内容"])
        for n in range(rows):
            day = start + timedelta(days=rnd.randrange(366))
            sheet.append([n + 1, _date(rnd, day), rnd.choice(units), "消防安全检查"])
    else:
        sheet.append(["巡查登记表"])
        sheet.append(["日期", "出动人次", "车次", "路次", "社区次"])
        for _ in range(rows):
            day = start + timedelta(days=rnd.randrange(366))
            sheet.append([_date(rnd, day), f"{rnd.randrange(2, 9)}人次", rnd.randrange(3), rnd.randrange(6), None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(fn) -> tuple[object, float, float]:
    """(result, wall seconds, this process's CPU seconds): on a shared machine the CPU time says what
    the work costs, the wall time what the load made of it."""
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--kind", choices=("patrols", "inspections", "disputes"), default="patrols")
    parser.add_argument("--pg", default=os.environ.get("RISKWATCH_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--openpyxl", action="store_true", help="also time pandas with the openpyxl engine")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    data = ledger(args.kind, args.rows)
    path = Path(tempfile.gettempdir()) / f"bench-ledger-{args.kind}.xlsx"
    path.write_bytes(data)
    print(f"ledger: {args.rows:,} rows ({args.kind}), {len(data) / 1e6:.1f} MB xlsx", flush=True)

    _, read_calamine, read_cpu = timed(lambda: pd.read_excel(path, header=None, dtype=object, engine="calamine"))
    print(f"pandas read_excel (calamine): {read_calamine:.2f} s wall, {read_cpu:.2f} s CPU", flush=True)
    read_openpyxl = None
    if args.openpyxl:
        _, read_openpyxl, openpyxl_cpu = timed(lambda: pd.read_excel(path, header=None, dtype=object,
                                                                     engine="openpyxl"))
        print(f"pandas read_excel (openpyxl): {read_openpyxl:.2f} s wall, {openpyxl_cpu:.2f} s CPU", flush=True)

    os.environ[KEYS_ENV] = new_key()
    cfg = load_config()
    url = create_database(args.pg, "bench")
    engine = db.open_database(url)
    try:
        report, seconds, cpu = timed(lambda: import_ledger(path.read_bytes(), path.name, args.kind, cfg=cfg,
                                                           engine=engine, actor="bench"))
        again, again_seconds, again_cpu = timed(lambda: import_ledger(path.read_bytes(), path.name, args.kind, cfg=cfg,
                                                              engine=engine, actor="bench"))
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(args.pg, url)
    assert isinstance(report, ImportReport) and isinstance(again, ImportReport)
    assert report.errors == [] and report.new == report.events and again.new == 0, (report.as_json(), again.new)
    print(f"import ledger: {seconds:.2f} s wall, {cpu:.2f} s CPU in this process, for {report.rows:,} rows -> "
          f"{report.events:,} events ({report.rows / seconds:,.0f} rows/s); pandas reading alone is "
          f"{read_calamine / seconds:.0%} of it ({seconds / read_calamine:.1f}x)")
    if read_openpyxl is not None:
        print(f"  the import vs pandas with openpyxl: {seconds / read_openpyxl:.2f}x")
    print(f"re-import of the same file (all {again.existing:,} events existing): {again_seconds:.2f} s wall, "
          f"{again_cpu:.2f} s CPU")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"goal <= 10 s: {'met' if seconds <= 10 else 'NOT met'} (wall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
