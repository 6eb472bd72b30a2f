"""Helpers of `make demo` (settings from RISKWATCH_* as for the worker):

    python -m streams.demo reset    delete the deployment's topics and consumer groups: a fresh start
    python -m streams.demo report   the top risks and the alerts in the database, with Chinese labels
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from pipeline.labels import level_label
from pipeline.settings import load_settings
from streams.topics import TopicNames, delete_deployment


def reset() -> None:
    settings = load_settings()
    names = TopicNames.make(settings.topic_prefix, settings.app_id)
    topics, groups = delete_deployment(settings.kafka_bootstrap, names)
    print(f"reset: {len(topics)} topics and consumer groups {', '.join(groups) or '-'} removed")


def report(top: int = 10) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipeline.configset import load_config
    from pipeline.storage import models as m
    from pipeline.storage.db import open_database
    from pipeline.storage.views import entity_scores_at
    from pipeline.timeutil import format_utc

    settings = load_settings()
    cfg = load_config(settings.config_dir if settings.config_dir.is_dir() else None)
    titles = {r.id: r.title for r in cfg.rules.rules}
    engine = open_database(settings.db_url)
    console = Console()
    try:
        with engine.connect() as conn:
            count = lambda t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: E731
            events, rejected, duplicates = count("events"), count("rejections"), count("duplicates")
            latest = conn.execute(sa.select(sa.func.max(m.Event.occurred_at))).scalar_one()
            alerts = conn.execute(sa.text(
                "SELECT entity, level, assignee, rules, raised_at FROM alerts ORDER BY raised_at")).all()
        if latest is None:
            console.print("数据库中还没有事件。")
            return
        if latest.tzinfo is None:
            from datetime import UTC

            latest = latest.replace(tzinfo=UTC)
        now = latest.timestamp()
        scores = sorted(entity_scores_at(engine, now).values(), key=lambda s: (-s.score, s.entity))
    finally:
        engine.dispose()
    console.print(f"流式处理结果：受理事件 {events} 条，拒收 {rejected} 条，重复 {duplicates} 条；"
                  f"时钟 {format_utc(now)}（最新事件时间）")
    table = Table(title=f"风险排名（前 {min(top, len(scores))} 个）")
    for col in ("对象", "分值", "等级", "贡献条数"):
        table.add_column(col)
    for s in scores[:top]:
        table.add_row(s.entity, f"{s.score:.2f}", level_label(s.level), str(s.contributions))
    console.print(table)
    table = Table(title=f"预警（{len(alerts)} 条）")
    for col in ("对象", "等级", "包保领导", "规则", "发起时间"):
        table.add_column(col)
    for entity, level, assignee, rules, raised_at in alerts:
        rules = rules if isinstance(rules, list) else __import__("json").loads(rules)
        table.add_row(entity, level_label(level), assignee or "-", "、".join(titles.get(r) or r for r in rules),
                      str(raised_at)[:19])
    console.print(table)


def main(argv: list[str]) -> int:
    if argv[1:] == ["reset"]:
        reset()
    elif argv[1:] == ["report"]:
        report()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
