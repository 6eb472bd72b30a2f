"""研判总览: the weekly meeting's first screen — who is at high/critical level, where, why, and what
is overdue. Entity cells link to the drill-down (风险对象详情)."""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import (
    LEVEL_COLORS,
    REF_COLUMN,
    UID_OVERVIEW,
    building_names,
    categories,
    category_labels,
    entity_label,
    hazard_category_label,
    in_building,
    label_case,
    level_labels,
    place_label,
    q,
)
from dashboards.cte import CASES, HAZARDS, SCORED
from dashboards.panels import Dashboard, Panel
from pipeline import labels
from pipeline.configset import ConfigSet

IN_CATEGORY = "EXISTS (SELECT 1 FROM contributions c WHERE c.entity = a.entity AND c.category IN ($category))"
# Every alert still unacknowledged at the end of the range, whenever it was raised: open work does not
# drop out of the count because its week has passed.
PENDING_ALERTS = f"""SELECT count(*) AS "预警数"
FROM alerts a LEFT JOIN entities e ON e.ref = a.entity
WHERE a.status = 'open' AND a.raised_at < $__timeTo() AND {in_building('e.building')} AND a.level IN ($level)
  AND {IN_CATEGORY}"""


def _count_level(level: str) -> str:
    return f"WITH {SCORED}\nSELECT count(*) AS \"对象数\" FROM scored WHERE level = {q(level)}"


def _by_building_category(cfg: ConfigSet) -> tuple[str, tuple[str, ...]]:
    cats = categories(cfg)
    cols = ",\n       ".join(
        f"count(*) FILTER (WHERE category = {q(c)}) AS \"{labels.label(labels.CATEGORIES, c)}\"" for c in cats)
    sql = f"""WITH {SCORED}
SELECT CASE WHEN building IS NULL THEN '未关联楼栋' ELSE building || '号楼' END AS "楼栋",
       {cols}
FROM scored
WHERE level IN ('high', 'critical')
GROUP BY building
ORDER BY building NULLS LAST"""
    return sql, ("楼栋", *(labels.label(labels.CATEGORIES, c) for c in cats))


def _heatmap(cfg: ConfigSet) -> tuple[str, tuple[str, ...]]:
    """Floors (rows) × buildings (columns): the highest current score of a place on that floor, so a cell's
    colour is that of the level thresholds, which hold for one object (a sum of several low places is not a
    higher level)."""
    area = cfg.area
    low = -max(b.basement_floors for b in area.buildings.values())
    high = max(b.floors for b in area.buildings.values())
    names = building_names(cfg)
    cols = ",\n       ".join(
        f"CASE WHEN f.floor BETWEEN {-b.basement_floors} AND {b.floors} "
        f"THEN floor(COALESCE(max(p.score) FILTER (WHERE p.building = {q(bid)}), 0))::int END AS \"{names[bid]}\""
        for bid, b in area.buildings.items())
    sql = f"""WITH {SCORED}, placed AS (
  SELECT sc.building, fl.floor, sc.score
  FROM scored sc
  CROSS JOIN LATERAL (
    SELECT (ev.doc->'location'->>'floor')::int AS floor
    FROM contributions c JOIN events ev ON ev.event_id = c.events->>0
    WHERE c.entity = sc.entity AND ev.doc->'location' ? 'floor'
    ORDER BY c.fired_at DESC LIMIT 1
  ) fl
  WHERE sc.type IN ('location', 'checkpoint')
)
SELECT CASE WHEN f.floor < 0 THEN 'B' || (-f.floor) ELSE f.floor || '层' END AS "楼层",
       {cols}
FROM generate_series({low}, {high}) AS f(floor)
LEFT JOIN placed p ON p.floor = f.floor
WHERE f.floor <> 0
GROUP BY f.floor
ORDER BY f.floor DESC"""
    return sql, ("楼层", *names.values())


