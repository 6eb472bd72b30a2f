"""Names every dashboard shares: datasource, folder, dashboard uids, Chinese labels, SQL snippets.

Labels that come from the configuration (rule titles, leaders' posts, checkpoint names) are rendered
into the SQL as VALUES lists when the dashboards are built, so Grafana shows Chinese names without
the database having to store them; rebuild the dashboards after changing config/.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from grafana_foundation_sdk.models import dashboard

from dashboards.sqlquery import PLUGIN_ID
from pipeline import labels
from pipeline.configset import ConfigSet
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
UID_LEADERS = "riskwatch-leaders"

# Building filter value for entities without a building (persons, businesses).
NO_BUILDING = "-"
NO_BUILDING_TEXT = "未关联楼栋"

# The levels' colours (红/橙/黄/蓝, pipeline/labels.py) on every panel and in the screenshots.
LEVEL_COLORS = labels.LEVEL_COLOURS


def q(value: object) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def dq(name: str) -> str:
    """A SQL quoted identifier (a Chinese column name)."""
    return '"' + name.replace('"', '""') + '"'


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
    return values_table(alias, ("id", "label"), ((c, labels.label(labels.CATEGORIES, c)) for c in categories(cfg)))


def level_names(cfg: ConfigSet) -> list[str]:
    """low, then the configured levels in threshold order."""
    return ["low"] + [name for name, _ in cfg.rules.levels]


def level_labels(cfg: ConfigSet, alias: str = "lv") -> str:
    return values_table(alias, ("id", "label", "rank"),
                        ((n, labels.level_label(n), i) for i, n in enumerate(level_names(cfg))))


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


# The hidden column beside an entity's Chinese name that holds its ref for the drill-down link.
REF_COLUMN = "ref"


def link_to_entity(title: str = "查看风险对象详情") -> dict:
    """A data link from a cell showing an entity's name to the drill-down (the row's hidden ref column),
    keeping the time range."""
    return {
        "title": title,
        "url": f"/d/{UID_ENTITY}?var-entity=${{__data.fields.{REF_COLUMN}}}&${{__url_time_range}}",
        "targetBlank": False,
    }


def link_to_case(title: str = "查看案件处置记录") -> dict:
    """A data link from a case cell to the 包保领导 dashboard's drill-down on that case (the row's hidden
    ref column), keeping the time range and the leader selection."""
    return {
        "title": title,
        "url": f"/d/{UID_LEADERS}?var-case=${{__data.fields.{REF_COLUMN}}}&${{__url_time_range}}&${{leader:queryparam}}",
        "targetBlank": False,
    }


def hazard_category_label(column: str) -> str:
    """Chinese label of a hazard's `attributes.category` (its own vocabulary, not the rule categories)."""
    return f"COALESCE({label_case(column, labels.HAZARD_CATEGORIES)}, '其他')"


def label_case(column: str, table: Mapping[str, str]) -> str:
    """`CASE col WHEN 'a' THEN '甲' ... ELSE col END`: a code shown by its word from pipeline/labels.py."""
    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in table.items())
    return f"CASE {column} {cases} ELSE {column} END"


def event_type_label(kind: str, type_: str) -> str:
    """The Chinese name of an event's kind and type columns (烟感报警)."""
    cases = " ".join(f"WHEN {q(k + '.' + t)} THEN {q(v)}" for k, types in labels.EVENT_TYPES.items()
                     for t, v in types.items())
    return f"CASE {kind} || '.' || {type_} {cases} ELSE {kind} || '.' || {type_} END"


def _floor_sql(code: str) -> str:
    """labels.floor_label in SQL: '09' -> 9层, '01' -> 首层, 'B1' -> 地下1层."""
    return (f"CASE WHEN {code} LIKE 'B%' THEN '地下' || substr({code}, 2) || '层' WHEN {code} = '01' THEN '首层' "
            f"ELSE ltrim({code}, '0') || '层' END")


def place_label(column: str, cfg: ConfigSet, otherwise: str | None = None) -> str:
    """labels.place_name in SQL for a location id column (HD-2-09-corridor -> 2号楼9层走廊; the id when the
    id follows no known scheme, or `otherwise`). Named places (area.yaml) come first."""
    named = {}
    for sensor in cfg.area.sensors:
        if sensor.type == "fire_exit":
            named[sensor.location] = sensor.name
    named.update({cp.location: cp.name for cp in cfg.area.checkpoints if cp.location})
    c = column
    head = f"substring({c} from '^HD-([^-]+)-') || '号楼'"
    floor = f"substring({c} from '^HD-[^-]+-([0-9]{{2}}|B[0-9]+)')"
    whens = [f"WHEN {c} = {q(k)} THEN {q(v)}" for k, v in named.items()]
    whens.append(f"WHEN {c} ~ '^HD-[^-]+-[0-9]{{4}}\\Z' THEN {head} || ltrim(substring({c} from '^HD-[^-]+-([0-9]{{2}})'), '0')"
                 f" || '层' || substring({c} from '([0-9]{{4}})\\Z') || '室'")
    whens.append(f"WHEN {c} ~ '^HD-[^-]+-01-S[0-9]+\\Z' THEN {head} || '底商' || substring({c} from '(S[0-9]+)\\Z')")
    for place, word in labels.PLACES.items():
        tail = f"-{place}\\Z'"
        if place.startswith(("exit", "lobby", "door", "elevator")):
            first = "首层" if place.startswith("exit") else ""
            whens.append(f"WHEN {c} ~ '^HD-[^-]+-01{tail} THEN {head} || {q(first + word)}")
        if place in ("garage", "ebike", "pump"):
            whens.append(f"WHEN {c} ~ '^HD-[^-]+-B[0-9]+{tail} THEN {head} || {q(word)}")
        whens.append(f"WHEN {c} ~ '^HD-[^-]+-([0-9]{{2}}|B[0-9]+){tail} THEN {head} || {_floor_sql(floor)} || {q(word)}")
    return f"CASE {' '.join(whens)} ELSE {otherwise or c} END"


def entity_label(column: str, cfg: ConfigSet) -> str:
    """labels.entity_label in SQL for an entity ref column: 重点人员 P-0101, 2号楼9层走廊, 1号楼6层走廊, 2号楼."""
    c = column
    ident = f"substr({c}, strpos({c}, ':') + 1)"
    checkpoints = " ".join(f"WHEN {q(cp.id)} THEN {q(cp.name)}" for cp in cfg.area.checkpoints)
    kinds = " ".join(f"WHEN {q(k)} THEN {q(v + ' ')} || {ident}" for k, v in labels.ENTITY_KINDS.items()
                     if k not in ("location", "building"))
    return (f"CASE split_part({c}, ':', 1) "
            f"WHEN 'location' THEN {place_label(ident, cfg, q(labels.ENTITY_KINDS['location'] + ' ') + ' || ' + ident)} "
            f"WHEN 'building' THEN {ident} || '号楼' "
            f"WHEN 'checkpoint' THEN CASE {ident} {checkpoints} ELSE {q(labels.ENTITY_KINDS['checkpoint'] + ' ')} || {ident} END "
            f"{kinds} ELSE {c} END")
