"""`export weekly --reveal`: names beside pseudonymous ids only with an analyst/admin token and a purpose;
a refusal writes no file and no audit record; a reveal is audited with who, why and which ids."""

from __future__ import annotations

import os
import shutil
import stat

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.pipeline.exports.weekly_checks import WEEK

PURPOSE = "风险研判会议核实重点人员身份"


@pytest.fixture
def db(month_db, tmp_path, monkeypatch):
    """A copy of the month with a registry of two persons who appear in it, and tokens."""
    from pipeline.auth import create_token
    from pipeline.persons.keys import KEYS_ENV, new_key
    from pipeline.persons.registry import store
    from pipeline.storage.db import open_database

    src = month_db.removeprefix("sqlite:///")
    shutil.copy(src, tmp_path / "copy.db")
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv(KEYS_ENV, new_key())
    engine = open_database(url)
    store(engine, "tester", {"P-0101": {"name": "李秀兰", "phone": "13987654321"},
                             "P-0111": {"name": "赵志强", "phone": "13700001111"}})
    tokens = {role: create_token(engine, f"{role}-1", role) for role in ("viewer", "analyst")}
    engine.dispose()
    return url, tokens


def _audit_count(url) -> int:
    from pipeline.audit import list_records
    from pipeline.storage.db import open_database

    engine = open_database(url)
    try:
        return len(list_records(engine))
    finally:
        engine.dispose()


@pytest.mark.parametrize("who, purpose", [(None, PURPOSE), ("analyst", None), ("analyst", "看"),
                                          ("viewer", PURPOSE), ("forged", PURPOSE)])
def test_refused_reveal_writes_nothing(db, tmp_path, monkeypatch, who, purpose):
    url, tokens = db
    monkeypatch.delenv("RISKWATCH_TOKEN", raising=False)
    args = ["export", "weekly", "--week", WEEK, "--db", url, "--out", str(tmp_path / "out"), "--reveal"]
    if who:
        args += ["--token", tokens.get(who, "rw_forged")]
    if purpose:
        args += ["--purpose", purpose]
    before = _audit_count(url)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 4, res.output  # NotPermitted
    assert not (tmp_path / "out").exists()
    assert _audit_count(url) == before


def test_reveal_shows_names_and_is_audited(db, tmp_path):
    from pipeline.audit import list_records
    from pipeline.storage.db import open_database

    url, tokens = db
    res = CliRunner().invoke(app, ["export", "weekly", "--week", WEEK, "--db", url, "--out", str(tmp_path),
                                   "--format", "xlsx", "--reveal", "--token", tokens["analyst"], "--purpose", PURPOSE])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / f"weekly-review-{WEEK}-revealed.xlsx")
    key = wb["重点风险对象"]
    header = [c.value for c in key[2]]
    assert header[-2:] == ["姓名", "联系电话"]
    rows = {r[1]: r for r in key.iter_rows(min_row=3, values_only=True)}
    assert rows["重点人员 P-0101"][-2:] == ("李秀兰", "13987654321")
    parties = [r[4] for r in wb["矛盾纠纷"].iter_rows(min_row=3, values_only=True)]
    assert any("P-0101（李秀兰）" in p for p in parties)
    engine = open_database(url)
    try:
        reveal = list_records(engine, action="reveal")[-1]
        export = list_records(engine, action="export")[-1]
    finally:
        engine.dispose()
    assert reveal.actor == "analyst-1" and reveal.detail["purpose"] == PURPOSE
    assert "P-0101" in reveal.detail["ids"] and reveal.detail["context"] == f"export weekly {WEEK}"
    assert export.actor == "analyst-1" and export.detail["revealed"] is True


def test_default_export_shows_no_names(month_db, tmp_path):
    res = CliRunner().invoke(app, ["export", "weekly", "--week", WEEK, "--db", month_db, "--out", str(tmp_path),
                                   "--format", "xlsx"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / f"weekly-review-{WEEK}.xlsx")
    assert "姓名" not in [c.value for c in wb["重点风险对象"][2]]
    assert any(str(r[1]).startswith("重点人员 P-") for r in wb["重点风险对象"].iter_rows(min_row=3, values_only=True))


def test_revealed_export_is_readable_by_its_owner_only(db, tmp_path):
    url, tokens = db
    old = os.umask(0o022)
    try:
        res = CliRunner().invoke(app, ["export", "weekly", "--week", WEEK, "--db", url, "--out", str(tmp_path),
                                       "--format", "xlsx", "--reveal", "--token", tokens["analyst"],
                                       "--purpose", PURPOSE])
        plain = CliRunner().invoke(app, ["export", "weekly", "--week", WEEK, "--db", url,
                                         "--out", str(tmp_path), "--format", "xlsx"])
    finally:
        os.umask(old)
    assert res.exit_code == 0 and plain.exit_code == 0, res.output + plain.output
    assert stat.S_IMODE((tmp_path / f"weekly-review-{WEEK}-revealed.xlsx").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / f"weekly-review-{WEEK}.xlsx").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left
