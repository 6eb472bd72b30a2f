"""The yearly statistics as a Chinese report section in official style (党政机关公文格式, GB/T 9704), as docx
and as PDF, ready to paste into (or print beside) the street's 法治政府建设情况报告: A4, the standard
margins, a centred title, body paragraphs indented two characters, numbered headings, a table of every
figure, and page numbers "— 1 —".

Fonts are named as offices have them (方正小标宋简体 title, 黑体 headings, 仿宋_GB2312 body); Word falls back
when one is missing. The PDF embeds the project's CJK font (pipeline.fonts) for all text.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.exports.annual import EXTRA, FIGURES, report_paragraphs

TITLE = "法治建设主要数据"
# GB/T 9704: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; body 3号 (16 pt) at 28 pt lines.
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TITLE_PT, BODY_PT, TABLE_PT, LINE_PT = 22, 16, 12, 28
FONT_TITLE, FONT_HEADING, FONT_BODY = "方正小标宋简体", "黑体", "仿宋_GB2312"
NUMERALS = "一二三四五六七八九十"


# The table's order: each of the report's additional figures beside the contract figure it goes with.
ORDER = ("disputes_found", "disputes_resolved", "petitions_received", "petitions_replied", "online_cases",
         "units_inspected", "hazards_found", "hazards_rectified", "hazards_rectified_on_time", "patrol_personnel",
         "patrol_vehicles", "patrol_roads", "patrol_communities", "warnings_issued", "penalties", "penalty_amount_yuan",
         "publicity_sessions", "publicity_audience", "tasks_published", "tasks_completed")


def title_of(figures: dict, area: str, street: str) -> str:
    return f"{street}{figures['year']}年{TITLE}"


def subtitle_of(area: str) -> str:
    return f"（{area}重点地区）"


def rows_of(figures: dict) -> list[tuple[str, str, str]]:
    """(指标, 数值, 单位) for every figure, the report's additional ones beside the contract's."""
    words = {**FIGURES, **EXTRA}
    return [(words[key][0], str(figures[key]), words[key][1]) for key in ORDER if key in figures]


def source_note(figures: dict, tz_name: str) -> str:
    zone = "北京时间" if tz_name == "Asia/Shanghai" else tz_name
    return (f"数据来源：riskwatch 事件库（含导入的各类台账），统计区间为{figures['year']}年1月1日0时至12月31日24时"
            f"（{zone}），按事件发生时间计。")


def write_annual_docx(figures: dict, path: Path, area: str = "虹都中心", street: str = "西于庄街道",
                      tz_name: str = "Asia/Shanghai") -> Path:
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])

    def font(run, name: str, size: float, bold: bool = False) -> None:
        run.font.name = name
        run.font.size = Pt(size)
        run.font.bold = bold
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)

    def paragraph(text: str, name: str = FONT_BODY, size: float = BODY_PT, indent: bool = True,
                  align=WD_ALIGN_PARAGRAPH.JUSTIFY):
        p = doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT)
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.first_line_indent = Pt(2 * size) if indent else None
        p.alignment = align
        font(p.add_run(text), name, size)
        return p

    paragraph(title_of(figures, area, street), FONT_TITLE, TITLE_PT, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(subtitle_of(area), "楷体_GB2312", BODY_PT, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph("", indent=False)
    paragraph(f"{NUMERALS[0]}、主要工作数据", FONT_HEADING)
    for text in report_paragraphs(figures):
        paragraph(text)
    paragraph(f"{NUMERALS[1]}、统计口径与数据", FONT_HEADING)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in [("指标", "数值", "单位"), *rows_of(figures)]:
        cells = table.rows[0].cells if row[0] == "指标" else table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run(text)
            font(run, FONT_HEADING if row[0] == "指标" else FONT_BODY, TABLE_PT)
    paragraph(source_note(figures, tz_name), size=14)

    # page number "— N —" centred in the footer (a PAGE field)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    font(footer.add_run("— "), "宋体", 14)
    run = footer.add_run()
    font(run, "宋体", 14)
    for tag in ("begin", "PAGE", "end"):
        if tag == "PAGE":
            el = OxmlElement("w:instrText")
            el.text = tag
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        run._element.append(el)
    font(footer.add_run(" —"), "宋体", 14)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def write_annual_pdf(figures: dict, path: Path, area: str = "虹都中心", street: str = "西于庄街道",
                     tz_name: str = "Asia/Shanghai") -> Path:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from pipeline.fonts import cjk_font

    name = "RiskwatchCJK"
    if name not in pdfmetrics.getRegisteredFontNames():
        font_path, index = cjk_font()
        pdfmetrics.registerFont(TTFont(name, str(font_path), subfontIndex=index))
    title = ParagraphStyle("title", fontName=name, fontSize=TITLE_PT, leading=TITLE_PT * 1.6, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", fontName=name, fontSize=BODY_PT, leading=LINE_PT, firstLineIndent=2 * BODY_PT)
    body = ParagraphStyle("body", fontName=name, fontSize=BODY_PT, leading=LINE_PT, firstLineIndent=2 * BODY_PT,
                          alignment=TA_JUSTIFY, wordWrap="CJK")
    note = ParagraphStyle("note", parent=body, fontSize=12, leading=20)
    cell = ParagraphStyle("cell", fontName=name, fontSize=TABLE_PT, leading=TABLE_PT * 1.4, wordWrap="CJK")

    def page_number(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(name, 14)
        canvas.drawCentredString(A4[0] / 2, MARGINS_MM["bottom"] * mm / 2, f"— {doc.page} —")
        canvas.restoreState()

    subtitle = ParagraphStyle("subtitle", fontName=name, fontSize=BODY_PT, leading=LINE_PT, alignment=TA_CENTER)
    story = [Paragraph(title_of(figures, area, street), title), Paragraph(subtitle_of(area), subtitle),
             Spacer(1, LINE_PT),
             Paragraph(f"{NUMERALS[0]}、主要工作数据", heading)]
    story += [Paragraph(text, body) for text in report_paragraphs(figures)]
    story += [Paragraph(f"{NUMERALS[1]}、统计口径与数据", heading), Spacer(1, 4)]
    data = [[Paragraph(text, cell) for text in row] for row in [("指标", "数值", "单位"), *rows_of(figures)]]
    width = A4[0] - (MARGINS_MM["left"] + MARGINS_MM["right"]) * mm
    story.append(Table(data, colWidths=[width * 0.55, width * 0.25, width * 0.2], repeatRows=1, style=TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE"))])))
    story += [Spacer(1, 8), Paragraph(source_note(figures, tz_name), note)]
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title_of(figures, area, street), author=street,
                            topMargin=MARGINS_MM["top"] * mm, bottomMargin=MARGINS_MM["bottom"] * mm,
                            leftMargin=MARGINS_MM["left"] * mm, rightMargin=MARGINS_MM["right"] * mm)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return path
