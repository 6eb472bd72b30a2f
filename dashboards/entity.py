"""风险对象详情: one entity (variable `entity`, reached from the overview's links) — its score over
time, the contributions that make it up (rule, points, current worth, evidence events), the events
behind it and its alert history. Persons appear only by their pseudonymous id."""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import (
    ALERT_ACTION_ZH, ALERT_STATUS_ZH, UID_ENTITY, category_labels, label_case, leader_names, level_labels, rule_titles,
)
from dashboards.panels import Dashboard, Panel
from pipeline.configset import ConfigSet

AT_END = "entity_scores_at($__timeTo()::timestamptz)"

# Events that concern the entity: evidence of its contributions, and for persons/businesses the
# events naming them as a subject, for places the events at that place.
ENTITY_EVENTS = """evidence AS (
  SELECT DISTINCT jsonb_array_elements_text(c.events) AS event_id
  FROM contributions c WHERE c.entity = '$entity'
), concerned AS (
  SELECT ev.* FROM events ev
  WHERE ev.event_id IN (SELECT event_id FROM evidence)
     OR (split_part('$entity', ':', 1) IN ('person', 'business')
         AND ev.doc->'subjects' @> jsonb_build_array(jsonb_build_object(
               'type', split_part('$entity', ':', 1), 'id', substr('$entity', strpos('$entity', ':') + 1))))
     OR (split_part('$entity', ':', 1) = 'location'
         AND ev.location_id = substr('$entity', strpos('$entity', ':') + 1)
         AND ev.kind <> 'patrol')
)"""


def dashboard(cfg: ConfigSet) -> Dashboard:
    panels = [
        Panel("当前分值", "stat", f"""SELECT COALESCE((SELECT score::float8 FROM {AT_END} WHERE entity = '$entity'), 0) AS "分值\"""",
              ("分值",), w=4, h=5, nonempty=True, score_colors=True, decimals=1),
        Panel("当前等级", "stat", f"""SELECT COALESCE(lv.label, '低') AS "等级"
FROM (SELECT 1) one
LEFT JOIN {AT_END} s ON s.entity = '$entity'
LEFT JOIN {level_labels(cfg)} ON lv.id = s.level""", ("等级",), w=4, h=5, nonempty=True, color="#FF9830"),
        Panel("风险来源数", "stat", """SELECT count(*) AS "来源数"
FROM contributions c WHERE c.entity = '$entity' AND c.fired_at <= $__timeTo()::timestamptz""",
              ("来源数",), w=4, h=5, nonempty=True),
        Panel("对象信息", "table", f"""SELECT e.ref AS "风险对象", e.type AS "类型", COALESCE(e.building || '号楼', '—') AS "楼栋",
       e.criticality AS "重点系数"
FROM entities e WHERE e.ref = '$entity'""", ("风险对象", "类型", "楼栋", "重点系数"), w=12, h=5, nonempty=True,
              description="人员、经营主体仅以化名编号显示。"),
        Panel("分值走势", "timeseries", """SELECT t AS "time", '分值' AS metric,
       COALESCE((SELECT s.score::float8 FROM entity_scores_at(t) s WHERE s.entity = '$entity'), 0) AS value
FROM generate_series(date_trunc('hour', $__timeFrom()::timestamptz), $__timeTo()::timestamptz, interval '1 hour') AS t
ORDER BY 1""", ("time", "metric", "value"), w=24, h=8, nonempty=True),
        Panel("风险来源（规则贡献）", "table", f"""SELECT c.fired_at AS "触发时间", c.rule AS "规则", COALESCE(rt.title, c.rule) AS "规则名称",
       COALESCE(cat.label, c.category) AS "类别", round(c.points::numeric, 2) AS "计分",
       round((c.points * power(0.5::float8,
              extract(epoch FROM ($__timeTo()::timestamptz - c.fired_at)) / c.half_life_s))::numeric, 2) AS "当前价值",
       (SELECT string_agg(x, ', ') FROM jsonb_array_elements_text(c.events) AS x) AS "证据事件"
FROM contributions c
LEFT JOIN {rule_titles(cfg)} ON rt.id = c.rule
LEFT JOIN {category_labels(cfg)} ON cat.id = c.category
WHERE c.entity = '$entity' AND c.fired_at <= $__timeTo()::timestamptz
ORDER BY c.fired_at DESC""", ("触发时间", "规则", "规则名称", "类别", "计分", "当前价值", "证据事件"),
              w=24, h=9, nonempty=True,
              description="当前价值 = 计分 × 0.5^(距今时长 / 半衰期)，按时间范围末计算。"),
        Panel("事件时间线", "table", f"""WITH {ENTITY_EVENTS}
SELECT occurred_at AS "发生时间", kind || '.' || type AS "事件类型", COALESCE(location_id, '—') AS "位置",
       source AS "来源", event_id AS "事件编号", COALESCE(doc->>'text', '') AS "说明"
FROM concerned
WHERE occurred_at <= $__timeTo()::timestamptz
ORDER BY occurred_at DESC
LIMIT 200""", ("发生时间", "事件类型", "位置", "来源", "事件编号", "说明"), w=24, h=9, nonempty=True),
        Panel("预警记录", "table", f"""SELECT h.at AS "时间", {label_case("h.action", ALERT_ACTION_ZH)} AS "动作", COALESCE(lv.label, h.level) AS "等级",
       h.actor AS "操作人", COALESCE(ld.name, a.assignee) AS "包保领导", {label_case("a.status", ALERT_STATUS_ZH)} AS "当前状态"
FROM alert_history h
JOIN alerts a ON a.alert_id = h.alert_id
LEFT JOIN {level_labels(cfg)} ON lv.id = h.level
LEFT JOIN {leader_names(cfg)} ON ld.id = a.assignee
WHERE a.entity = '$entity'
ORDER BY h.at DESC, h.id DESC""", ("时间", "动作", "等级", "操作人", "包保领导", "当前状态"), w=24, h=7,
              nonempty=True, description="默认对象（时间范围末分值最高者）有预警。"),
    ]
    return Dashboard(
        uid=UID_ENTITY,
        title="风险对象详情",
        description="单个风险对象的分值构成、事件与预警处置过程",
        panels=panels,
        variables=[var.entity()],
        timezone=cfg.area.timezone,
    )
