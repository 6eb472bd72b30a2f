"""The yearly statistics as a short Chinese report section (docx), ready to paste into the street's
法治政府建设情况报告: a heading, the paragraph the report states, and a table of every figure."""

from __future__ import annotations

from pathlib import Path

from pipeline.exports.annual import FIGURES, report_paragraph

TITLE = "法治建设主要数据"


def write_annual_docx(figures: dict, path: Path, area: str = "虹都中心", street: str = "西于庄街道",
                      tz_name: str = "Asia/Shanghai") -> Path:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading(f"{street}{figures['year']}年{TITLE}（{area}重点地区）", level=1)
    doc.add_paragraph(report_paragraph(figures))
    doc.add_heading("统计口径与数据", level=2)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("指标", "数值", "单位")):
        cell.text = text
    for key, (wording, unit) in FIGURES.items():
        row = table.add_row().cells
        row[0].text, row[1].text, row[2].text = wording, str(figures[key]), unit
    doc.add_paragraph(
        f"数据来源：riskwatch 事件库，统计区间为{figures['year']}年1月1日0时至12月31日24时"
        f"（{'北京时间' if tz_name == 'Asia/Shanghai' else tz_name}），"
        "按事件发生时间计。"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path
