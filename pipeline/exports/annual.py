"""Yearly rule-of-law statistics (docs/contract.md §7), computed from the stored events of one year in the area's
time zone. Every figure is defined by docs/contract.md §7; `FIGURES` pairs each key with its report wording.

Only events of the year count (docs/contract.md §7: "from the stored events of that year"): a case reported in
December and resolved in January is found in the first year and resolved in neither.
A hazard is rectified on time when a `hazard.rectified` of the same hazard_id occurred at or before
the `due_at` of its first `hazard.found` of the year; a found event without a readable due_at cannot be
on time. Numeric attributes that are missing or not numbers add nothing to the sums.

Beyond the contract's keys (which stay exactly as §7 names them), `EXTRA` holds figures the report also
states, under new keys: hazards rectified in total (a found hazard of the year with any rectification in
the year), 责令限期整改 notices (`enforcement.warning_issued`), the publicity sessions' audience (sum of
`attributes.audience`, what the 普法宣传台账 import writes for 参与人数), petitions received and replied.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pipeline.exports.period import year as year_period
from pipeline.exports.sqlhelp import aware_utc, utc_param
from pipeline.labels import percent_text
from pipeline.storage.models import Event
from pipeline.timeutil import parse_time

EVENTS = Event.__table__

# key -> (report wording, unit) in the order the report states them.
FIGURES: dict[str, tuple[str, str]] = {
    "disputes_found": ("摸排矛盾纠纷", "件"),
    "disputes_resolved": ("化解矛盾纠纷", "件"),
    "online_cases": ("线上平台收件", "件"),
    "units_inspected": ("排查生产经营单位", "家次"),
    "hazards_found": ("发现事故隐患", "项"),
    "hazards_rectified_on_time": ("按期完成整改", "项"),
    "patrol_personnel": ("出动执法人员", "人次"),
    "patrol_vehicles": ("执法车辆", "车次"),
    "patrol_roads": ("巡查道路", "条次"),
    "patrol_communities": ("巡查社区", "个次"),
    "penalties": ("行政处罚", "起"),
    "penalty_amount_yuan": ("处罚金额", "元"),
    "publicity_sessions": ("宣讲相关法律法规", "次"),
    "tasks_published": ("发布公示任务", "条"),
    "tasks_completed": ("完成公示任务", "条"),
}
# New keys (not in docs/contract.md §7): key -> (report wording, unit).
EXTRA: dict[str, tuple[str, str]] = {
    "hazards_rectified": ("完成隐患整改", "项"),
    "warnings_issued": ("责令限期整改", "份"),
    "publicity_audience": ("普法宣传受众", "人次"),
    "petitions_received": ("受理信访件", "件"),
    "petitions_replied": ("答复信访件", "件"),
}

_NEEDED = [
    ("dispute", "reported"), ("dispute", "resolved"), ("petition", "received"), ("inspection", "unit_inspected"),
    ("hazard", "found"), ("hazard", "rectified"), ("patrol", "patrol_finished"), ("enforcement", "penalty_issued"),
    ("outreach", "publicity_session"), ("inspection", "task_published"), ("inspection", "task_completed"),
    ("enforcement", "warning_issued"), ("petition", "replied"),
]
_PATROL_SUMS = {"patrol_personnel": "personnel", "patrol_vehicles": "vehicles", "patrol_roads": "roads",
                "patrol_communities": "communities"}


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return value


def _whole(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 2)


def annual_figures(bind: sa.Engine | sa.Connection, y: int, tz: ZoneInfo | str = "Asia/Shanghai") -> dict:
    """The docs/contract.md §7 object for year `y`: `year` plus every key of FIGURES."""
    period = year_period(y, tz)
    query = (
        sa.select(EVENTS.c.kind, EVENTS.c.type, EVENTS.c.occurred_at, EVENTS.c.doc)
        .where(sa.tuple_(EVENTS.c.kind, EVENTS.c.type).in_(_NEEDED),
               EVENTS.c.occurred_at >= utc_param(period.start), EVENTS.c.occurred_at < utc_param(period.end))
    )
    if isinstance(bind, sa.Connection):
        rows = bind.execute(query).all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    return figures_from_rows(y, ((r.kind, r.type, aware_utc(r.occurred_at), r.doc) for r in rows))


def figures_from_rows(y: int, rows) -> dict:
    """docs/contract.md §7 over (kind, type, occurred_at, doc) rows already limited to the year."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    sums: dict[str, float] = defaultdict(float)
    reported: set[str] = set()
    resolved: set[str] = set()
    found: dict[str, tuple[datetime, datetime | None]] = {}     # hazard_id -> (first found at, its due_at)
    rectified: dict[str, list[datetime]] = defaultdict(list)
    online = 0
    for kind, type_, at, doc in rows:
        attrs = (doc or {}).get("attributes") or {}
        counts[(kind, type_)] += 1
        if kind == "dispute":
            case = attrs.get("case_id")
            if case is not None:
                (reported if type_ == "reported" else resolved).add(str(case))
        elif kind == "petition":
            online += type_ == "received" and attrs.get("channel") == "online"
        elif kind == "hazard":
            hid = attrs.get("hazard_id")
            if hid is None:
                continue
            hid = str(hid)
            if type_ == "found":
                if hid not in found or at < found[hid][0]:
                    found[hid] = (at, _due(attrs.get("due_at")))
            else:
                rectified[hid].append(at)
        elif kind == "patrol":
            for key, attr in _PATROL_SUMS.items():
                sums[key] += _number(attrs.get(attr))
        elif kind == "enforcement" and type_ == "penalty_issued":
            sums["penalty_amount_yuan"] += _number(attrs.get("amount_yuan"))
        elif kind == "outreach":
            sums["publicity_audience"] += _number(attrs.get("audience"))
    on_time = sum(
        1 for hid, (_, due) in found.items()
        if due is not None and any(t <= due for t in rectified.get(hid, ()))
    )
    return {
        "year": y,
        "disputes_found": len(reported),
        "disputes_resolved": len(reported & resolved),
        "online_cases": online,
        "units_inspected": counts[("inspection", "unit_inspected")],
        "hazards_found": len(found),
        "hazards_rectified_on_time": on_time,
        **{key: _whole(sums[key]) for key in _PATROL_SUMS},
        "penalties": counts[("enforcement", "penalty_issued")],
        "penalty_amount_yuan": _whole(sums["penalty_amount_yuan"]),
        "publicity_sessions": counts[("outreach", "publicity_session")],
        "tasks_published": counts[("inspection", "task_published")],
        "tasks_completed": counts[("inspection", "task_completed")],
        "hazards_rectified": sum(1 for hid in found if rectified.get(hid)),
        "warnings_issued": counts[("enforcement", "warning_issued")],
        "publicity_audience": _whole(sums["publicity_audience"]),
        "petitions_received": counts[("petition", "received")],
        "petitions_replied": counts[("petition", "replied")],
    }


