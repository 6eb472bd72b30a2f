"""预警响应: alerts by level, time to acknowledge per assigned leader (包保领导), escalations and
notification failures — read from `alerts` and its append-only `alert_history` (docs/contract.md §5).

What the alert workflow (pipeline/alerting, pipeline/notify) records and these panels read:
- acknowledgement: alert_history action `acknowledged` (the first one counts), `at` its time;
- escalation: alert_history action `escalated`, the leader escalated to in `detail.to`;
- notification failure: a row of the notification log `notifications` with status `failed`
  (recipient leader, channel, attempts, last_error).
A leader's acknowledgement is late when it comes after the level's `ack_timeout` (config/assignments.yaml).
"""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import (
    REF_COLUMN,
    UID_ALERTS,
    dq,
    entity_label,
    in_building,
    label_case,
    leader_names,
    level_labels,
    level_names,
    q,
    rule_titles,
    values_table,
)
from dashboards.overview import PENDING_ALERTS
from dashboards.panels import Dashboard, Panel
from pipeline import labels
from pipeline.configset import ConfigSet

# Alerts raised in the time range that pass the building, level and category filters.
SELECTED = f"""selected AS (
  SELECT a.* FROM alerts a LEFT JOIN entities e ON e.ref = a.entity
  WHERE $__timeFilter(a.raised_at) AND {in_building('e.building')} AND a.level IN ($level)
    AND EXISTS (SELECT 1 FROM contributions c WHERE c.entity = a.entity AND c.category IN ($category))
)"""


def _ack_timeouts(cfg: ConfigSet) -> str:
    return values_table("ato", ("level", "seconds"), ((k, v) for k, v in cfg.assignments.ack_timeout.items()))


def _ack_description(cfg: ConfigSet) -> str:
    timeouts = sorted(cfg.assignments.ack_timeout.items(), key=lambda kv: kv[1])
    limits = "、".join(f"{labels.level_label(level)}{labels.duration_text(s)}" for level, s in timeouts)
    return f"超时：确认晚于该等级的确认时限（{limits}），或至今未确认。"


