"""执法检查台账: one production or business unit inspected."""

from __future__ import annotations

from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader


def events(row: RowReader) -> list[Draft]:
    at = row.date("日期", required=True)
    units = row.parties("检查对象", "inspected", entity="business", required=True)
    if at is None or not units:
        return []
    return [Draft("inspection", "unit_inspected", at, {}, units)]


KIND = LedgerKind(
    key="inspections",
    events=events,
    columns=(
        Column("日期", True, aliases=("检查日期",), hint="2024-03-05"),
        Column("检查对象", True, aliases=("被检查单位", "检查单位名称"), hint="单位或商户名称", width=28),
    ),
)
