"""The annual section beyond the contract's keys: hazards rectified in total beside the on-time count,
责令限期整改 notices, the publicity audience (attributes.audience, as the 普法宣传台账 import writes it),
petitions received and replied; the PDF on A4 says them; a year without data is refused in Chinese."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.exports.annual import figures_from_rows, report_paragraph

CST = timezone(timedelta(hours=8))


def _rows():
    at = datetime(2024, 3, 1, 9, tzinfo=CST)
    due = (at + timedelta(days=3)).isoformat()
    return [
        ("hazard", "found", at, {"attributes": {"hazard_id": "H1", "due_at": due}}),
        ("hazard", "rectified", at + timedelta(days=1), {"attributes": {"hazard_id": "H1"}}),
        ("hazard", "found", at, {"attributes": {"hazard_id": "H2", "due_at": due}}),
        ("hazard", "rectified", at + timedelta(days=9), {"attributes": {"hazard_id": "H2"}}),
        ("hazard", "found", at, {"attributes": {"hazard_id": "H3", "due_at": due}}),
        ("enforcement", "warning_issued", at, {"attributes": {}}),
        ("enforcement", "warning_issued", at, {"attributes": {}}),
        ("enforcement", "penalty_issued", at, {"attributes": {"amount_yuan": 500}}),
        ("outreach", "publicity_session", at, {"attributes": {"topic": "消防", "audience": 60}}),
        ("outreach", "publicity_session", at, {"attributes": {"topic": "反诈", "audience": 45}}),
        ("petition", "received", at, {"attributes": {"petition_id": "X1", "channel": "online"}}),
        ("petition", "received", at, {"attributes": {"petition_id": "X2", "channel": "phone"}}),
        ("petition", "replied", at, {"attributes": {"petition_id": "X1", "channel": "online"}}),
    ]


def test_the_reports_other_figures():
    f = figures_from_rows(2024, _rows())
    assert (f["hazards_found"], f["hazards_rectified"], f["hazards_rectified_on_time"]) == (3, 2, 1)
    assert f["warnings_issued"] == 2 and f["penalties"] == 1 and f["penalty_amount_yuan"] == 500
    assert f["publicity_audience"] == 105 and f["publicity_sessions"] == 2
    assert (f["petitions_received"], f["petitions_replied"], f["online_cases"]) == (2, 1, 1)
    text = report_paragraph(f)
    for phrase in ("完成整改2项（整改率66.7%），其中按期完成整改1项（按期整改率33.3%）", "责令限期整改通知书2份",
                   "受众105人次", "受理信访件2件，已答复1件", "出动执法人员", "巡查道路"):
        assert phrase in text, phrase


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert CliRunner().invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    return url


def test_a_year_without_data_writes_no_report_and_warns_in_chinese(db, tmp_path):
    res = CliRunner().invoke(app, ["export", "annual", "--year", "2023", "--db", db, "--out", str(tmp_path)])
    assert res.exit_code == 3, res.output
    assert "2023年（北京时间）没有任何可统计的事件" in res.output and "未生成年度报告" in res.output
    assert not list(tmp_path.glob("annual-*"))
    res = CliRunner().invoke(app, ["export", "annual", "--year", "2023", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    assert "警告：2023年（北京时间）没有任何可统计的事件" in res.stderr
    figures = json.loads(res.stdout)
    assert figures["year"] == 2023 and not any(v for k, v in figures.items() if k != "year")


def test_the_pdf_is_a4_and_states_the_figures(tmp_path):
    from pipeline.exports.annual_docx import write_annual_pdf

    f = figures_from_rows(2024, _rows())
    path = write_annual_pdf(f, tmp_path / "a.pdf")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert "西于庄街道2024年法治建设主要数据" in flat and "责令限期整改通知书2份" in flat and "—1—" in flat


def test_the_table_lists_every_figure():
    from pipeline.exports.annual import EXTRA, FIGURES
    from pipeline.exports.annual_docx import ORDER

    assert sorted(ORDER) == sorted({*FIGURES, *EXTRA})
