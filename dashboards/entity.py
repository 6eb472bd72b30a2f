"""风险对象详情: one entity (variable `entity`, reached from the overview's links) — its score over
time, the contributions that make it up (rule, points, current worth, evidence events), the events
behind it and its alert history. Persons appear only by their pseudonymous id."""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import (
    UID_ENTITY,
    category_labels,
    entity_label,
    event_type_label,
    label_case,
    leader_names,
    level_labels,
    place_label,
    rule_titles,
)
from dashboards.panels import Dashboard, Panel
from pipeline import labels
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
        Panel("当前风险分值", "stat", f"""SELECT floor(COALESCE(
         (SELECT score::float8 FROM {AT_END} WHERE entity = '$entity'), 0))::int AS "风险分值\"""", ("风险分值",),
              w=4, h=5, nonempty=True, score_colors=True, decimals=0),
        Panel("当前等级", "stat", f"""SELECT COALESCE(lv.label, '低') AS "等级"
FROM (SELECT 1) one
LEFT JOIN {AT_END} s ON s.entity = '$entity'
LEFT JOIN {level_labels(cfg)} ON lv.id = s.level""", ("等级",), w=4, h=5, nonempty=True, color="#8AB8FF", level_text=True),
        Panel("风险来源数", "stat", """SELECT count(*) AS "来源数"
FROM contributions c WHERE c.entity = '$entity' AND c.fired_at <= $__timeTo()::timestamptz""",
              ("来源数",), w=4, h=5, nonempty=True),
        Panel("对象信息", "table", f"""SELECT {entity_label("e.ref", cfg)} AS "风险对象",
       {label_case("e.type", labels.ENTITY_KINDS)} AS "类型", COALESCE(e.building || '号楼', '—') AS "楼栋",
       e.criticality AS "重点系数"
FROM entities e WHERE e.ref = '$entity'""", ("风险对象", "类型", "楼栋", "重点系数"), w=12, h=5, nonempty=True,
              description="人员、经营主体仅以化名编号显示。"),
        Panel("风险分值走势", "timeseries", """SELECT t AS "time", '风险分值' AS metric,
       COALESCE((SELECT s.score::float8 FROM entity_scores_at(t) s WHERE s.entity = '$entity'), 0) AS value
FROM generate_series(date_trunc('hour', $__timeFrom()::timestamptz), $__timeTo()::timestamptz, interval '1 hour') AS t
ORDER BY 1""", ("time", "metric", "value"), w=24, h=8, nonempty=True),
        Panel("风险来源（规则贡献）", "table", f"""SELECT c.fired_at AS "触发时间", COALESCE(rt.title, c.rule) AS "规则",
       COALESCE(cat.label, c.category) AS "类别", round(c.points::numeric, 1) AS "计分",
       round((c.points * power(0.5::float8,
              extract(epoch FROM ($__timeTo()::timestamptz - c.fired_at)) / c.half_life_s))::numeric, 1) AS "当前分值",
       jsonb_array_length(c.events) AS "依据事件数"
FROM contributions c
LEFT JOIN {rule_titles(cfg)} ON rt.id = c.rule
LEFT JOIN {category_labels(cfg)} ON cat.id = c.category
WHERE c.entity = '$entity' AND c.fired_at <= $__timeTo()::timestamptz
ORDER BY c.fired_at DESC""", ("触发时间", "规则", "类别", "计分", "当前分值", "依据事件数"),
              w=24, h=9, nonempty=True,
              description="当前分值 = 计分 × 0.5^(距今时长 / 半衰期)，按时间范围末计算；依据事件见下方事件时间线。"),
        Panel("事件时间线", "table", f"""WITH {ENTITY_EVENTS}
SELECT occurred_at AS "发生时间", {event_type_label("kind", "type")} AS "事件类型",
       COALESCE({place_label("location_id", cfg)}, '—') AS "位置",
       {label_case("source", labels.SOURCES)} AS "来源", event_id AS "事件编号", COALESCE(doc->>'text', '') AS "说明"
FROM concerned
WHERE occurred_at <= $__timeTo()::timestamptz
ORDER BY occurred_at DESC
LIMIT 200""", ("发生时间", "事件类型", "位置", "来源", "事件编号", "说明"), w=24, h=9, nonempty=True),
        Panel("预警记录", "table", f"""SELECT h.at AS "时间", {label_case("h.action", labels.ALERT_ACTIONS)} AS "动作",
       COALESCE(lv.label, h.level) AS "等级", {label_case("h.actor", labels.SOURCES)} AS "操作人",
       COALESCE(ld.name, a.assignee) AS "包保领导", {label_case("a.status", labels.ALERT_STATES)} AS "当前状态"
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
        variables=[var.entity(cfg)],
        timezone=cfg.area.timezone,
    )
