"""The 安全隐患排查整改台账 of a simulated period, as a street office keeps it, for `make demo` to import.

The simulator's hazards (found, rectified, verified) are written one row per hazard the way offices
fill the ledger: a title and a unit row above the header, header cells with spaces, dates as Excel
date cells or typed in several forms, a 合计 row at the end (docs/contract.md §10). Events that are not
readable hazards (the malformed share of a run included) are passed over.

    python -m pipeline.simulate.ledgers EVENTS.jsonl OUT.xlsx
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from openpyxl import Workbook

from pipeline.labels import HAZARD_CATEGORIES, LEDGER_KINDS, label

HEADER = ["序号", " 编 号 ", "发现日期", "整改期限", "隐患类别", "楼栋", "地点", "隐患描述", "整改完成日期", "复查日期"]


def hazard_rows(lines: Iterable[bytes], tz: ZoneInfo) -> list[dict]:
    """One row per hazard found in `lines`, in the order they were found."""
    rows: dict[str, dict] = {}
    for line in lines:
        try:
            doc = orjson.loads(line)
            attrs = doc.get("attributes") or {}
            hazard_id, at = attrs["hazard_id"], datetime.fromisoformat(doc["occurred_at"]).astimezone(tz)
            if doc.get("kind") != "hazard" or not isinstance(hazard_id, str):
                continue
            row = rows.setdefault(hazard_id, {"编号": hazard_id})
            if doc["type"] == "found" and "发现日期" not in row:
                location = doc.get("location") or {}
                row.update({"发现日期": at, "整改期限": datetime.fromisoformat(attrs["due_at"]).astimezone(tz).date(),
                            "隐患类别": label(HAZARD_CATEGORIES, attrs.get("category")),
                            "楼栋": f"{location['building']}号楼" if location.get("building") else None,
                            "地点": location.get("id"), "隐患描述": doc.get("text")})
            elif doc["type"] in ("rectified", "verified"):
                row.setdefault("整改完成日期" if doc["type"] == "rectified" else "复查日期", at)
        except (ValueError, TypeError, KeyError, AttributeError):
            continue     # a malformed line of the simulation: not a hazard an office would write down
    found = [r for r in rows.values() if "发现日期" in r]
    return sorted(found, key=lambda r: r["发现日期"])


def _typed(value: object, n: int) -> object:
    """Dates as offices enter them: an Excel date cell, or typed in one of the listed forms."""
    if not isinstance(value, datetime):
        return value
    form = n % 3
    if form == 0:
        return value.replace(tzinfo=None)
    if form == 1:
        return f"{value.year}/{value.month}/{value.day} {value:%H:%M}"
    return f"{value.year}年{value.month}月{value.day}日"


def hazard_ledger(lines: Iterable[bytes], tz: ZoneInfo) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账"
    sheet.append([LEDGER_KINDS["hazards"]])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["填报单位：西于庄街道（模拟数据）"])
    sheet.append(HEADER)
    rows = hazard_rows(lines, tz)
    for n, row in enumerate(rows, start=1):
        cells = [_typed(row.get(h.replace(" ", "")), n) for h in HEADER[1:]]
        sheet.append([n, *cells])
    sheet.append(["合计", f"{len(rows)}项"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m pipeline.simulate.ledgers EVENTS.jsonl OUT.xlsx", file=sys.stderr)
        return 2
    from pipeline.area import load_area
    from pipeline.settings import DEFAULT_CONFIG_DIR

    tz = ZoneInfo(load_area(DEFAULT_CONFIG_DIR / "area.yaml").timezone)
    with open(argv[1], "rb") as fh:
        data = hazard_ledger(fh, tz)
    Path(argv[2]).write_bytes(data)
    print(f"wrote {argv[2]}: the simulated period's {LEDGER_KINDS['hazards']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
