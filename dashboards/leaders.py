"""包保领导: each leader's open and overdue cases (hazards, disputes, alerts, 一人一案), all time, with a
drill-down to one case: its notes, 转办 and closing (who and when) and the meeting's decisions on it.

Reads the `cases` table the storage writer keeps current (pipeline/cases, docs/contract.md §8) and the
columns of `case_actions` and `decisions` the Grafana role may read (never their free text). "Open" and
"overdue" are judged at the end of the time range; the time range does not limit which cases count.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.common import DS, REF_COLUMN, UID_LEADERS, entity_label, label_case, leader_names, place_label, q
from dashboards.panels import Dashboard, Panel
from pipeline import labels
from pipeline.configset import ConfigSet

AT = "$__timeTo()::timestamptz"
OVERDUE = (f"(c.is_open AND c.due IS NOT NULL AND c.due < {AT} "
           f"AND NOT (c.kind = 'hazard' AND c.state <> 'open'))")
DAYS = f"CASE WHEN {OVERDUE} THEN floor(extract(epoch FROM {AT} - c.due) / 86400)::int ELSE 0 END"
MINE = "c.owner IN ($leader)"


def _title(cfg: ConfigSet) -> str:
    """What a case is about: the hazard or dispute number, else the entity's Chinese name."""
    return f"CASE WHEN c.kind IN ('hazard', 'dispute') THEN split_part(c.ref, ':', 2) ELSE {entity_label('c.entity', cfg)} END"


def _leader_variable(cfg: ConfigSet) -> db.CustomVariable:
    leaders = cfg.assignments.leaders
    options = [dm.VariableOption(selected=False, text=f"{lid} {v.name}", value=lid) for lid, v in leaders.items()]
    return (
        db.CustomVariable("leader")
        .label("包保领导")
        .values(",".join(f"{lid} {v.name} : {lid}" for lid, v in leaders.items()))
        .options([dm.VariableOption(selected=True, text="All", value="$__all"), *options])
        .multi(True)
        .include_all(True)
        .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
    )


def case_sql(cfg: ConfigSet) -> str:
    """The drill-down's cases, most overdue first (the default is the first)."""
    return f"""SELECT c.ref AS __value,
       {label_case('c.kind', labels.CASE_KINDS)} || ' ' || {_title(cfg)} AS __text
FROM cases c
WHERE c.is_open
ORDER BY c.due NULLS LAST, c.opened_at, c.ref"""


def _case_variable(cfg: ConfigSet) -> db.QueryVariable:
    return (
        db.QueryVariable("case")
        .label("案件")
        .datasource(DS)
        .query(case_sql(cfg))
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dm.VariableSort.DISABLED)
    )


