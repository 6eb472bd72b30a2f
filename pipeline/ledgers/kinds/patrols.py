"""巡查登记表: one patrol with its personnel, vehicles, roads and communities (blank counts as 0)."""

from __future__ import annotations

from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader

FIGURES = {"出动人次": "personnel", "车次": "vehicles", "路次": "roads", "社区次": "communities"}


def events(row: RowReader) -> list[Draft]:
    at = row.date("日期", required=True)
    figures = {attr: row.number(column, required=column == "出动人次") for column, attr in FIGURES.items()}
    if at is None or figures["personnel"] is None:
        return []
    return [Draft("patrol", "patrol_finished", at, {k: v or 0 for k, v in figures.items()})]


KIND = LedgerKind(
    key="patrols",
    events=events,
    columns=(
        Column("日期", True, aliases=("巡查日期",), hint="2024-03-05 或 2024-03-05 20:00"),
        Column("出动人次", True, aliases=("出动人数", "执法人次"), hint="数字，如 4 或 4人次"),
        Column("车次", aliases=("执法车次", "车辆"), hint="空白按 0"),
        Column("路次", aliases=("巡查道路", "道路条次"), hint="空白按 0"),
        Column("社区次", aliases=("巡查社区", "社区个次"), hint="空白按 0"),
    ),
)
