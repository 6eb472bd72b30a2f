"""矛盾纠纷化解: dispute cases reported, in mediation, escalated and resolved, and time to resolution
(one case = one `attributes.case_id`; see dashboards.cte.CASES). Parties by pseudonymous id only."""

from __future__ import annotations

from dashboards import variables as var
from dashboards.common import UID_DISPUTES, q
from dashboards.cte import CASES, DISPUTE_STATUSES
from dashboards.panels import Dashboard, Panel
from pipeline.configset import ConfigSet

REPORTED_IN_RANGE = "$__timeFilter(reported_at)"
# The cases the ledger lists: reported in the range, or reported before and not yet resolved. The totals and
# the per-status counts are over the same cases, so they add up to the ledger's rows.
IN_LEDGER = f"({REPORTED_IN_RANGE} OR status <> '已化解')"
STATUS_COLORS = {"已报告": "#5794F2", "调解中": "#FADE2A", "已升级": "#F2495C", "已化解": "#73BF69"}


def _status_stat(status: str) -> Panel:
    return Panel(status, "stat", f"""WITH {CASES}
SELECT count(*) AS "纠纷数" FROM cs WHERE {IN_LEDGER} AND status = {q(status)}""", ("纠纷数",), w=4, h=4,
                 color=STATUS_COLORS[status], nonempty=status in ("调解中", "已升级", "已化解"))


def dashboard(cfg: ConfigSet) -> Dashboard:
    by_status = ",\n       ".join(f"count(*) FILTER (WHERE status = {q(s)}) AS \"{s}\"" for s in DISPUTE_STATUSES)
    panels = [
        Panel("纠纷总数", "stat", f"""WITH {CASES}
SELECT count(*) AS "纠纷数" FROM cs WHERE {IN_LEDGER}""", ("纠纷数",), w=4, h=4, nonempty=True,
              description="本期登记的纠纷，以及此前登记、至今未化解的纠纷（与下方台账行数一致）。"),
        *(_status_stat(s) for s in DISPUTE_STATUSES),
        Panel("平均化解用时", "stat", f"""WITH {CASES}
SELECT round((avg(extract(epoch FROM resolved_at - reported_at)) / 3600)::numeric, 1) AS "小时"
FROM cs WHERE {REPORTED_IN_RANGE} AND resolved_at IS NOT NULL""", ("小时",), w=4, h=4, nonempty=True, unit="h",
              color="#B877D9"),
        Panel("纠纷状态（按楼栋）", "barchart", f"""WITH {CASES}
SELECT COALESCE(building || '号楼', '未关联楼栋') AS "楼栋",
       {by_status}
FROM cs WHERE {IN_LEDGER}
GROUP BY building ORDER BY building""", ("楼栋", *DISPUTE_STATUSES), w=12, h=9, nonempty=True, x_field="楼栋",
              stacked=True),
        Panel("纠纷报告与化解（每日）", "timeseries", """SELECT $__timeGroupAlias(e.occurred_at, '1d'),
       CASE e.type WHEN 'reported' THEN '报告' ELSE '化解' END AS metric, count(*) AS value
FROM events e
WHERE e.kind = 'dispute' AND e.type IN ('reported', 'resolved') AND $__timeFilter(e.occurred_at)
  AND COALESCE(e.building, '-') IN ($building)
GROUP BY 1, 2
ORDER BY 1""", ("time", "metric", "value"), w=12, h=9, nonempty=True),
        Panel("纠纷案件台账", "table", f"""WITH {CASES}
SELECT case_id AS "案件编号", COALESCE(building || '号楼', '—') AS "楼栋", parties AS "当事人（化名编号）",
       status AS "状态", reported_at AS "报告时间", resolved_at AS "化解时间",
       round((extract(epoch FROM resolved_at - reported_at) / 3600)::numeric, 1) AS "化解用时（小时）"
FROM cs WHERE {IN_LEDGER}
ORDER BY reported_at DESC""", ("案件编号", "楼栋", "当事人（化名编号）", "状态", "报告时间", "化解时间", "化解用时（小时）"),
              w=16, h=9, nonempty=True),
        Panel("化解用时（小时）", "barchart", f"""WITH {CASES}
SELECT case_id AS "案件编号", round((extract(epoch FROM resolved_at - reported_at) / 3600)::numeric, 1) AS "化解用时"
FROM cs WHERE {REPORTED_IN_RANGE} AND resolved_at IS NOT NULL
ORDER BY case_id""", ("案件编号", "化解用时"), w=8, h=9, nonempty=True, x_field="案件编号", unit="h"),
    ]
    return Dashboard(
        uid=UID_DISPUTES,
        title="矛盾纠纷化解",
        description="矛盾纠纷摸排、调解、升级与化解情况",
        panels=panels,
        variables=[var.building()],
        timezone=cfg.area.timezone,
    )