def dashboard(cfg: ConfigSet) -> Dashboard:
    alert_levels = [n for n in reversed(level_names(cfg)) if n != "low"]
    acks = f"""{SELECTED}, acks AS (
  SELECT s.alert_id, s.assignee, s.level, s.raised_at,
         (SELECT min(h.at) FROM alert_history h WHERE h.alert_id = s.alert_id AND h.action = 'acknowledged') AS ack_at
  FROM selected s
)"""
    panels = [
        Panel("预警总数", "stat", f"WITH {SELECTED}\nSELECT count(*) AS \"预警数\" FROM selected", ("预警数",),
              w=5, h=4, nonempty=True),
        Panel("待确认", "stat", PENDING_ALERTS,
              ("预警数",), w=5, h=4, nonempty=True, color="#FF9830"),
        Panel("平均确认用时", "stat", f"""WITH {acks}
SELECT round((avg(extract(epoch FROM ack_at - raised_at)) / 60)::numeric, 1) AS "分钟" FROM acks WHERE ack_at IS NOT NULL""",
              ("分钟",), w=5, h=4, unit="m", color="#5794F2"),
        Panel("逐级上报", "stat", f"""WITH {SELECTED}
SELECT count(*) AS "次数" FROM alert_history h JOIN selected s ON s.alert_id = h.alert_id WHERE h.action = 'escalated'""",
              ("次数",), w=5, h=4, color="#F2495C"),
        Panel("通知失败", "stat", f"""WITH {SELECTED}
SELECT count(*) AS "次数" FROM notifications n JOIN selected s ON s.alert_id = n.alert_id WHERE n.status = 'failed'""",
              ("次数",), w=4, h=4, color="#F2495C"),
        # one series per level, so each bar has its level's colour (a single series drew 较大 and 重大 alike)
        Panel("预警数量（按等级）", "barchart", f"""WITH {SELECTED}
SELECT '预警' AS "预警",
       {", ".join(f"count(*) FILTER (WHERE s.level = {q(n)}) AS {dq(labels.level_label(n))}" for n in alert_levels)}
FROM selected s""", ("预警", *(labels.level_label(n) for n in alert_levels)), w=8, h=9, nonempty=True,
              x_field="预警", level_series=True),
        Panel("包保领导确认用时", "table", f"""WITH {acks}
SELECT COALESCE(ld.name, a.assignee, '未分配') AS "包保领导", count(*) AS "预警数",
       count(a.ack_at) AS "已确认", count(*) - count(a.ack_at) AS "未确认",
       round((avg(extract(epoch FROM a.ack_at - a.raised_at)) / 60)::numeric, 1) AS "平均确认用时（分钟）",
       count(*) FILTER (WHERE extract(epoch FROM COALESCE(a.ack_at, $__timeTo()::timestamptz) - a.raised_at)
                              > ato.seconds::float8) AS "超时"
FROM acks a
LEFT JOIN {leader_names(cfg)} ON ld.id = a.assignee
LEFT JOIN {_ack_timeouts(cfg)} ON ato.level = a.level
GROUP BY 1 ORDER BY 1""", ("包保领导", "预警数", "已确认", "未确认", "平均确认用时（分钟）", "超时"), w=16, h=9,
              nonempty=True, description=_ack_description(cfg)),
        Panel("预警明细", "table", f"""WITH {SELECTED}
SELECT s.raised_at AS "触发时间", s.entity AS {REF_COLUMN}, {entity_label("s.entity", cfg)} AS "风险对象",
       lv.label AS "等级", {label_case("s.status", labels.ALERT_STATES)} AS "状态",
       COALESCE(ld.name, s.assignee) AS "包保领导",
       (SELECT string_agg(COALESCE(rt.title, r), '、') FROM jsonb_array_elements_text(s.rules) AS r
          LEFT JOIN {rule_titles(cfg)} ON rt.id = r) AS "触发规则",
       floor(s.score)::int AS "风险分值"
FROM selected s
LEFT JOIN {level_labels(cfg)} ON lv.id = s.level
LEFT JOIN {leader_names(cfg)} ON ld.id = s.assignee
ORDER BY s.raised_at DESC""", ("触发时间", REF_COLUMN, "风险对象", "等级", "状态", "包保领导", "触发规则", "风险分值"),
              w=24, h=8,
              nonempty=True, entity_column="风险对象"),
        Panel("逐级上报记录", "table", f"""WITH {SELECTED}
SELECT h.at AS "上报时间", s.entity AS {REF_COLUMN}, {entity_label("s.entity", cfg)} AS "风险对象",
       COALESCE(lv.label, h.level) AS "等级",
       COALESCE(ld.name, s.assignee) AS "原包保领导",
       COALESCE(ld2.name, h.detail->>'to', '') AS "上报至"
FROM alert_history h
JOIN selected s ON s.alert_id = h.alert_id
LEFT JOIN {level_labels(cfg)} ON lv.id = h.level
LEFT JOIN {leader_names(cfg)} ON ld.id = s.assignee
LEFT JOIN {leader_names(cfg, "ld2")} ON ld2.id = h.detail->>'to'
WHERE h.action = 'escalated'
ORDER BY h.at DESC""", ("上报时间", REF_COLUMN, "风险对象", "等级", "原包保领导", "上报至"), w=12, h=8,
              entity_column="风险对象"),
        Panel("通知失败记录", "table", f"""WITH {SELECTED}
SELECT n.created_at AS "通知时间", s.entity AS {REF_COLUMN}, {entity_label("s.entity", cfg)} AS "风险对象",
       {label_case("n.kind", labels.NOTICE_KINDS)} AS "通知类型",
       COALESCE(ld.name, n.leader_id) AS "接收人", {label_case("n.channel", labels.CHANNEL_TYPES)} AS "渠道",
       n.attempts AS "尝试次数",
       COALESCE(n.last_error, '') AS "原因"
FROM notifications n
JOIN selected s ON s.alert_id = n.alert_id
LEFT JOIN {leader_names(cfg)} ON ld.id = n.leader_id
WHERE n.status = 'failed'
ORDER BY n.created_at DESC""", ("通知时间", REF_COLUMN, "风险对象", "通知类型", "接收人", "渠道", "尝试次数", "原因"),
              w=12, h=8,
              entity_column="风险对象"),
    ]
    return Dashboard(
        uid=UID_ALERTS,
        title="预警响应",
        description="预警分级、包保领导确认时效、逐级上报与通知失败",
        panels=panels,
        variables=[var.building(), var.category(cfg), var.level(cfg)],
        timezone=cfg.area.timezone,
    )
