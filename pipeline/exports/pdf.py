"""The weekly meeting brief as PDF: what the 研判会 projects (reportlab, the project's CJK font embedded).

Page 1 本周概况 (the week in sentences and the main figures), then 逾期未办结 (every overdue case,
whenever opened), then each 包保领导's open cases, the week's new and closed cases with their close
reasons, the decisions due and their 落实情况, what leaders recorded; then the risk charts and the
key entities with the reasons behind their scores.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from pipeline.exports import charts
from pipeline.exports.casework import Casework
from pipeline.exports.review import WeeklyReview
from pipeline.fonts import cjk_font
from pipeline.labels import LEVELS as LEVELS_ZH
from pipeline.labels import score_text, time_text

FONT = "RiskwatchCJK"
TOP_N = 10
MAX_RECORDS = 60


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        path, index = cjk_font()
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=index))


def case_sentences(cw: Casework) -> list[str]:
    """The cases in sentences: open work of every week, not only this one's."""
    brief, cases = cw.brief, cw.open_cases
    kinds = cases["类型"].value_counts()
    by_kind = "、".join(f"{k}{n}件" for k, n in kinds.items())
    pending = [c for c in brief["open_cases"] if c["kind"] == "alert" and c["state"] == "open"]
    older = sum(1 for c in pending if c["ref"] not in brief["new"])
    decisions = cw.decisions
    done = int((decisions["落实状态"] == "已落实").sum()) if len(decisions) else 0
    late = int((decisions["落实状态"] == "逾期未落实").sum()) if len(decisions) else 0
    return [
        f"截至周日24时在办案件{len(cases)}件" + (f"（{by_kind}）" if by_kind else "")
        + f"，其中逾期未办结{len(cw.overdue)}件；本周新增{len(brief['new'])}件、办结{len(brief['closed'])}件。",
        f"未办结预警中仍待确认{len(pending)}起（其中以前各周产生{older}起）。",
        f"本次会议须核查研判意见{len(decisions)}条：已落实{done}条，逾期未落实{late}条。",
    ]


def summary_sentences(review: WeeklyReview) -> list[str]:
    f = review.figures
    lv = review.levels
    hz = review.sheet("隐患整改").frame
    overdue = int((hz["状态"] == "逾期未整改").sum()) if len(hz) else 0
    out = case_sentences(review.casework) if review.casework is not None else []
    return out + [
        f"本周共接收事件{f['事件总数'][0]}条（上周{f['事件总数'][1]}条），规则命中风险信号{f['风险信号（规则命中）'][0]}次"
        f"（上周{f['风险信号（规则命中）'][1]}次）；新增预警{f['新增预警'][0]}起（上周{f['新增预警'][1]}起）。",
        f"周末时点重点风险对象（一般及以上）{f['重点风险对象（一般及以上）'][0]}个："
        + "、".join(f"{LEVELS_ZH[n]}{lv.get(n, (0, 0))[0]}个" for n in ("critical", "high", "medium")) + "。",
        f"本周发现隐患{f['发现隐患'][0]}项、完成整改{f['完成整改'][0]}项，当前逾期未整改{overdue}项；"
        f"新增矛盾纠纷{f['新增矛盾纠纷'][0]}件、化解{f['化解矛盾纠纷'][0]}件。",
        f"巡查{f['巡查次数'][0]}次，出动{f['出动巡查人次'][0]}人次，检查点打卡{f['检查点打卡'][0]}次。",
    ]