def dashboard(cfg: ConfigSet) -> Dashboard:
    leader = "COALESCE(ld.id || ' ' || ld.name, c.owner)"
    counts = ", ".join(f"count(*) FILTER (WHERE c.kind = {q(k)}) AS \"{v}\"" for k, v in labels.CASE_KINDS.items())
    kind_cols = tuple(labels.CASE_KINDS.values())
    panels = [
        Panel("在办案件", "stat", f"SELECT count(*) AS \"案件数\" FROM cases c WHERE c.is_open AND {MINE}",
              ("案件数",), w=6, h=4, nonempty=True, color="#5794F2"),
        Panel("逾期未办结", "stat", f"SELECT count(*) AS \"案件数\" FROM cases c WHERE {OVERDUE} AND {MINE}",
              ("案件数",), w=6, h=4, color="#F2495C"),
        Panel("一人一案在办", "stat",
              f"SELECT count(*) AS \"案件数\" FROM cases c WHERE c.is_open AND c.kind = 'person' AND {MINE}",
              ("案件数",), w=6, h=4, color="#B877D9"),
        Panel("待落实研判意见", "stat",
              "SELECT count(*) AS \"意见数\" FROM decisions d WHERE d.done_at IS NULL AND d.owner IN ($leader)",
              ("意见数",), w=6, h=4, color="#FF9830"),
        Panel("各包保领导在办与逾期", "barchart", f"""SELECT {leader} AS "包保领导",
       count(*) AS "在办", count(*) FILTER (WHERE {OVERDUE}) AS "逾期"
FROM cases c LEFT JOIN {leader_names(cfg)} ON ld.id = c.owner
WHERE c.is_open AND {MINE}
GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1""", ("包保领导", "在办", "逾期"), w=10, h=9, nonempty=True,
              x_field="包保领导"),
        Panel("包保领导案件统计", "table", f"""SELECT {leader} AS "包保领导",
       count(*) AS "在办", count(*) FILTER (WHERE {OVERDUE}) AS "逾期", {counts},
       max({DAYS}) AS "最长逾期天数"
FROM cases c LEFT JOIN {leader_names(cfg)} ON ld.id = c.owner
WHERE c.is_open AND {MINE}
GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1""", ("包保领导", "在办", "逾期", *kind_cols, "最长逾期天数"), w=14, h=9,
              nonempty=True, description="在办：未办结（隐患未验收、纠纷未化解、预警未解除或关闭、一人一案未销案）；"
              "逾期：已过整改期限（预警为确认时限）仍未办结，已整改待复查的隐患不计。"),
        Panel("在办案件清单", "table", f"""SELECT c.ref AS {REF_COLUMN}, {_title(cfg)} AS "案件",
       {label_case('c.kind', labels.CASE_KINDS)} AS "类型",
       CASE WHEN c.kind = 'alert' THEN {label_case('c.state', labels.ALERT_STATES)}
            ELSE {label_case('c.state', labels.CASE_STATES)} END AS "状态",
       COALESCE(c.building || '号楼', '—') AS "楼栋", {place_label('c.location_id', cfg, "'—'")} AS "地点",
       {leader} AS "包保领导", c.opened_at AS "立案时间", c.due AS "整改期限", {DAYS} AS "逾期天数",
       c.last_action_at AS "最近处置时间"
FROM cases c LEFT JOIN {leader_names(cfg)} ON ld.id = c.owner
WHERE c.is_open AND {MINE}
ORDER BY 10 DESC, c.opened_at, c.ref""", (REF_COLUMN, "案件", "类型", "状态", "楼栋", "地点", "包保领导", "立案时间",
                                          "整改期限", "逾期天数", "最近处置时间"), w=24, h=10, nonempty=True,
              case_column="案件", description="点击案件查看其处置记录与研判意见（下方）。人员仅以化名编号显示。"),
        Panel("案件处置记录", "table", f"""SELECT a.at AS "时间",
       CASE WHEN a.action = 'note' THEN {label_case('a.note_kind', labels.NOTE_KINDS)}
            ELSE {label_case('a.action', labels.CASE_ACTIONS)} END AS "事项",
       {label_case("a.actor", labels.SOURCES)} AS "人员", COALESCE(ld.id || ' ' || ld.name, a.owner, '') AS "转办至"
FROM case_actions a LEFT JOIN {leader_names(cfg)} ON ld.id = a.owner
WHERE a.ref = '$case'
UNION ALL
SELECT h.at, {label_case('h.action', labels.ALERT_ACTIONS)}, {label_case('h.actor', labels.SOURCES)}, ''
FROM alert_history h
WHERE '$case' = 'alert:' || h.alert_id AND h.action NOT IN ('notified')
ORDER BY 1""", ("时间", "事项", "人员", "转办至"), w=12, h=8,
              description="所选案件的批注、转办、办结及预警处置，含人员与时间；批注正文请在分析工作台查看。"),
        Panel("案件研判意见", "table", f"""SELECT d.id AS "编号", d.week AS "会议周次",
       COALESCE(ld.id || ' ' || ld.name, d.owner) AS "责任人",
       d.due AS "时限",
       CASE WHEN d.done_at IS NOT NULL THEN {q(labels.DECISION_STATES['done'])}
            WHEN d.due < ({AT} AT TIME ZONE {q(cfg.area.timezone)})::date THEN {q(labels.DECISION_STATES['overdue'])}
            ELSE {q(labels.DECISION_STATES['open'])} END AS "状态",
       d.done_at AS "落实时间"
FROM decisions d LEFT JOIN {leader_names(cfg)} ON ld.id = d.owner
WHERE d.case_ref = '$case'
ORDER BY d.id""", ("编号", "会议周次", "责任人", "时限", "状态", "落实时间"), w=12, h=8),
    ]
    return Dashboard(
        uid=UID_LEADERS,
        title="包保领导",
        description="包保领导在办、逾期案件（一人一案），所有时间立案的案件均计入；点击案件查看处置记录",
        panels=panels,
        variables=[_leader_variable(cfg), _case_variable(cfg)],
        timezone=cfg.area.timezone,
    )
