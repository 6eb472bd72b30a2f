"""Panel and dashboard definitions, and their translation into grafana-foundation-sdk builders.

A dashboard module describes its panels as `Panel` records (title, kind, SQL, the columns the SQL
returns, size, and whether the simulated week guarantees rows) and `build_dashboard` turns them into
Grafana JSON through the SDK: one place decides ids, grid positions, datasource refs and styling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from grafana_foundation_sdk.builders import barchart, piechart, stat, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import piechart as pm

from dashboards.common import DS, LEVEL_COLORS, REF_COLUMN, TAG, link_to_case, link_to_entity
from dashboards.sqlquery import RawSql
from pipeline import labels

GRID_WIDTH = 24
Kind = Literal["stat", "table", "timeseries", "barchart", "piechart", "heatmap"]

# Score thresholds of the default levels; panels showing scores colour by the configured ones
# (build_dashboard's `levels`, config/rules.yaml), these when none are given.
DEFAULT_LEVELS = (("medium", 30.0), ("high", 60.0), ("critical", 90.0))


def score_steps(levels) -> list[tuple[float | None, str]]:
    return [(None, LEVEL_COLORS["low"]), *((float(t), LEVEL_COLORS.get(n, "#8C8C8C")) for n, t in levels)]


@dataclass
class Panel:
    title: str
    kind: Kind
    sql: str
    columns: tuple[str, ...]          # result columns, in order (tests check them)
    w: int = 12
    h: int = 8
    nonempty: bool = False            # the simulated week guarantees at least one row
    unit: str | None = None
    description: str = ""
    entity_column: str | None = None  # cells of this column link to the entity drill-down (its row's hidden `ref`)
    case_column: str | None = None    # cells of this column link to the case drill-down (its row's hidden `ref`)
    level_series: bool = False        # series or columns named by level (重大, 较大, ...) get the level's colour
    level_text: bool = False          # a stat showing a level word is drawn in that level's colour
    x_field: str | None = None        # bar chart category column
    stacked: bool = False
    color: str | None = None          # fixed colour (stat)
    score_colors: bool = False        # colour by the level thresholds
    decimals: int | None = None

    @property
    def format(self) -> Literal["table", "time_series"]:
        return "time_series" if self.kind == "timeseries" else "table"


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    panels: list[Panel]
    variables: list = field(default_factory=list)  # SDK variable builders
    timezone: str = "Asia/Shanghai"


def layout(panels: list[Panel]) -> list[dm.GridPos]:
    """Left to right, wrapping at 24 columns; a row is as tall as its tallest panel."""
    out, x, y, row_h = [], 0, 0, 0
    for p in panels:
        if p.w > GRID_WIDTH:
            raise ValueError(f"panel {p.title!r} is wider than the grid")
        if x + p.w > GRID_WIDTH:
            x, y, row_h = 0, y + row_h, 0
        out.append(dm.GridPos(h=p.h, w=p.w, x=x, y=y))
        x += p.w
        row_h = max(row_h, p.h)
    return out


def _thresholds(p: Panel, levels) -> db.ThresholdsConfig:
    if p.score_colors:
        steps = [dm.Threshold(value=v, color=c) for v, c in score_steps(levels)]
    else:
        steps = [dm.Threshold(value=None, color=p.color or "#5794F2")]
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(steps)


def _legend() -> cb.VizLegendOptions:
    return cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST).placement(cm.LegendPlacement.BOTTOM).show_legend(True)


def _sdk_panel(p: Panel, levels=DEFAULT_LEVELS):
    # The SDK's panel builders share a fluent interface (title, datasource, ...) but no base type.
    b: Any
    if p.kind == "stat":
        b = (stat.Panel().reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
             .color_mode(cm.BigValueColorMode.BACKGROUND).graph_mode(cm.BigValueGraphMode.NONE)
             .text_mode(cm.BigValueTextMode.VALUE))
    elif p.kind in ("table", "heatmap"):
        # align sets fieldConfig.defaults.custom explicitly, as the SDK's model would on reading it back
        b = table.Panel().show_header(True).align(cm.FieldTextAlignment.AUTO)
        if p.kind == "heatmap":
            b = b.cell_options(cm.TableColoredBackgroundCellOptions(mode=cm.TableCellBackgroundDisplayMode.GRADIENT))
    elif p.kind == "timeseries":
        b = (timeseries.Panel().legend(_legend()).line_width(2).fill_opacity(10).show_points(cm.VisibilityMode.NEVER)
             .span_nulls(True))
    elif p.kind == "barchart":
        b = barchart.Panel().legend(_legend()).show_value(cm.VisibilityMode.AUTO).fill_opacity(80)
        if p.x_field:
            b = b.x_field(p.x_field)
        if p.stacked:
            b = b.stacking(cm.StackingMode.NORMAL)
    elif p.kind == "piechart":
        b = (piechart.Panel().pie_type(pm.PieChartType.DONUT).legend(piechart.PieChartLegendOptions().show_legend(True)
             .display_mode(cm.LegendDisplayMode.LIST).placement(cm.LegendPlacement.RIGHT).values([]))
             .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(True)))
    else:
        raise ValueError(f"unknown panel kind {p.kind!r}")
    b = b.title(p.title).datasource(DS).with_target(RawSql(p.sql).format(p.format).ref_id("A").datasource(DS))
    if p.description:
        b = b.description(p.description)
    if p.unit:
        b = b.unit(p.unit)
    if p.decimals is not None:
        b = b.decimals(p.decimals)
    if p.kind in ("stat", "heatmap") or p.score_colors or p.color:
        b = b.thresholds(_thresholds(p, levels))
    if p.kind == "heatmap" or p.score_colors:
        b = b.color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
    if p.entity_column:
        b = b.override_by_name(p.entity_column, [dm.DynamicConfigValue(id_val="links", value=[link_to_entity()])])
        b = b.override_by_name(REF_COLUMN, [dm.DynamicConfigValue(id_val="custom.hidden", value=True)])
    if p.case_column:
        b = b.override_by_name(p.case_column, [dm.DynamicConfigValue(id_val="links", value=[link_to_case()])])
        b = b.override_by_name(REF_COLUMN, [dm.DynamicConfigValue(id_val="custom.hidden", value=True)])
    if p.level_text:
        b = b.mappings([dm.ValueMap(options={labels.level_label(level): dm.ValueMappingResult(
            color=labels.level_colour(level), index=i) for i, level in enumerate(labels.LEVEL_ORDER)})])
    if p.level_series:
        for level in labels.LEVEL_ORDER:
            b = b.override_by_name(labels.level_label(level), [dm.DynamicConfigValue(
                id_val="color", value={"mode": "fixed", "fixedColor": labels.level_colour(level)})])
    return b


def build_dashboard(d: Dashboard, links: list[tuple[str, str]] | None = None, levels=DEFAULT_LEVELS) -> dict:
    """The dashboard's Grafana JSON (a dict), built with the SDK."""
    b = (
        db.Dashboard(d.title)
        .uid(d.uid)
        .description(d.description)
        .tags([TAG])
        .time("now-7d", "now")
        .timezone(d.timezone)
        .week_start("monday")
        .refresh("5m")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .readonly()
        .link(db.DashboardLink("虹都中心风险监测").type(dm.DashboardLinkType.DASHBOARDS).tags([TAG])
              .as_dropdown(True).include_vars(False).keep_time(True))
    )
    for title, uid in links or []:
        b = b.link(db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(f"/d/{uid}")
                   .include_vars(True).keep_time(True))
    for v in d.variables:
        b = b.with_variable(v)
    for i, (p, pos) in enumerate(zip(d.panels, layout(d.panels), strict=True), start=1):
        b = b.with_panel(_sdk_panel(p, levels).id(i).grid_pos(pos))
    return json.loads(JSONEncoder(sort_keys=True, ensure_ascii=False).encode(b.build()))
