"""The audit log is append-only and listable since a time (pipeline/audit.py, `riskwatch audit list`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline import audit
from pipeline.cli import app


def test_update_and_delete_are_refused(engine):
    audit.record(engine, "tester", "export", {"week": "2024-W45"})
    for statement in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(statement))
    [rec] = audit.list_records(engine)
    assert (rec.actor, rec.action, rec.detail) == ("tester", "export", {"week": "2024-W45"})


def test_record_joins_the_callers_transaction(engine):
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            audit.record(conn, "tester", "reveal", {"ids": ["P-1"]})
            raise RuntimeError("the work failed")
    assert audit.list_records(engine) == []


def test_list_since_and_cli(engine, tmp_path):
    now = datetime.now(UTC)
    audit.record(engine, "a", "purge", {"n": 1}, at=now - timedelta(days=10))
    audit.record(engine, "b", "export", {"n": 2}, at=now - timedelta(hours=1))
    assert [r.actor for r in audit.list_records(engine, since=now - timedelta(days=2))] == ["b"]
    assert [r.actor for r in audit.list_records(engine)] == ["a", "b"]
    url = str(engine.url)
    out = CliRunner().invoke(app, ["audit", "list", "--since", "2d", "--json", "--db", url])
    assert out.exit_code == 0, out.output
    lines = [orjson.loads(x) for x in out.stdout.splitlines()]
    assert [(x["actor"], x["action"], x["detail"]) for x in lines] == [("b", "export", {"n": 2})]
    since = (now - timedelta(days=30)).date().isoformat()
    out = CliRunner().invoke(app, ["audit", "list", "--since", since, "--db", url])
    assert out.exit_code == 0 and "清理过期数据" in out.stdout and "导出报表" in out.stdout
    bad = CliRunner().invoke(app, ["audit", "list", "--since", "yesterday", "--db", url])
    assert bad.exit_code == 2 and "--since" in bad.output