def is_empty(figures: dict) -> bool:
    """No figure of the year is above zero: the database holds nothing of that year."""
    return not any(value for key, value in figures.items() if key != "year")


def _due(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return aware_utc(parse_time(value))
    except ValueError:
        return None


def _pct(part: int, whole: int) -> str:
    return percent_text(part, whole)


def report_paragraphs(f: dict) -> list[str]:
    """The figures as the report states them (法治政府建设情况报告): disputes and petitions, safety
    inspection and hazards, enforcement patrols (执法: the law-enforcement staff and vehicles sent out; 巡查:
    the roads and communities patrolled), penalties and notices, publicity and public tasks."""
    resolved = ("均已化解" if f["disputes_resolved"] == f["disputes_found"]
                else f"已化解{f['disputes_resolved']}件（化解率{_pct(f['disputes_resolved'], f['disputes_found'])}）")
    return [
        f"{f['year']}年，全年摸排矛盾纠纷{f['disputes_found']}件，{resolved}；受理信访件{f['petitions_received']}件，"
        f"已答复{f['petitions_replied']}件，其中线上平台收件{f['online_cases']}件。",
        f"排查生产经营单位{f['units_inspected']}家次，发现事故隐患{f['hazards_found']}项，"
        f"完成整改{f['hazards_rectified']}项（整改率{_pct(f['hazards_rectified'], f['hazards_found'])}），"
        f"其中按期完成整改{f['hazards_rectified_on_time']}项"
        f"（按期整改率{_pct(f['hazards_rectified_on_time'], f['hazards_found'])}）。",
        f"开展执法巡查，出动执法人员{f['patrol_personnel']}人次、执法车辆{f['patrol_vehicles']}车次，"
        f"巡查道路{f['patrol_roads']}条次、巡查社区{f['patrol_communities']}个次；"
        f"下达责令限期整改通知书{f['warnings_issued']}份，"
        f"作出行政处罚{f['penalties']}起，处罚金额{f['penalty_amount_yuan']}元。",
        f"宣讲相关法律法规{f['publicity_sessions']}次，受众{f['publicity_audience']}人次；"
        f"发布公示任务{f['tasks_published']}条，完成{f['tasks_completed']}条，"
        f"完成率{_pct(f['tasks_completed'], f['tasks_published'])}。",
    ]


def report_paragraph(f: dict) -> str:
    return "".join(report_paragraphs(f))
