"""巡查覆盖: checkpoint visits against what is expected, the gaps, and coverage by shift.

Expected: every checkpoint at least once every EXPECTED_EVERY_HOURS (config/area.yaml: "Each is
expected at least every ~2 h"). A gap is an interval between two visits of one checkpoint longer than
the `within` of the checkpoint absence rule (config/rules.yaml `checkpoint-patrol-gap`, 4 h), so the
table shows exactly the stretches that rule scores. Shifts are the patrol teams': 白班 08:00–20:00,
夜班 20:00–08:00, area time.
"""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import UID_PATROL, checkpoint_names, in_building, q
from dashboards.panels import Dashboard, Panel
from pipeline.configset import ConfigSet
from pipeline.rules.absence import AbsenceRule

EXPECTED_EVERY_HOURS = 2
DEFAULT_GAP_SECONDS = 4 * 3600
DAY_SHIFT = (8, 20)  # local hours [start, end)

VISITS = """visits AS (
  SELECT e.doc->'location'->>'checkpoint' AS cp, e.building, e.occurred_at
  FROM events e
  WHERE e.kind = 'patrol' AND e.type = 'checkpoint_visit' AND $__timeFilter(e.occurred_at)
    AND e.doc->'location' ? 'checkpoint' AND """ + in_building("e.building") + """
)"""


def gap_seconds(cfg: ConfigSet) -> float:
    """`within` of the first enabled absence rule on checkpoints (what counts as a patrol gap)."""
    for rule in cfg.rules.enabled:
        if isinstance(rule.logic, AbsenceRule) and rule.target == "checkpoint":
            return float(rule.logic.within)
    return DEFAULT_GAP_SECONDS


def _shift(ts: str, tz: str) -> str:
    hour = f"extract(hour FROM {ts} AT TIME ZONE {q(tz)})"
    return f"CASE WHEN {hour} >= {DAY_SHIFT[0]} AND {hour} < {DAY_SHIFT[1]} THEN '白班' ELSE '夜班' END"