def _when(value, with_time: bool = True) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value.month}月{value.day}日" + (f" {value:%H:%M}" if with_time else "")


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
        h2 = ParagraphStyle("h2", parent=base, fontSize=13, leading=20, spaceBefore=8, spaceAfter=4, keepWithNext=1)
        h3 = ParagraphStyle("h3", parent=base, fontSize=11, leading=17, spaceBefore=6, spaceAfter=2, keepWithNext=1)
        small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=12)
        grid = TableStyle([
            ("FONT", (0, 0), (-1, -1), FONT, 8.5), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ])

        def para(text) -> Paragraph:
            return Paragraph(escape(str(text)), small)

        def table(head: list[str], rows: list[list], widths: list[float], empty: str) -> list:
            if not rows:
                return [Paragraph(escape(empty), base)]
            data = [head] + [[para(v) if isinstance(v, str) and len(v) > 6 else v for v in r] for r in rows]
            return [Table(data, colWidths=[w * mm for w in widths], style=grid, repeatRows=1)]

        def case_rows(frame: pd.DataFrame, leader: bool) -> list[list]:
            return [[r["对象"], r["类型"], r["地点"] or r["楼栋"] or "—", *([r["包保领导"]] if leader else []),
                     r["状态"], _when(r["整改期限"]) or "—", str(r["逾期天数"]) if r["逾期天数"] else "",
                     r["最近处置情况"]] for _, r in frame.iterrows()]

        p = review.period
        cw = review.casework
        story = [
            Paragraph(escape(f"{review.area}风险研判周报"), title),
            Paragraph(escape(f"{p.week_zh()}　生成时间：{time_text(review.generated_at, p.tz, year=True)}（北京时间）"),
                      base),
            Spacer(1, 3 * mm),
            Paragraph("一、本周概况", h2),
            *[Paragraph(escape(s), base) for s in summary_sentences(review)],
            Spacer(1, 2 * mm),
        ]
        rows = [["指标", "本周", "上周", "变化"]] + [
            [k, _num(c), _num(pv), f"{c - pv:+g}"] for k, (c, pv) in review.figures.items()]
        story.append(Table(rows, colWidths=[70 * mm, 28 * mm, 28 * mm, 28 * mm], style=grid, repeatRows=1))
        if cw is not None:
            overdue_head = ["对象", "类型", "地点", "包保领导", "状态", "整改期限", "逾期\n天数", "最近处置情况"]
            story += [PageBreak(), Paragraph("二、逾期未办结", h2),
                      *table(overdue_head, case_rows(cw.overdue, leader=True), [28, 15, 27, 26, 18, 27, 11, 30],
                             "无逾期未办结案件。"),
                      PageBreak(), Paragraph("三、包保领导在办案件", h2)]
            for name, frame in cw.open_cases.groupby("包保领导", sort=True):
                late = int((frame["逾期天数"] > 0).sum())
                story.append(Paragraph(escape(f"{name}：在办{len(frame)}件，逾期{late}件"), h3))
                story += table(["对象", "类型", "地点", "状态", "整改期限", "逾期\n天数", "最近处置情况"],
                               case_rows(frame, leader=False), [28, 15, 30, 20, 27, 11, 51], "")
            if cw.open_cases.empty:
                story.append(Paragraph("无在办案件。", base))
            story += [Paragraph("四、本周新增及办结", h2),
                      *table(["变动", "对象", "类型", "地点", "包保领导", "时间", "状态或办结原因"],
                             [[r["变动"], r["对象"], r["类型"], r["地点"] or r["楼栋"] or "—", r["包保领导"],
                               _when(r["时间"]), r["状态或办结原因"]] for _, r in cw.changes.iterrows()],
                             [12, 28, 16, 28, 26, 24, 48], "本周无新增、办结案件。"),
                      Paragraph("五、研判意见落实情况", h2),
                      *table(["编号", "案件", "研判意见", "责任人", "时限", "状态", "落实情况"],
                             [[str(r["编号"]), r["案件编号"], r["研判意见"], r["责任人"], r["时限"], r["落实状态"],
                               r["落实情况"] or ""] for _, r in cw.decisions.iterrows()],
                             [10, 28, 44, 24, 18, 18, 32], "本周无到期或新作出的研判意见。"),
                      Paragraph("六、处置记录（领导批注、转办、办结及关闭理由）", h2),
                      *table(["时间", "案件", "事项", "人员", "内容"],
                             [[_when(r["时间"]), r["案件编号"], r["事项"], r["人员"], r["内容"]]
                              for _, r in cw.records.tail(MAX_RECORDS).iterrows()],
                             [22, 34, 20, 24, 74], "本周无处置记录。")]
        story += [PageBreak(), Paragraph("七、风险等级分布", h2),
                  Image(io.BytesIO(charts.level_distribution(review.levels)), width=150 * mm, height=86 * mm),
                  Paragraph("八、本周与上周趋势对比", h2),
                  Image(io.BytesIO(charts.weekly_trend(review.daily)), width=150 * mm, height=86 * mm),
                  PageBreak(), Paragraph("九、重点风险对象及成因", h2)]
        key = review.sheet("重点风险对象").frame.head(TOP_N)
        if key.empty:
            story.append(Paragraph("本周无一般及以上等级的风险对象。", base))
        else:
            head = ["排名", "对象", "等级", "风险分值", "上周", "主要原因"]
            data = [head] + [[str(r["排名"]), Paragraph(escape(self._who(r, review)), small),
                              r["等级"], score_text(r["风险分值"]), score_text(r["上周分值"]),
                              Paragraph(escape(r["主要原因"]), small)]
                             for _, r in key.iterrows()]
            story.append(Table(data, colWidths=[11 * mm, 42 * mm, 12 * mm, 16 * mm, 16 * mm, 75 * mm],
                               style=grid, repeatRows=1))
        story += [Spacer(1, 4 * mm), Paragraph(escape(
            "说明：逾期天数为整改期限（预警为确认时限）至周日24时的整日数；风险分值为各条计分按半衰期衰减后的当前值之和；"
            "等级阈值 " + "，".join(f"{LEVELS_ZH.get(n, n)}≥{t:g}" for n, t in review.thresholds)
            + "。人员以化名编号显示"
            + ("；本报告含经授权查询的身份信息，查询已记入审计日志，请勿外传。" if review.revealed else "。")), small)]
        doc = SimpleDocTemplate(str(path), pagesize=A4, title=f"{review.area}风险研判周报 {p.label}",
                                author="riskwatch", leftMargin=14 * mm, rightMargin=14 * mm,
                                topMargin=14 * mm, bottomMargin=14 * mm)
        doc.build(story)

    @staticmethod
    def _who(row, review: WeeklyReview) -> str:
        name = row.get("姓名") if review.revealed else None
        return f"{row['对象']}（{name}）" if name else row["对象"]


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