def dashboard(cfg: ConfigSet) -> Dashboard:
    by_bc_sql, by_bc_cols = _by_building_category(cfg)
    heat_sql, heat_cols = _heatmap(cfg)
    panels = [
        *(Panel(f"{labels.level_label(level)}风险对象", "stat", _count_level(level), ("对象数",), w=3, h=4,
                nonempty=True, color=LEVEL_COLORS[level]) for level in ("critical", "high", "medium")),
        Panel("新增预警", "stat", f"""SELECT count(*) AS "预警数"
FROM alerts a LEFT JOIN entities e ON e.ref = a.entity
WHERE $__timeFilter(a.raised_at) AND {in_building('e.building')} AND a.level IN ($level)
  AND {IN_CATEGORY}""",
              ("预警数",), w=4, h=4, nonempty=True, color="#5794F2"),
        Panel("待确认预警", "stat", PENDING_ALERTS, ("预警数",), w=3, h=4, nonempty=True, color="#FF9830",
              description="至时间范围末仍未确认的全部预警，含此前各周产生的。"),
        Panel("逾期未整改隐患", "stat", f"""WITH {HAZARDS}
SELECT count(*) FILTER (WHERE is_overdue) AS "隐患数" FROM hz""", ("隐患数",), w=4, h=4, nonempty=True, color="#F2495C"),
        Panel("未化解纠纷", "stat", f"""WITH {CASES}
SELECT count(*) FILTER (WHERE status <> '已化解') AS "纠纷数" FROM cs""", ("纠纷数",), w=4, h=4, nonempty=True,
              color="#B877D9"),
        Panel("较大及以上风险对象", "table", f"""WITH {SCORED}
SELECT sc.entity AS {REF_COLUMN}, {entity_label("sc.entity", cfg)} AS "风险对象",
       {label_case("sc.type", labels.ENTITY_KINDS)} AS "类型",
       COALESCE(sc.building || '号楼', '—') AS "楼栋", COALESCE(cat.label, sc.category) AS "主要类别",
       floor(sc.score)::int AS "风险分值", lv.label AS "等级"
FROM scored sc
LEFT JOIN {level_labels(cfg)} ON lv.id = sc.level
LEFT JOIN {category_labels(cfg)} ON cat.id = sc.category
WHERE sc.level IN ('high', 'critical')
ORDER BY sc.score DESC""", (REF_COLUMN, "风险对象", "类型", "楼栋", "主要类别", "风险分值", "等级"), w=12, h=9,
              nonempty=True, entity_column="风险对象", score_colors=True,
              description="风险分值（时间范围末）达到较大或重大等级的对象；点击对象查看详情。人员仅以化名编号显示。"),
        Panel("较大及以上风险对象分布（楼栋 × 类别）", "barchart", by_bc_sql, by_bc_cols, w=12, h=9, nonempty=True,
              x_field="楼栋", stacked=True),
        Panel("风险分值走势（前5名）", "timeseries", f"""WITH {SCORED}, top AS (
  SELECT entity FROM scored ORDER BY score DESC LIMIT 5
)
SELECT t AS "time", {entity_label("s.entity", cfg)} AS metric, s.score::float8 AS value
FROM generate_series(date_trunc('hour', $__timeFrom()::timestamptz), $__timeTo()::timestamptz, interval '6 hours') AS t
CROSS JOIN LATERAL entity_scores_at(t) s
WHERE s.entity IN (SELECT entity FROM top)
ORDER BY 1, 2""", ("time", "metric", "value"), w=12, h=8, nonempty=True, score_colors=False),
        Panel("新增预警（每6小时，按等级）", "timeseries", f"""SELECT $__timeGroupAlias(a.raised_at, '6h'),
       lv.label AS metric, count(*) AS value
FROM alerts a
LEFT JOIN entities e ON e.ref = a.entity
JOIN {level_labels(cfg)} ON lv.id = a.level
WHERE $__timeFilter(a.raised_at) AND {in_building('e.building')} AND a.level IN ($level)
  AND {IN_CATEGORY}
GROUP BY 1, 2
ORDER BY 1""", ("time", "metric", "value"), w=12, h=8, nonempty=True, level_series=True),
        Panel("楼栋楼层风险热力", "heatmap", heat_sql, heat_cols, w=8, h=16, nonempty=True, score_colors=True,
              description="各楼层地点与巡查点位中最高的风险分值（时间范围末），颜色即该对象的风险等级。"),
        Panel("逾期未整改隐患清单", "table", f"""WITH {HAZARDS}
SELECT hazard_id AS "隐患编号", building || '号楼' AS "楼栋", {place_label("location_id", cfg)} AS "位置",
       {hazard_category_label("category")} AS "类别",
       found_at AS "发现时间", due_at AS "整改期限",
       round((extract(epoch FROM $__timeTo()::timestamptz - due_at) / 86400)::numeric, 1) AS "逾期天数"
FROM hz WHERE is_overdue
ORDER BY due_at""", ("隐患编号", "楼栋", "位置", "类别", "发现时间", "整改期限", "逾期天数"), w=10, h=16, nonempty=True),
        Panel("矛盾纠纷化解情况", "piechart", f"""WITH {CASES}
SELECT CASE WHEN status = '已化解' THEN '已化解' ELSE '未化解' END AS "状态", count(*) AS "纠纷数"
FROM cs WHERE $__timeFilter(reported_at)
GROUP BY 1 ORDER BY 1""", ("状态", "纠纷数"), w=6, h=16, nonempty=True),
    ]
    return Dashboard(
        uid=UID_OVERVIEW,
        title="研判总览",
        description="虹都中心重点地区风险研判总览（西于庄街道政法工作组）",
        panels=panels,
        variables=[var.building(), var.category(cfg), var.level(cfg)],
        timezone=cfg.area.timezone,
    )
