"""docs/contract.md §7 yearly statistics on a generated year with known totals, Asia/Shanghai year boundaries."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.exports.annual import EXTRA
from tests.pipeline.exports.yeargen import KEYS, YearGen


@pytest.fixture(scope="module")
def year_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("year")
    gen = YearGen().build()
    gen.write(tmp / "year.jsonl")
    url = f"sqlite:///{tmp / 'year.db'}"
    assert CliRunner().invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    res = CliRunner().invoke(app, ["replay", str(tmp / "year.jsonl"), "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    summary = orjson.loads(res.stdout.splitlines()[-1])
    assert summary["rejected"] == 0 and summary["accepted"] == len(gen.lines)
    return gen, url, tmp


@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_every_key_matches_the_construction(year_db, year):
    gen, url, _ = year_db
    res = CliRunner().invoke(app, ["export", "annual", "--year", str(year), "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    # exactly the contract's keys (docs/contract.md §7), so the object compares whole
    assert orjson.loads(res.stdout) == gen.figures(year)
    res = CliRunner().invoke(app, ["export", "annual", "--year", str(year), "--db", url, "--json", "--extended"])
    got = orjson.loads(res.stdout)
    assert set(got) == {"year", *KEYS, *EXTRA}       # the report's other figures under new keys
    assert {k: got[k] for k in ("year", *KEYS)} == gen.figures(year)


def test_the_year_boundary_is_shanghai_time(year_db):
    from pipeline.exports.annual import annual_figures
    from pipeline.storage.db import open_database

    gen, url, _ = year_db
    engine = open_database(url)
    try:
        shanghai = annual_figures(engine, 2025, "Asia/Shanghai")
        utc = annual_figures(engine, 2025, "UTC")
    finally:
        engine.dispose()
    assert shanghai["disputes_found"] == 1 and shanghai["patrol_personnel"] > 0
    # in UTC the 2025-01-01T00:10+08:00 events fall in 2024: nothing of 2025 is left
    assert utc["disputes_found"] == 0 and utc["patrol_personnel"] == 0 and utc["tasks_completed"] == 0


def test_report_section_docx(year_db):
    import docx

    gen, url, tmp = year_db
    res = CliRunner().invoke(app, ["export", "annual", "--year", "2024", "--db", url, "--out", str(tmp / "out")])
    assert res.exit_code == 0, res.output
    docx_path, pdf_path = res.stdout.split()
    assert docx_path.endswith(".docx") and pdf_path.endswith(".pdf")
    document = docx.Document(docx_path)
    text = "\n".join(p.text for p in document.paragraphs)
    f = gen.figures(2024)
    assert "法治建设主要数据" in text
    assert f"摸排矛盾纠纷{f['disputes_found']}件" in text
    assert f"已化解{f['disputes_resolved']}件" in text
    assert f"线上平台收件{f['online_cases']}件" in text
    assert f"发现事故隐患{f['hazards_found']}项" in text and f"按期完成整改{f['hazards_rectified_on_time']}项" in text
    assert f"出动执法人员{f['patrol_personnel']}人次" in text and f"处罚金额{f['penalty_amount_yuan']}元" in text
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows[1:]}
    assert cells["宣讲相关法律法规"] == str(f["publicity_sessions"]) and len(cells) == len(KEYS) + len(EXTRA)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)     # A4


def test_bad_year_is_refused():
    res = CliRunner().invoke(app, ["export", "annual", "--year", "99", "--db", "sqlite://", "--json"])
    assert res.exit_code == 2 and "--year" in res.output
