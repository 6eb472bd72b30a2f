"""Names every dashboard shares: datasource, folder, dashboard uids, Chinese labels, SQL snippets.

Labels that come from the configuration (rule titles, leaders' posts, checkpoint names) are rendered
into the SQL as VALUES lists when the dashboards are built, so Grafana shows Chinese names without
the database having to store them; rebuild the dashboards after changing config/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from grafana_foundation_sdk.models import dashboard

from dashboards.sqlquery import PLUGIN_ID
from pipeline.configset import ConfigSet
from pipeline.explain import LEVEL_ZH
from pipeline.notify.notices import DRILLDOWN_UID

DATASOURCE_UID = "riskwatch-pg"
DATASOURCE_NAME = "riskwatch PostgreSQL"
DS = dashboard.DataSourceRef(type_val=PLUGIN_ID, uid=DATASOURCE_UID)

FOLDER_UID = "riskwatch"
FOLDER_TITLE = "虹都中心风险监测"
TAG = "riskwatch"

UID_OVERVIEW = "riskwatch-overview"
# The notifier links every notice to this drill-down (pipeline/notify/notices.py): one name for both.
UID_ENTITY = DRILLDOWN_UID
UID_HAZARDS = "riskwatch-hazards"
UID_DISPUTES = "riskwatch-disputes"
UID_PATROL = "riskwatch-patrol"
UID_ALERTS = "riskwatch-alerts"

# Building filter value for entities without a building (persons, businesses).
NO_BUILDING = "-"
NO_BUILDING_TEXT = "未关联楼栋"

CATEGORY_ZH = {
    "fire": "消防安全",
    "safety": "安全隐患",
    "equipment": "监测设备",
    "public_order": "治安秩序",
    "patrol": "巡查覆盖",
    "dispute": "矛盾纠纷",
    "enforcement": "执法监管",
}
HAZARD_CATEGORY_ZH = {"fire": "消防", "structure": "房屋结构", "electrical": "用电", "sundries": "杂物堆放", "gas": "燃气"}
TARGET_ZH = {"person": "人员", "business": "经营主体", "location": "地点", "building": "楼栋", "checkpoint": "巡查点位"}

# Grafana's classic palette (dark theme), also used by the screenshots.
LEVEL_COLORS = {"low": "#73BF69", "medium": "#FADE2A", "high": "#FF9830", "critical": "#F2495C"}


def q(value: object) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def values_table(alias: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """`(VALUES ('a','b'), ...) AS alias(c1, c2)`; every value a text literal."""
    body = ", ".join("(" + ", ".join(q(v) for v in row) + ")" for row in rows)
    if not body:
        body = "(" + ", ".join("NULL::text" for _ in columns) + ")"
    return f"(VALUES {body}) AS {alias}({', '.join(columns)})"


def categories(cfg: ConfigSet) -> list[str]:
    """Rule categories in rules-file order."""
    seen: dict[str, None] = {}
    for rule in cfg.rules.rules:
        seen.setdefault(rule.category, None)
    return list(seen)


def category_labels(cfg: ConfigSet, alias: str = "cat") -> str:
    return values_table(alias, ("id", "label"), ((c, CATEGORY_ZH.get(c, c)) for c in categories(cfg)))


def level_names(cfg: ConfigSet) -> list[str]:
    """low, then the configured levels in threshold order."""
    return ["low"] + [name for name, _ in cfg.rules.levels]


def level_labels(cfg: ConfigSet, alias: str = "lv") -> str:
    return values_table(alias, ("id", "label", "rank"),
                        ((n, LEVEL_ZH.get(n, n), i) for i, n in enumerate(level_names(cfg))))


def rule_titles(cfg: ConfigSet, alias: str = "rt") -> str:
    return values_table(alias, ("id", "title"), ((r.id, r.title) for r in cfg.rules.rules))


def leader_names(cfg: ConfigSet, alias: str = "ld") -> str:
    return values_table(alias, ("id", "name"), ((k, v.name) for k, v in cfg.assignments.leaders.items()))


def checkpoint_names(cfg: ConfigSet, alias: str = "cp") -> str:
    return values_table(alias, ("id", "name", "building"),
                        ((c.id, c.name, c.building) for c in cfg.area.checkpoints))


def building_names(cfg: ConfigSet) -> dict[str, str]:
    return {b: f"{b}号楼" for b in cfg.area.buildings}


def in_building(column: str) -> str:
    """Filter on the building variable; rows without a building match its "未关联楼栋" option."""
    return f"COALESCE({column}, '{NO_BUILDING}') IN ($building)"


def link_to_entity(title: str = "查看风险对象详情") -> dict:
    """A data link from a cell holding an entity ref to the drill-down, keeping the time range."""
    return {
        "title": title,
        "url": f"/d/{UID_ENTITY}?var-entity=${{__value.raw}}&${{__url_time_range}}",
        "targetBlank": False,
    }


def hazard_category_label(column: str) -> str:
    """Chinese label of a hazard's `attributes.category` (its own vocabulary, not the rule categories)."""
    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in HAZARD_CATEGORY_ZH.items())
    return f"CASE {column} {cases} ELSE COALESCE({column}, '其他') END"


ALERT_ACTION_ZH = {"raised": "触发预警", "upgraded": "等级上调", "notified": "已通知", "acknowledged": "已确认",
                   "escalated": "逐级上报", "resolved": "已解除", "closed": "已关闭"}
ALERT_STATUS_ZH = {"open": "待确认", "acknowledged": "已确认", "resolved": "已解除", "closed": "已关闭"}


def label_case(column: str, labels: dict[str, str]) -> str:
    """`CASE col WHEN 'a' THEN '甲' ... ELSE col END`: a fixed vocabulary shown in Chinese."""
    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in labels.items())
    return f"CASE {column} {cases} ELSE {column} END"
