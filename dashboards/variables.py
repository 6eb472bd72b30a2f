"""Template variables: building, category, level (multi-value with All) and the drill-down's entity.

Query variables run on the PostgreSQL datasource and return `__value`/`__text` columns (Grafana's
convention for SQL variables), so options carry an id for the SQL and a Chinese label for people.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.common import DS, NO_BUILDING, NO_BUILDING_TEXT, category_labels, entity_label, level_names
from pipeline.configset import ConfigSet
from pipeline.labels import level_label

ALL = dm.VariableOption(selected=True, text=["All"], value=["$__all"])

BUILDING_SQL = f"""SELECT b AS __value,
       CASE WHEN b = '{NO_BUILDING}' THEN '{NO_BUILDING_TEXT}' ELSE b || '号楼' END AS __text
FROM (SELECT COALESCE(building, '{NO_BUILDING}') AS b FROM entities
      UNION SELECT building FROM events WHERE building IS NOT NULL) AS s
ORDER BY b"""



def entity_sql(cfg: ConfigSet) -> str:
    """Entities by their score at the end of the time range, highest first (the default is the top one),
    shown by their Chinese names."""
    return f"""SELECT e.ref AS __value, {entity_label("e.ref", cfg)} AS __text
FROM entities e
LEFT JOIN entity_scores_at($__timeTo()::timestamptz) s ON s.entity = e.ref
ORDER BY s.score DESC NULLS LAST, e.ref"""


def building() -> db.QueryVariable:
    return (
        db.QueryVariable("building")
        .label("楼栋")
        .datasource(DS)
        .query(BUILDING_SQL)
        .multi(True)
        .include_all(True)
        .current(ALL)
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dm.VariableSort.DISABLED)
    )


def category_sql(cfg: ConfigSet) -> str:
    return f"SELECT cat.id AS __value, cat.label AS __text FROM {category_labels(cfg)}"


def category(cfg: ConfigSet) -> db.QueryVariable:
    return (
        db.QueryVariable("category")
        .label("风险类别")
        .datasource(DS)
        .query(category_sql(cfg))
        .multi(True)
        .include_all(True)
        .current(ALL)
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dm.VariableSort.DISABLED)
    )


def level(cfg: ConfigSet) -> db.CustomVariable:
    names = level_names(cfg)
    options = [dm.VariableOption(selected=False, text=level_label(n), value=n) for n in names]
    return (
        db.CustomVariable("level")
        .label("风险等级")
        .values(",".join(f"{level_label(n)} : {n}" for n in names))
        .options([dm.VariableOption(selected=True, text="All", value="$__all"), *options])
        .multi(True)
        .include_all(True)
        .current(ALL)
    )


def entity(cfg: ConfigSet) -> db.QueryVariable:
    return (
        db.QueryVariable("entity")
        .label("风险对象")
        .datasource(DS)
        .query(entity_sql(cfg))
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.DISABLED)
    )

