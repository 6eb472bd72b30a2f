"""The weekly meeting brief as PDF (reportlab, the project's CJK TrueType font embedded):
page 1 the summary and key figures, then the charts (level distribution, trend against last week)
and the top entities with the reasons behind their scores."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline.exports import charts
from pipeline.exports.review import WeeklyReview
from pipeline.fonts import cjk_font
from pipeline.labels import LEVELS as LEVELS_ZH
from pipeline.labels import score_text

FONT = "RiskwatchCJK"
TOP_N = 10


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        path, index = cjk_font()
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=index))


def summary_sentences(review: WeeklyReview) -> list[str]:
    f = review.figures
    lv = review.levels
    hz = review.sheet("隐患整改").frame
    overdue = int((hz["状态"] == "逾期未整改").sum()) if len(hz) else 0
    alerts = review.sheet("新增预警及响应").frame
    pending = int((alerts["当前状态"] == "待确认").sum()) if len(alerts) else 0
    return [
        f"本周共接收事件{f['事件总数'][0]}条（上周{f['事件总数'][1]}条），规则命中风险信号{f['风险信号（规则命中）'][0]}次"
        f"（上周{f['风险信号（规则命中）'][1]}次）。",
        f"新增预警{f['新增预警'][0]}起（上周{f['新增预警'][1]}起），其中仍待确认{pending}起。",
        f"周末时点重点风险对象（一般及以上）{f['重点风险对象（一般及以上）'][0]}个："
        + "、".join(f"{LEVELS_ZH[n]}{lv.get(n, (0, 0))[0]}个" for n in ("critical", "high", "medium")) + "。",
        f"本周发现隐患{f['发现隐患'][0]}项、完成整改{f['完成整改'][0]}项，当前逾期未整改{overdue}项；"
        f"新增矛盾纠纷{f['新增矛盾纠纷'][0]}件、化解{f['化解矛盾纠纷'][0]}件。",
        f"巡查{f['巡查次数'][0]}次，出动{f['出动巡查人次'][0]}人次，检查点打卡{f['检查点打卡'][0]}次。",
    ]


class PdfBriefExporter:
    suffix = "pdf"

    def write(self, review: WeeklyReview, path: Path) -> None:
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        _register_font()
        base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
        title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=1)
        h2 = ParagraphStyle("h2", parent=base, fontSize=13, leading=20, spaceBefore=8, spaceAfter=4)
        small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=12)
        grid = TableStyle([
            ("FONT", (0, 0), (-1, -1), FONT, 9), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ])
        p = review.period
        story = [
            Paragraph(escape(f"{review.area}风险研判周报"), title),
            Paragraph(escape(f"{p.label}（{p.local_range_zh()}）  生成时间："
                             f"{review.generated_at.astimezone(p.tz):%Y-%m-%d %H:%M}"), base),
            Spacer(1, 4 * mm),
            Paragraph("一、本周概况", h2),
            *[Paragraph(escape(s), base) for s in summary_sentences(review)],
            Spacer(1, 3 * mm),
            Paragraph("主要指标", h2),
        ]
        rows = [["指标", "本周", "上周", "变化"]] + [
            [k, _num(c), _num(pv), f"{c - pv:+g}"] for k, (c, pv) in review.figures.items()]
        story.append(Table(rows, colWidths=[70 * mm, 28 * mm, 28 * mm, 28 * mm], style=grid, repeatRows=1))
        story += [PageBreak(), Paragraph("二、风险等级分布", h2),
                  Image(io.BytesIO(charts.level_distribution(review.levels)), width=150 * mm, height=86 * mm),
                  Paragraph("三、本周与上周趋势对比", h2),
                  Image(io.BytesIO(charts.weekly_trend(review.daily)), width=150 * mm, height=86 * mm),
                  PageBreak(), Paragraph("四、重点风险对象及成因", h2)]
        key = review.sheet("重点风险对象").frame.head(TOP_N)
        if key.empty:
            story.append(Paragraph("本周无一般及以上等级的风险对象。", base))
        else:
            head = ["排名", "对象", "等级", "风险分值", "上周", "主要原因"]
            data = [head] + [[str(r["排名"]), Paragraph(escape(self._who(r, review)), small),
                              r["等级"], score_text(r["分值"]), score_text(r["上周分值"]),
                              Paragraph(escape(r["主要原因"]), small)]
                             for _, r in key.iterrows()]
            story.append(Table(data, colWidths=[11 * mm, 42 * mm, 12 * mm, 16 * mm, 16 * mm, 75 * mm],
                               style=grid, repeatRows=1))
        story += [Spacer(1, 4 * mm), Paragraph(escape(
            "说明：风险分值为各条计分按半衰期衰减后的当前值之和；等级阈值 " + "，".join(
                f"{LEVELS_ZH.get(n, n)}≥{t:g}" for n, t in review.thresholds) + "。人员以化名编号显示"
            + ("；本报告含经授权查询的身份信息，查询已记入审计日志，请勿外传。" if review.revealed else "。")), small)]
        doc = SimpleDocTemplate(str(path), pagesize=A4, title=f"{review.area}风险研判周报 {p.label}",
                                author="riskwatch", leftMargin=18 * mm, rightMargin=18 * mm,
                                topMargin=16 * mm, bottomMargin=16 * mm)
        doc.build(story)

    @staticmethod
    def _who(row, review: WeeklyReview) -> str:
        name = row.get("姓名") if review.revealed else None
        return f"{row['对象']}（{name}）" if name else row["对象"]


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
