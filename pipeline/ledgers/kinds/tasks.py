"""双随机抽查任务: a published inspection task, and its completion."""

from __future__ import annotations

from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader


def events(row: RowReader) -> list[Draft]:
    task_id = row.text("编号", required=True)
    published = row.date("公示日期", required=True)
    completed = row.date("完成日期")
    completed = row.not_before("完成日期", completed, published, "公示日期")
    if task_id is None or published is None:
        return []
    drafts = [Draft("inspection", "task_published", published, {"task_id": task_id})]
    if completed is not None:
        drafts.append(Draft("inspection", "task_completed", completed, {"task_id": task_id}))
    return drafts


KIND = LedgerKind(
    key="tasks",
    id_column="编号",
    events=events,
    columns=(
        Column("编号", True, aliases=("任务编号",), hint="每项任务唯一"),
        Column("公示日期", True, aliases=("发布日期",), hint="2024-03-05"),
        Column("完成日期", hint="未完成留空"),
    ),
)
