"""行政处罚台账: one penalty with its fine (blank counts as 0 元)."""

from __future__ import annotations

from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader


def events(row: RowReader) -> list[Draft]:
    at = row.date("日期", required=True)
    targets = row.parties("处罚对象", "penalized", required=True)
    penalty = row.text("处罚种类", required=True)
    amount = row.number("罚款金额（元）")
    if at is None or not targets or penalty is None:
        return []
    return [Draft("enforcement", "penalty_issued", at, {"penalty_type": penalty, "amount_yuan": amount or 0},
                  targets)]


KIND = LedgerKind(
    key="penalties",
    events=events,
    columns=(
        Column("日期", True, aliases=("处罚日期", "决定日期"), hint="2024-03-05"),
        Column("处罚对象", True, aliases=("当事人",), hint="单位名称或姓名", width=24),
        Column("处罚种类", True, aliases=("处罚类型",), hint="警告 / 罚款 / 没收…"),
        Column("罚款金额（元）", aliases=("罚款金额", "金额（元）", "罚没金额（元）"), hint="数字，空白按 0", width=16),
    ),
)
