"""Charts of the PDF brief (matplotlib, Agg backend, the project's CJK font): PNG bytes."""

from __future__ import annotations

import io
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pipeline.fonts import cjk_font_name  # noqa: E402
from pipeline.labels import LEVEL_COLOURS, level_label  # noqa: E402

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


def _style():
    # the .ttc registers as weight 500 only: matplotlib would log a fallback warning on every text
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    plt.rcParams["font.family"] = [cjk_font_name()]
    plt.rcParams["axes.unicode_minus"] = False


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def level_distribution(levels: dict[str, tuple[int, int]]) -> bytes:
    """Grouped bars: entities per level, this week against last week."""
    _style()
    names = list(levels)
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [levels[n][1] for n in names], 0.4, label="上周", color="#BDC3C7")
    bars = ax.bar([i + 0.2 for i in x], [levels[n][0] for n in names], 0.4, label="本周",
                  color=[LEVEL_COLOURS.get(n, "#3498DB") for n in names])
    ax.bar_label(bars)
    ax.set_xticks(list(x), [level_label(n) for n in names])
    ax.set_ylabel("对象数")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("风险等级分布（周末时点）")
    ax.legend()
    return _png(fig)


def weekly_trend(daily) -> bytes:
    """Lines per weekday: risk signals and new alerts, this week against last week."""
    _style()
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    this, last = daily.iloc[7:14], daily.iloc[0:7]
    ax.plot(WEEKDAYS, last["signals"].tolist(), "--", color="#95A5A6", label="风险信号（上周）")
    ax.plot(WEEKDAYS, this["signals"].tolist(), "-o", color="#2E86C1", label="风险信号（本周）")
    ax.bar(WEEKDAYS, this["alerts"].tolist(), color="#E74C3C", alpha=0.6, label="新增预警（本周）")
    ax.set_title("本周与上周趋势对比")
    ax.set_ylabel("次数")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    return _png(fig)
