"""Exports and safeguards against the real PostgreSQL: the weekly review (xlsx + PDF) checked against
SQL, docs/contract.md §7 on a generated year, the append-only audit log (triggers), an audited reveal.

One database per session (rw_export_<uuid>), dropped afterwards.
"""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app
from tests.integration import pgkit
from tests.pipeline.exports import conftest as export_conftest
from tests.pipeline.exports import weekly_checks, yeargen

pytestmark = pytest.mark.integration



@pytest.fixture(scope="module")
def export_db(pg_url, tmp_path_factory):
    with pgkit.scratch_database(pg_url, "export") as url:
        export_conftest.build_month_db(tmp_path_factory.mktemp("pgmonth"), url, days=14)
        yield url



def test_weekly_export_against_sql(export_db, tmp_path):
    from pipeline.storage.db import open_database

    checks = weekly_checks
    res = CliRunner().invoke(app, ["export", "weekly", "--week", checks.WEEK, "--db", export_db, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    engine = open_database(export_db)
    try:
        exp = checks.expected(engine, checks.WEEK)
    finally:
        engine.dispose()
    assert exp["events"] > 10_000 and exp["alerts"] > 0 and exp["key_entities"] > 0
    checks.check_workbook(tmp_path / f"weekly-review-{checks.WEEK}.xlsx", exp)
    checks.check_pdf(tmp_path / f"weekly-review-{checks.WEEK}.pdf", exp)


def test_annual_figures_on_a_generated_year(pg_url, tmp_path):
    gen = yeargen.YearGen(seed=23).build()
    gen.write(tmp_path / "year.jsonl")
    runner = CliRunner()
    with pgkit.scratch_database(pg_url, "export") as url:
        assert runner.invoke(app, ["replay", str(tmp_path / "year.jsonl"), "--db", url]).exit_code == 0
        for year in (2023, 2024, 2025):
            res = runner.invoke(app, ["export", "annual", "--year", str(year), "--db", url, "--json"])
            assert res.exit_code == 0, res.output
            assert orjson.loads(res.stdout) == gen.figures(year)     # exactly the contract's keys (and year)


def test_audit_log_is_append_only(export_db):
    from pipeline import audit
    from pipeline.storage.db import open_database

    engine = open_database(export_db)
    try:
        audit.record(engine, "tester", "export", {"n": 1})
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(sa.text(statement))
        assert any(r.actor == "tester" for r in audit.list_records(engine))
    finally:
        engine.dispose()


def test_reveal_is_audited_and_encrypted(export_db, monkeypatch):
    from pipeline.audit import list_records
    from pipeline.auth import AccessDenied, create_token
    from pipeline.persons import registry
    from pipeline.persons.keys import KEYS_ENV, new_key
    from pipeline.storage.db import open_database

    monkeypatch.setenv(KEYS_ENV, new_key())
    engine = open_database(export_db)
    try:
        registry.store(engine, "tester", {"P-0101": {"name": "李秀兰", "phone": "13987654321"}})
        with engine.connect() as conn:
            blob = conn.execute(sa.text("SELECT ciphertext FROM person_registry")).scalar_one()
        assert "李秀兰".encode() not in bytes(blob) and b"13987654321" not in bytes(blob)
        token = create_token(engine, "analyst-pg", "analyst")
        before = len(list_records(engine, action="reveal"))
        with pytest.raises(AccessDenied):
            registry.reveal(engine, token, ["P-0101"], None, context="test")
        assert len(list_records(engine, action="reveal")) == before
        found = registry.reveal(engine, token, ["P-0101"], "核实纠纷当事人身份", context="test")
        assert found["P-0101"].name == "李秀兰"
        assert list_records(engine, action="reveal")[-1].actor == "analyst-pg"
    finally:
        engine.dispose()
