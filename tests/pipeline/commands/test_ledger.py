"""`riskwatch import ledger|template`: the report on stdout, exit 2 for a refused file, the errors workbook."""

from __future__ import annotations

import io

import orjson
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.storage.models import Event
from tests.pipeline.ledgers.ledgerkit import csv_bytes

runner = CliRunner()
HEADER = ["编号", "受理日期", "渠道", "答复日期"]


@pytest.fixture
def db(engine, monkeypatch) -> str:
    from pipeline.persons.keys import KEYS_ENV, new_key

    monkeypatch.setenv(KEYS_ENV, new_key())
    return str(engine.url)


def _events(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(Event.__table__)).scalar_one()
    finally:
        engine.dispose()


def test_json_report_and_a_second_import_adding_nothing(db, tmp_path):
    path = tmp_path / "信访.csv"
    path.write_bytes(csv_bytes([["信访及网上平台件"], HEADER, ["XF-1", "2024-01-02", "网上平台", "2024-01-05"],
                                ["XF-2", "2024-01-03", "来访", ""]], "gb18030"))
    first = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db, "--json"])
    assert first.exit_code == 0, first.output
    assert orjson.loads(first.stdout) == {"rows": 2, "events": 3, "new": 3, "existing": 0, "skipped": 0, "errors": []}
    again = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db])
    assert again.exit_code == 0 and "新增 0 条" in again.stdout and "已存在 3 条" in again.stdout
    assert _events(db) == 3


BAD = [HEADER, ["XF-1", "2024-01-02", "网上平台", ""], ["XF-2", "2024-01-32", "网上平台", ""], ["XF-3", "2024-01-03", "飞鸽", ""]]


def test_a_bad_file_is_refused_with_every_error_and_exit_2(db, tmp_path):
    path = tmp_path / "信访.csv"
    path.write_bytes(csv_bytes(BAD))
    result = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db, "--json"])
    assert result.exit_code == 2
    report = orjson.loads(result.stdout)
    assert report["errors"] == [
        {"sheet": "信访.csv", "row": 3, "column": "受理日期", "reason": "不存在的日期或时间“2024-01-32”"},
        {"sheet": "信访.csv", "row": 4, "column": "渠道", "reason": report["errors"][1]["reason"]},
    ]
    assert "无法识别的取值" in report["errors"][1]["reason"] and report["new"] == 0
    assert "未导入任何数据" in result.stderr
    text = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db])
    assert text.exit_code == 2 and "第3行【受理日期】" in text.stdout and "第4行【渠道】" in text.stdout
    assert _events(db) == 0 and not (tmp_path / "信访.errors.xlsx").exists()


def test_skip_bad_imports_the_rest_and_writes_the_errors_workbook(db, tmp_path):
    path = tmp_path / "信访.csv"
    path.write_bytes(csv_bytes(BAD))
    result = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db, "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert _events(db) == 1
    rows = list(load_workbook(io.BytesIO((tmp_path / "信访.errors.xlsx").read_bytes())).active.values)  # type: ignore[union-attr]
    assert [r[1] for r in rows[1:]] == [3, 4] and rows[1][3] == "XF-2"


def test_dry_run_writes_nothing(db, tmp_path):
    path = tmp_path / "信访.csv"
    path.write_bytes(csv_bytes(BAD))
    result = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db, "--dry-run",
                                 "--skip-bad"])
    assert result.exit_code == 0 and "试运行" in result.stdout
    assert _events(db) == 0 and not (tmp_path / "信访.errors.xlsx").exists()


def test_refusals_of_the_command_line(db, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(BAD))
    both = runner.invoke(app, ["import", "ledger", str(path), "--kind", "petitions", "--db", db, "--to-kafka"])
    assert both.exit_code == 2 and "只能选一个" in both.stderr
    kind = runner.invoke(app, ["import", "ledger", str(path), "--kind", "parking", "--db", db])
    assert kind.exit_code == 2 and "disputes" in kind.stderr
    missing = runner.invoke(app, ["import", "ledger", str(tmp_path / "none.xlsx"), "--kind", "tasks", "--db", db])
    assert missing.exit_code == 2 and "找不到文件" in missing.stderr


def test_template_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["import", "template", "--kind", "hazards"])
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "安全隐患排查整改台账.xlsx")
    assert [c.value for c in book.active[3]][:3] == ["编号", "发现日期", "整改期限"]  # type: ignore[index]
