"""安全隐患排查整改台账: a hazard found with its deadline, then rectified and verified."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pipeline.labels import HAZARD_CATEGORIES
from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader, code_of
from pipeline.ledgers.values import END_OF_DAY, compact

# 整改期限 is often written as a number of days from the finding ("7天", "3日内").
_DAYS = re.compile(r"(\d{1,3})(?:天|日)内?")


def events(row: RowReader) -> list[Draft]:
    hazard_id = row.text("编号", required=True)
    found = row.date("发现日期", required=True)
    due = _deadline(row, found)
    done = row.date("整改完成日期")
    checked = row.date("复查日期")
    location, place_text = row.location()
    category_text = row.text("隐患类别")
    description = row.text("隐患描述")
    done = row.not_before("整改完成日期", done, found, "发现日期")
    checked = row.not_before("复查日期", checked, found, "发现日期")
    if hazard_id is None or found is None or due is None:
        return []
    category = code_of(category_text, HAZARD_CATEGORIES) or ("other" if category_text else None)
    attributes: dict = {"hazard_id": hazard_id, "due_at": due.isoformat()}
    if category:
        attributes["category"] = category
    if category_text and category == "other":
        attributes["category_text"] = category_text
    if place_text:
        attributes["place"] = place_text
    drafts = [Draft("hazard", "found", found, attributes, [], location, [], description)]
    if done is not None:
        drafts.append(Draft("hazard", "rectified", done, {"hazard_id": hazard_id}, [], location))
    if checked is not None:
        drafts.append(Draft("hazard", "verified", checked, {"hazard_id": hazard_id}, [], location))
    return drafts


def _deadline(row: RowReader, found: datetime | None) -> datetime | None:
    m = _DAYS.fullmatch(compact(row.cells.get("整改期限")))
    if m is None:
        return row.date("整改期限", required=True, end_of_day=True)
    if found is None:
        return None
    day = (found + timedelta(days=int(m[1]))).date()
    row.canonical["整改期限"] = day
    return datetime.combine(day, END_OF_DAY, tzinfo=row.tz)


KIND = LedgerKind(
    key="hazards",
    id_column="编号",
    events=events,
    columns=(
        Column("编号", True, hint="每项隐患唯一，如 YH2024-001"),
        Column("发现日期", True, aliases=("排查日期",), hint="2024-03-05"),
        Column("整改期限", True, hint="日期（当天 24 时前）或“7天”"),
        Column("隐患类别", hint="消防、用电、燃气…"),
        Column("楼栋", hint="1号楼"),
        Column("地点", hint="如 1号楼消防泵房"),
        Column("隐患描述", width=36),
        Column("整改完成日期", hint="未完成留空"),
        Column("复查日期", hint="未复查留空"),
    ),
)
