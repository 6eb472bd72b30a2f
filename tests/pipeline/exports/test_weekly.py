"""The weekly review on a simulated month (SQLite): every sheet's headers and rows against SQL, the PDF's
Chinese headings and figures, the audit record, and the command's refusals."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.pipeline.exports.weekly_checks import WEEK, check_pdf, check_workbook, expected


@pytest.fixture(scope="module")
def exported(month_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("weekly")
    res = CliRunner().invoke(app, ["export", "weekly", "--week", WEEK, "--db", month_db, "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.stdout.split()


@pytest.fixture(scope="module")
def exp(month_db):
    from pipeline.storage.db import open_database

    engine = open_database(month_db)
    try:
        return expected(engine, WEEK)
    finally:
        engine.dispose()


def test_the_data_is_not_trivial(exp):
    assert exp["events"] > 10_000 and exp["alerts"] >= 3 and exp["key_entities"] >= 5
    assert exp["hazards"] >= 5 and exp["disputes"] >= 5


def test_workbook_sheets_headers_rows(exported, exp):
    out, files = exported
    assert [f.rsplit("/", 1)[-1] for f in files] == [f"weekly-review-{WEEK}.xlsx", f"weekly-review-{WEEK}.pdf"]
    wb = check_workbook(out / f"weekly-review-{WEEK}.xlsx", exp)
    alerts = list(wb["新增预警及响应"].iter_rows(min_row=3, values_only=True))
    acked = [r for r in alerts if r[7] == "已确认"]
    assert acked and all(r[9] == 1.5 for r in acked)          # acknowledged 90 minutes after raising
    assert alerts[0][10] == 1                                  # the first alert escalated once
    assert all(r[8] is None and r[9] is None for r in alerts if r[7] == "待确认")


def test_pdf_brief(exported, exp):
    out, _ = exported
    text = check_pdf(out / f"weekly-review-{WEEK}.pdf", exp)
    assert "重大" in text and "化名编号" in text


def test_export_is_audited(exported, month_db):
    from pipeline.audit import list_records
    from pipeline.storage.db import open_database

    engine = open_database(month_db)
    try:
        records = [r for r in list_records(engine, action="export") if r.detail.get("week") == WEEK]
    finally:
        engine.dispose()
    assert records and records[-1].detail["files"] == [f"weekly-review-{WEEK}.xlsx", f"weekly-review-{WEEK}.pdf"]
    assert records[-1].detail["revealed"] is False


@pytest.mark.parametrize("args, message", [
    (["--week", "2024-45"], "--week"),
    (["--week", "2024-W54"], "no such week"),
    (["--week", WEEK, "--format", "xlsx,docx"], "--format"),
])
def test_bad_requests(month_db, tmp_path, args, message):
    res = CliRunner().invoke(app, ["export", "weekly", *args, "--db", month_db, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and message in res.output
    assert not (tmp_path / "o").exists()


def test_an_empty_week_still_has_every_sheet(month_db, tmp_path):
    import openpyxl

    res = CliRunner().invoke(app, ["export", "weekly", "--week", "2023-W10", "--db", month_db, "--out", str(tmp_path),
                                   "--format", "xlsx"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "weekly-review-2023-W10.xlsx")
    assert wb["新增预警及响应"].max_row == 2 and wb["巡查覆盖"]["G3"].value is None
