"""A year of the eight ledgers, messy as offices keep them, imported into PostgreSQL through the CLI:
`export annual --json` gives the figures counted by hand from the ledgers; importing again adds
nothing; a bad file is refused with every error listed and nothing imported (docs/contract.md §7, §10)."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.exports.annual import EXTRA
from tests.integration import pgkit
from tests.integration.ledger_year import LedgerYear
from tests.pipeline.ledgers.ledgerkit import xlsx

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture
def keys(monkeypatch):
    from pipeline.persons.keys import KEYS_ENV, new_key

    monkeypatch.setenv(KEYS_ENV, new_key())


def _import(path, kind: str, url: str, *extra: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["import", "ledger", str(path), "--kind", kind, "--db", url, "--json", *extra])
    return result.exit_code, orjson.loads(result.stdout) if result.stdout.strip() else {"output": result.output}


def _scalar(url: str, sql: str):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


def _texts(url: str, sql: str) -> str:
    """The JSON documents of a query, non-ASCII characters unescaped (so a name would show)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return " ".join(orjson.dumps(doc).decode() for doc in conn.execute(sa.text(sql)).scalars())
    finally:
        engine.dispose()


def test_a_year_of_ledgers_gives_the_hand_counted_annual_figures(pg_url, tmp_path, keys):
    year = LedgerYear(seed=7).build()
    files = year.files()
    with pgkit.scratch_database(pg_url, "ledgers") as url:
        for kind, (name, data) in files.items():
            (tmp_path / name).write_bytes(data)
            code, report = _import(tmp_path / name, kind, url)
            assert code == 0 and report["errors"] == [], (kind, report["errors"][:5])
            assert report["rows"] == len(year.ledgers[kind].rows) and report["new"] == report["events"] > 0, kind
        for y in (2023, 2024, 2025):
            res = runner.invoke(app, ["export", "annual", "--year", str(y), "--db", url, "--json", "--extended"])
            assert res.exit_code == 0, res.output
            assert orjson.loads(res.stdout) == year.figures(y), y
            res = runner.invoke(app, ["export", "annual", "--year", str(y), "--db", url, "--json"])
            assert res.exit_code == 0, res.output
            assert orjson.loads(res.stdout) == {k: v for k, v in year.figures(y).items() if k not in EXTRA}, y
        assert year.figures(2024)["disputes_found"] > 90 and year.figures(2024)["hazards_rectified_on_time"] > 0
        events = _scalar(url, "SELECT count(*) FROM events")
        for kind, (name, _) in files.items():
            code, report = _import(tmp_path / name, kind, url)
            assert code == 0 and report["new"] == 0 and report["existing"] == report["events"], kind
        assert _scalar(url, "SELECT count(*) FROM events") == events
        stored = _texts(url, "SELECT doc FROM events") + _texts(url, "SELECT detail FROM audit_log")
        assert [n for n in year.names() if n in stored] == []


def test_a_bad_file_is_refused_with_every_error_and_nothing_imported(pg_url, tmp_path, keys):
    header = ["编号", "发现日期", "整改期限", "隐患类别", "楼栋", "整改完成日期"]
    rows = [["YH-1", "2024-05-01", "2024-05-03", "消防", "1号楼", "2024-05-02"],
            ["YH-2", "2024-05-01", "下周", "消防", "1号楼", ""],
            ["YH-3", "2024/02/30", "2024-05-03", "消防", "7号楼", ""],
            ["YH-1", "2024-05-04", "2024-05-06", "用电", "2", "2024-05-01"],
            ["YH-5", "2099-01-01", "2099-01-03", "消防", "2", ""]]
    path = tmp_path / "隐患.xlsx"
    path.write_bytes(xlsx([header, *rows], title="安全隐患排查整改台账", before=[["单位：项"]]))
    with pgkit.scratch_database(pg_url, "ledgers_bad") as url:
        code, report = _import(path, "hazards", url)
        assert code == 2
        assert [(e["sheet"], e["row"], e["column"]) for e in report["errors"]] == [
            ("台账", 5, "整改期限"), ("台账", 6, "发现日期"), ("台账", 6, "楼栋"), ("台账", 7, "编号"),
            ("台账", 7, "整改完成日期"), ("台账", 8, "发现日期")]
        assert report["skipped"] == 4 and report["new"] == 0
        assert _scalar(url, "SELECT count(*) FROM events") == 0
        assert _scalar(url, "SELECT count(*) FROM person_registry") == 0
