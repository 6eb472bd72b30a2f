"""隐患排查整改: hazards found, rectified and overdue by building and category, and days to rectify
(one hazard = one `attributes.hazard_id`; see dashboards.cte.HAZARDS)."""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import UID_HAZARDS, hazard_category_label, in_building, label_case, place_label
from dashboards.cte import HAZARDS
from dashboards.panels import Dashboard, Panel
from pipeline import labels
from pipeline.configset import ConfigSet

FOUND_IN_RANGE = "$__timeFilter(found_at)"
COUNTS = """count(*) FILTER (WHERE {f}) AS "发现隐患",
       count(*) FILTER (WHERE {f} AND NOT is_open) AS "已整改",
       count(*) FILTER (WHERE is_overdue) AS "逾期未整改\"""".format(f=FOUND_IN_RANGE)


def _device_health(cfg: ConfigSet) -> list[Panel]:
    """Sensor health: device_offline events are almost half of what the sensors send; they score nothing
    until a place's devices drop out repeatedly, so the maintenance view is here."""
    offline = f"""offline AS (
  SELECT e.doc->'attributes'->>'device_id' AS device, e.location_id, e.building, e.occurred_at,
         COALESCE((e.doc->'attributes'->>'offline_minutes')::float8, 0) AS minutes
  FROM events e
  WHERE e.kind = 'monitoring' AND e.type = 'device_offline' AND $__timeFilter(e.occurred_at)
    AND {in_building('e.building')}
)"""
    kind = label_case("split_part(device, '-', 1)", labels.DEVICE_KINDS)
    return [
        Panel("离线设备数", "stat", f"""WITH {offline}
SELECT count(DISTINCT device) AS "设备数" FROM offline""", ("设备数",), w=6, h=4, nonempty=True, color="#FF9830",
              description="时间范围内报告过离线的监测设备。"),
        Panel("设备离线次数（按类型）", "barchart", f"""WITH {offline}
SELECT {kind} AS "设备类型", count(*) AS "离线次数", count(DISTINCT device) AS "设备数"
FROM offline GROUP BY 1 ORDER BY 2 DESC""", ("设备类型", "离线次数", "设备数"), w=18, h=8, x_field="设备类型"),
        Panel("监测设备离线情况（按设备）", "table", f"""WITH {offline}
SELECT device AS "设备编号", {kind} AS "设备类型", {place_label("min(location_id)", cfg)} AS "位置",
       count(*) AS "离线次数", round((sum(minutes) / 60)::numeric, 1) AS "累计离线（小时）",
       max(occurred_at) AS "最近离线时间"
FROM offline GROUP BY device ORDER BY count(*) DESC, sum(minutes) DESC, device LIMIT 100""",
              ("设备编号", "设备类型", "位置", "离线次数", "累计离线（小时）", "最近离线时间"), w=24, h=9, nonempty=True,
              description="按离线次数排序；反复离线的设备请安排检修。"),
    ]


def dashboard(cfg: ConfigSet) -> Dashboard:
    panels = [
        Panel("发现隐患", "stat", f"""WITH {HAZARDS}
SELECT count(*) AS "隐患数" FROM hz WHERE {FOUND_IN_RANGE}""", ("隐患数",), w=5, h=4, nonempty=True),
        Panel("已整改", "stat", f"""WITH {HAZARDS}
SELECT count(*) AS "隐患数" FROM hz WHERE {FOUND_IN_RANGE} AND NOT is_open""", ("隐患数",), w=5, h=4,
              nonempty=True, color="#73BF69"),
        Panel("逾期未整改", "stat", f"""WITH {HAZARDS}
SELECT count(*) AS "隐患数" FROM hz WHERE is_overdue""", ("隐患数",), w=5, h=4, nonempty=True, color="#F2495C"),
        Panel("按期整改率", "stat", f"""WITH {HAZARDS}
SELECT round(100.0 * count(*) FILTER (WHERE NOT is_open AND rectified_at <= due_at) / NULLIF(count(*), 0), 1)
       AS "按期整改率"
FROM hz
WHERE ({FOUND_IN_RANGE} AND (due_at <= $__timeTo()::timestamptz OR rectified_at IS NOT NULL)) OR is_overdue""",
              ("按期整改率",), w=5, h=4, nonempty=True, unit="percent", color="#5794F2",
              description="本期发现且已到期或已整改的隐患，连同“逾期未整改”中的每一项（计为未按期），"
                          "在整改期限内完成整改的比例。"),
        Panel("平均整改用时", "stat", f"""WITH {HAZARDS}
SELECT round((avg(extract(epoch FROM rectified_at - found_at)) / 86400)::numeric, 2) AS "天数"
FROM hz WHERE {FOUND_IN_RANGE} AND rectified_at IS NOT NULL""", ("天数",), w=4, h=4, nonempty=True, unit="d",
              color="#B877D9"),
        Panel("按楼栋统计", "barchart", f"""WITH {HAZARDS}
SELECT building || '号楼' AS "楼栋", {COUNTS}
FROM hz GROUP BY building ORDER BY building""", ("楼栋", "发现隐患", "已整改", "逾期未整改"), w=12, h=9,
              nonempty=True, x_field="楼栋"),
        Panel("按类别统计", "barchart", f"""WITH {HAZARDS}
SELECT {hazard_category_label("category")} AS "类别", {COUNTS}
FROM hz GROUP BY category ORDER BY category""", ("类别", "发现隐患", "已整改", "逾期未整改"), w=12, h=9,
              nonempty=True, x_field="类别"),
        Panel("各类别平均整改用时（天）", "barchart", f"""WITH {HAZARDS}
SELECT {hazard_category_label("category")} AS "类别",
       round((avg(extract(epoch FROM rectified_at - found_at)) / 86400)::numeric, 2) AS "平均整改用时"
FROM hz WHERE {FOUND_IN_RANGE} AND rectified_at IS NOT NULL
GROUP BY category ORDER BY category""", ("类别", "平均整改用时"), w=8, h=10, nonempty=True, x_field="类别",
              unit="d"),
        Panel("隐患整改台账", "table", f"""WITH {HAZARDS}
SELECT hazard_id AS "隐患编号", building || '号楼' AS "楼栋", {place_label("location_id", cfg)} AS "位置",
       {hazard_category_label("category")} AS "类别", found_at AS "发现时间", due_at AS "整改期限",
       rectified_at AS "整改时间",
       round((extract(epoch FROM rectified_at - found_at) / 86400)::numeric, 2) AS "整改用时（天）",
       CASE WHEN is_overdue THEN '逾期未整改' WHEN is_open THEN '整改中'
            WHEN rectified_at <= due_at THEN '按期整改' ELSE '逾期整改' END AS "状态"
FROM hz WHERE {FOUND_IN_RANGE} OR is_open
ORDER BY found_at DESC""", ("隐患编号", "楼栋", "位置", "类别", "发现时间", "整改期限", "整改时间", "整改用时（天）", "状态"),
              w=16, h=10, nonempty=True),
    ]
    panels += _device_health(cfg)
    return Dashboard(
        uid=UID_HAZARDS,
        title="隐患排查整改",
        description="隐患发现、整改与逾期情况（按楼栋、类别），以及监测设备离线情况",
        panels=panels,
        variables=[var.building()],
        timezone=cfg.area.timezone,
    )
