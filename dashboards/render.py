"""Screenshots without a Grafana server: each dashboard's panels drawn with matplotlib from the rows
their SQL returns (dashboards.queryrun), at their grid positions, in Grafana's dark theme colours.

Panel types map to: stat → big number on its colour, table → text grid, heat-map table → coloured
cells, timeseries → lines per `metric`, barchart → grouped/stacked bars, piechart → donut. Chinese text
uses the machine's CJK font (pipeline.fonts; `make install` installs fonts-wqy-zenhei).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
# WenQuanYi Zen Hei has one weight (500); matplotlib would log a fallback notice for every bold title.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import dates as mdates  # noqa: E402

from dashboards.queryrun import PanelResult, panels_of  # noqa: E402
from pipeline.fonts import cjk_font_name  # noqa: E402

BG, PANEL_BG, BORDER, TEXT, MUTED = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#8e8e9a"
PALETTE = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0", "#37872D", "#FADE2A"]
UNIT_W, UNIT_H, TITLE_H = 0.68, 0.34, 0.55  # inches per grid column / grid row; title band


def _num(v):
    if isinstance(v, Decimal):
        return float(v)
    return v


def _cell(v, tz: ZoneInfo) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.astimezone(tz).strftime("%m-%d %H:%M")
    if isinstance(v, (float, Decimal)):
        f = float(v)
        return f"{f:.0f}" if f.is_integer() else f"{f:.2f}".rstrip("0").rstrip(".")
    text = str(v)
    return text if len(text) <= 28 else text[:27] + "…"


def _steps(panel: dict) -> list[tuple[float | None, str]]:
    steps = (((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}).get("steps") or []
    return [(s.get("value"), s.get("color", PALETTE[0])) for s in steps] or [(None, PALETTE[5])]


def _threshold_color(panel: dict, value) -> str:
    color = _steps(panel)[0][1]
    for threshold, c in _steps(panel):
        if threshold is None or (isinstance(value, (int, float)) and value >= threshold):
            color = c
    return color


def _mapped_color(panel: dict, value) -> str | None:
    """The colour a value mapping gives a text value (a level word), if any."""
    for m in ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("mappings") or []:
        result = (m.get("options") or {}).get(str(value))
        if isinstance(result, dict) and result.get("color"):
            return result["color"]
    return None


def _stat(ax, panel: dict, res: PanelResult, tz: ZoneInfo) -> None:
    value = _num(res.rows[0][0]) if res.rows else None
    mapped = _mapped_color(panel, value)
    ax.set_facecolor(mapped or (_threshold_color(panel, value) if value is not None else PANEL_BG))
    unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit") or ""
    suffix = {"percent": "%", "h": " 小时", "d": " 天", "m": " 分钟"}.get(unit, "")
    text = "无数据" if value is None else _cell(value, tz) + suffix
    ax.text(0.5, 0.45, text, ha="center", va="center", fontsize=26 if value is not None else 14,
            color="#ffffff", weight="bold", transform=ax.transAxes)


def _table(ax, panel: dict, res: PanelResult, tz: ZoneInfo, height_in: float) -> None:
    ax.set_facecolor(PANEL_BG)
    if not res.rows:
        ax.text(0.5, 0.5, "无数据", ha="center", va="center", color=MUTED, transform=ax.transAxes)
        return
    row_in = 0.25
    max_rows = max(1, int(height_in / row_in) - 2)
    hidden = _override(panel, "custom.hidden")
    keep = [i for i, name in enumerate(res.columns) if not hidden.get(name)]
    res = dataclasses.replace(res, columns=[res.columns[i] for i in keep], rows=[tuple(r[i] for i in keep) for r in res.rows])
    rows = res.rows[:max_rows]
    n_cols = len(res.columns)
    widths = [max(len(_cell(r[i], tz)) for r in rows + [tuple(res.columns)]) + 2 for i in range(n_cols)]
    total = sum(widths)
    xs = [sum(widths[:i]) / total for i in range(n_cols)]
    line = row_in / height_in
    for i, name in enumerate(res.columns):
        ax.text(xs[i] + 0.005, 1 - line * 0.8, name, color="#6e9fff", fontsize=8, weight="bold",
                va="center", transform=ax.transAxes)
    link_col = _link_column(panel)
    for r, row in enumerate(rows):
        y = 1 - line * (r + 1.8)
        if r % 2 == 0:
            ax.add_patch(plt.Rectangle((0, y - line / 2), 1, line, color="#1f2227", transform=ax.transAxes))
        for i, v in enumerate(row):
            color = "#6e9fff" if res.columns[i] == link_col else TEXT
            if res.columns[i] in ("分值", "等级") and isinstance(_num(v), (int, float)):
                color = _threshold_color(panel, _num(v))
            ax.text(xs[i] + 0.005, y, _cell(v, tz), color=color, fontsize=7.5, va="center", transform=ax.transAxes)
    if len(res.rows) > len(rows):
        ax.text(0.995, 0.01, f"共 {len(res.rows)} 行", color=MUTED, fontsize=7, ha="right", transform=ax.transAxes)


def _override(panel: dict, prop: str) -> dict[str, object]:
    """{field name: value} of one override property (links, custom.hidden, color)."""
    out: dict[str, object] = {}
    for o in ((panel.get("fieldConfig") or {}).get("overrides") or []):
        for p in o.get("properties") or []:
            if p.get("id") == prop:
                out[str((o.get("matcher") or {}).get("options"))] = p.get("value")
    return out


def _series_colour(panel: dict, name: str, i: int) -> str:
    colour = _override(panel, "color").get(name)
    return colour["fixedColor"] if isinstance(colour, dict) else PALETTE[i % len(PALETTE)]


def _link_column(panel: dict) -> str | None:
    for o in ((panel.get("fieldConfig") or {}).get("overrides") or []):
        if any(p.get("id") == "links" for p in o.get("properties") or []):
            return (o.get("matcher") or {}).get("options")
    return None


def _ink(background: str) -> str:
    """Dark text on light cells (yellow, orange), white on dark ones (blue, red)."""
    r, g, b = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    return "#111217" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def _heatmap(ax, panel: dict, res: PanelResult, tz: ZoneInfo) -> None:
    ax.set_facecolor(PANEL_BG)
    labels = [str(r[0]) for r in res.rows]
    n_cols = len(res.columns) - 1
    for r, row in enumerate(res.rows):
        for c in range(n_cols):
            v = _num(row[c + 1])
            color = PANEL_BG if v is None else (_threshold_color(panel, v) if v > 0 else "#22252b")
            ax.add_patch(plt.Rectangle((c, len(res.rows) - r - 1), 0.96, 0.92, color=color))
            if v:
                ax.text(c + 0.48, len(res.rows) - r - 0.55, _cell(v, tz), ha="center", va="center", fontsize=6.5,
                        color=_ink(color))
    ax.set_xlim(0, n_cols)
    ax.set_ylim(0, len(res.rows))
    ax.set_xticks([c + 0.48 for c in range(n_cols)], res.columns[1:], color=TEXT, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([len(res.rows) - r - 0.55 for r in range(len(res.rows))], labels, color=TEXT, fontsize=6.5)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)


def _axes_style(ax) -> None:
    ax.set_facecolor(PANEL_BG)
    ax.tick_params(colors=MUTED, labelsize=7)
    for s in ax.spines.values():
        s.set_color(BORDER)
    ax.grid(color="#2c3235", linewidth=0.5)


def _timeseries(ax, panel: dict, res: PanelResult, tz: ZoneInfo) -> None:
    _axes_style(ax)
    series: dict[str, tuple[list, list]] = {}
    for t, metric, value in res.rows:
        when = t if isinstance(t, dt.datetime) else dt.datetime.fromtimestamp(float(t), dt.UTC)
        xs, ys = series.setdefault(str(metric), ([], []))
        xs.append(when.astimezone(tz))
        ys.append(_num(value))
    for i, (name, (xs, ys)) in enumerate(sorted(series.items())):
        ax.plot(xs, ys, color=_series_colour(panel, name, i), linewidth=1.6, label=name,
                marker="o" if len(xs) < 30 else None, markersize=3)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=tz))
    if series:
        ax.legend(loc="upper left", fontsize=7, frameon=False, labelcolor=TEXT, ncol=min(3, len(series)))


def _barchart(ax, panel: dict, res: PanelResult, tz: ZoneInfo) -> None:
    _axes_style(ax)
    stacked = (panel.get("options") or {}).get("stacking") == "normal"
    labels = [str(r[0]) for r in res.rows]
    names = res.columns[1:]
    n = max(1, len(names))
    width = 0.8 if stacked else 0.8 / n
    bottoms = [0.0] * len(labels)
    for i, name in enumerate(names):
        values = [_num(r[i + 1]) or 0 for r in res.rows]
        xs = list(range(len(labels))) if stacked else [x - 0.4 + width * (i + 0.5) for x in range(len(labels))]
        ax.bar(xs, values, width=width, bottom=bottoms if stacked else None, color=_series_colour(panel, name, i),
               label=name)
        if stacked:
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=0 if len(labels) < 12 else 30)
    ax.yaxis.get_major_locator().set_params(integer=True)      # counts
    if len(names) > 1:
        ax.legend(loc="upper right", fontsize=7, frameon=False, labelcolor=TEXT, ncol=min(4, len(names)))


def _piechart(ax, panel: dict, res: PanelResult, tz: ZoneInfo) -> None:
    ax.set_facecolor(PANEL_BG)
    values = [_num(r[1]) or 0 for r in res.rows]
    if not sum(values):
        ax.text(0.5, 0.5, "无数据", ha="center", va="center", color=MUTED, transform=ax.transAxes)
        ax.axis("off")
        return
    labels = [f"{r[0]} {_cell(r[1], tz)}" for r in res.rows]
    ax.pie(values, colors=PALETTE[: len(values)], wedgeprops={"width": 0.4, "edgecolor": PANEL_BG}, startangle=90)
    ax.legend(labels, loc="upper center", fontsize=9, frameon=False, labelcolor=TEXT, ncol=2,
              bbox_to_anchor=(0.5, 1.02))
    ax.axis("equal")


def render_dashboard(dash: dict, results: list[PanelResult], out: Path, tz: str, subtitle: str = "", dpi: int = 110) -> Path:
    """Draw one dashboard to `out` (PNG); `results` from queryrun.run_dashboard for the same JSON."""
    zone = ZoneInfo(tz)
    plt.rcParams["font.family"] = [cjk_font_name()]
    plt.rcParams["axes.unicode_minus"] = False
    by_id = {r.panel_id: r for r in results}
    panels = [p for p in panels_of(dash) if p.get("gridPos")]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    width_in, height_in = 24 * UNIT_W, rows * UNIT_H + 0.8
    fig = plt.figure(figsize=(width_in, height_in), facecolor=BG)
    fig.text(0.006, 1 - 0.35 / height_in, f"{dash.get('title', '')}", color="#ffffff", fontsize=15, weight="bold", va="center")
    if subtitle:
        fig.text(0.994, 1 - 0.35 / height_in, subtitle, color=MUTED, fontsize=9, ha="right", va="center")
    top = 0.8
    for p in panels:
        g = p["gridPos"]
        x0, y0 = g["x"] * UNIT_W + 0.05, top + g["y"] * UNIT_H + 0.05
        w, h = g["w"] * UNIT_W - 0.1, g["h"] * UNIT_H - 0.1
        frame = fig.add_axes((x0 / width_in, 1 - (y0 + h) / height_in, w / width_in, h / height_in))
        frame.set_facecolor(PANEL_BG)
        frame.set_xticks([])
        frame.set_yticks([])
        for s in frame.spines.values():
            s.set_color(BORDER)
        frame.text(0.012, 1 - (TITLE_H / 2) / h, p.get("title", ""), color=TEXT, fontsize=9.5, weight="bold",
                   va="center", transform=frame.transAxes)
        res = by_id.get(p["id"])
        if res is None:
            continue
        pad_l = 0.45 if p["type"] in ("timeseries", "barchart") or _is_heatmap(p) else 0.08
        pad_b = 0.3 if p["type"] in ("timeseries", "barchart") else 0.06
        inner = fig.add_axes(((x0 + pad_l) / width_in, 1 - (y0 + h - pad_b) / height_in,
                              (w - pad_l - 0.1) / width_in, (h - TITLE_H - pad_b - (0.2 if _is_heatmap(p) else 0)) / height_in))
        if p["type"] == "stat":
            _stat(inner, p, res, zone)
        elif _is_heatmap(p):
            _heatmap(inner, p, res, zone)
        elif p["type"] == "table":
            _table(inner, p, res, zone, h - TITLE_H)
        elif p["type"] == "timeseries":
            _timeseries(inner, p, res, zone)
        elif p["type"] == "barchart":
            _barchart(inner, p, res, zone)
        elif p["type"] == "piechart":
            _piechart(inner, p, res, zone)
        if p["type"] in ("stat", "table", "piechart") and not _is_heatmap(p):
            inner.set_xticks([])
            inner.set_yticks([])
            for s in inner.spines.values():
                s.set_visible(False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor=BG)
    plt.close(fig)
    return out


def _is_heatmap(panel: dict) -> bool:
    cell = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("custom", {}).get("cellOptions") or {}
    return panel.get("type") == "table" and cell.get("type") == "color-background"