def dashboard(cfg: ConfigSet) -> Dashboard:
    tz = cfg.area.timezone
    gap = gap_seconds(cfg)
    gap_h = round(gap / 3600, 2)
    hours = "(extract(epoch FROM $__timeTo()::timestamptz - $__timeFrom()::timestamptz) / 3600)"
    slot_s = EXPECTED_EVERY_HOURS * 3600
    cps = f"""cps AS (
  SELECT cp.id, cp.name, cp.building FROM {checkpoint_names(cfg)} WHERE {in_building('cp.building')}
)"""
    gaps = """gaps AS (
  SELECT cp, occurred_at - lag(occurred_at) OVER (PARTITION BY cp ORDER BY occurred_at) AS gap,
         lag(occurred_at) OVER (PARTITION BY cp ORDER BY occurred_at) AS gap_start, occurred_at AS gap_end
  FROM visits
)"""
    # Per checkpoint: visits, the 2-hour slots with at least one visit (two teams scanning the same slot
    # count once, so completion never passes 100 %), and the longest stretch without a visit with the
    # range's edges included (a checkpoint last seen 14 hours before the end is not up to standard).
    per = f"""per AS (
  SELECT cps.id, cps.name, cps.building, count(v.cp) AS visits,
         count(DISTINCT LEAST(floor(extract(epoch FROM v.occurred_at - $__timeFrom()::timestamptz) / {slot_s}),
                              ceil({hours} / {EXPECTED_EVERY_HOURS}) - 1)) AS slots,
         min(v.occurred_at) AS first_at, max(v.occurred_at) AS last_at
  FROM cps LEFT JOIN visits v ON v.cp = cps.id
  GROUP BY cps.id, cps.name, cps.building
), longest AS (
  SELECT per.*, GREATEST(
           COALESCE((SELECT extract(epoch FROM max(g.gap)) FROM gaps g WHERE g.cp = per.id), 0),
           extract(epoch FROM COALESCE(per.first_at, $__timeTo()::timestamptz) - $__timeFrom()::timestamptz),
           extract(epoch FROM $__timeTo()::timestamptz - COALESCE(per.last_at, $__timeFrom()::timestamptz))) AS longest_s
  FROM per
)"""
    panels = [
        Panel("实际巡查次数", "stat", f"""WITH {VISITS}
SELECT count(*) AS "次数" FROM visits""", ("次数",), w=6, h=4, nonempty=True),
        Panel("应巡次数", "stat", f"""WITH {cps}
SELECT floor(count(*) * {hours} / {EXPECTED_EVERY_HOURS})::bigint AS "次数" FROM cps""", ("次数",), w=6, h=4,
              nonempty=True, color="#8AB8FF", description=f"每个点位每{EXPECTED_EVERY_HOURS}小时至少巡查一次。"),
        Panel("点位达标率", "stat", f"""WITH {VISITS}, {cps}, {gaps}, {per}
SELECT round(100.0 * count(*) FILTER (WHERE longest_s <= {gap}) / NULLIF(count(*), 0), 1) AS "达标率"
FROM longest""", ("达标率",), w=6, h=4, nonempty=True, unit="percent", color="#73BF69",
              description=f"时间范围内（含首尾）任何两次巡查间隔都不超过{gap_h:g}小时的点位比例。"),
        Panel("巡查空档", "stat", f"""WITH {VISITS}, {gaps}
SELECT count(*) AS "次数" FROM gaps WHERE gap > interval '{gap} seconds'""", ("次数",), w=6, h=4, nonempty=True,
              color="#F2495C", description=f"同一点位相邻两次巡查间隔超过{gap_h}小时。"),
        Panel("各点位巡查情况", "table", f"""WITH {VISITS}, {cps}, {gaps}, {per}
SELECT name AS "点位", building || '号楼' AS "楼栋", visits AS "实巡次数",
       ceil({hours} / {EXPECTED_EVERY_HOURS})::bigint AS "应巡时段", slots AS "已巡时段",
       round(100.0 * slots / NULLIF(ceil({hours} / {EXPECTED_EVERY_HOURS}), 0), 1) AS "完成率（%）",
       round((longest_s / 3600)::numeric, 1) AS "最长间隔（小时）",
       CASE WHEN longest_s <= {gap} THEN '达标' ELSE '未达标' END AS "是否达标"
FROM longest
ORDER BY longest_s DESC, id""",
              ("点位", "楼栋", "实巡次数", "应巡时段", "已巡时段", "完成率（%）", "最长间隔（小时）", "是否达标"), w=14, h=11,
              nonempty=True, description=f"应巡时段：每{EXPECTED_EVERY_HOURS}小时为一个时段；完成率 = 有巡查的时段 ÷ 应巡时段。"),
        Panel(f"巡查空档（超过{gap_h:g}小时）", "table", f"""WITH {VISITS}, {cps}, {gaps}
SELECT COALESCE(cps.name, g.cp) AS "点位", g.gap_start AS "空档开始", g.gap_end AS "空档结束",
       round((extract(epoch FROM g.gap) / 3600)::numeric, 1) AS "时长（小时）"
FROM gaps g LEFT JOIN cps ON cps.id = g.cp
WHERE g.gap > interval '{gap} seconds'
ORDER BY g.gap DESC""", ("点位", "空档开始", "空档结束", "时长（小时）"), w=10, h=11, nonempty=True),
        Panel("分班次巡查（实巡 / 应巡）", "barchart", f"""WITH {VISITS}, {cps}, slots AS (
  SELECT {_shift('h', tz)} AS shift, count(*) AS n_hours
  FROM generate_series($__timeFrom()::timestamptz, $__timeTo()::timestamptz - interval '1 hour', interval '1 hour') AS h
  GROUP BY 1
), per_building AS (
  SELECT building, count(*) AS n_cps FROM cps GROUP BY building
)
SELECT pb.building || '号楼 ' || s.shift AS "班次",
       (SELECT count(*) FROM visits v WHERE v.building = pb.building AND {_shift('v.occurred_at', tz)} = s.shift)
         AS "实巡次数",
       floor(pb.n_cps * s.n_hours / {EXPECTED_EVERY_HOURS}.0)::bigint AS "应巡次数"
FROM per_building pb CROSS JOIN slots s
ORDER BY pb.building, s.shift""", ("班次", "实巡次数", "应巡次数"), w=12, h=9, nonempty=True, x_field="班次"),
        Panel("每小时巡查次数", "timeseries", """SELECT $__timeGroupAlias(e.occurred_at, '1h'), e.building || '号楼' AS metric,
       count(*) AS value
FROM events e
WHERE e.kind = 'patrol' AND e.type = 'checkpoint_visit' AND $__timeFilter(e.occurred_at)
  AND COALESCE(e.building, '-') IN ($building)
GROUP BY 1, 2
ORDER BY 1""", ("time", "metric", "value"), w=12, h=9, nonempty=True),
    ]
    return Dashboard(
        uid=UID_PATROL,
        title="巡查覆盖",
        description="巡查点位实巡与应巡对比、空档与分班次覆盖情况",
        panels=panels,
        variables=[var.building()],
        timezone=tz,
    )
