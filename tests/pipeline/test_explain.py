"""`riskwatch explain` on the stored week: reads the database at once, finds an entity by its bare id,
says so when nothing matches, honours --until, and keeps the history that decayed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explain")
    events = tmp / "week.jsonl"
    assert runner.invoke(app, ["simulate", "--days", "7", "--seed", "5", "--to", str(events)]).exit_code == 0
    url = f"sqlite:///{tmp / 'week.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["replay", str(events), "--db", url]).exit_code == 0
    return url, events


def test_finds_p0101_by_its_id_from_the_database_quickly(week):
    url, _ = week
    start = time.perf_counter()
    out = runner.invoke(app, ["explain", "P-0101", "--db", url])
    elapsed = time.perf_counter() - start
    assert out.exit_code == 0, out.output
    assert "重点人员 P-0101" in out.stdout and "风险分值" in out.stdout and "person:P-0101" not in out.stdout
    assert elapsed < 1.0, elapsed


def test_nothing_matches_is_said(week):
    url, _ = week
    out = runner.invoke(app, ["explain", "P-9999", "--db", url])
    assert out.exit_code == 3 and "没有找到风险对象“P-9999”" in out.output


def test_until_gives_the_state_on_that_day_and_keeps_decayed_history(week):
    url, _ = week
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        # a place whose smoke or charging alarm fired on the first day only
        first = conn.execute(sa.text("SELECT min(fired_at) FROM contributions")).scalar()
        ref = conn.execute(sa.text(
            "SELECT entity FROM contributions WHERE entity LIKE 'location:%' GROUP BY entity "
            "HAVING max(fired_at) < :cut ORDER BY count(*) DESC LIMIT 1"),
            {"cut": str(datetime.fromisoformat(str(first)) .replace(hour=23))}).scalar()
    engine.dispose()
    assert ref is not None
    late = runner.invoke(app, ["explain", ref, "--db", url, "--until", "2024-12-31T00:00:00+08:00"])
    assert late.exit_code == 0, late.output
    assert "曾于" in late.stdout and "目前没有仍在计分的原因" in late.stdout
    early = runner.invoke(app, ["explain", ref, "--db", url, "--until",
                                datetime.fromisoformat(str(first)).replace(tzinfo=UTC, hour=23).isoformat()])
    assert early.exit_code == 0 and "风险分值构成" in early.stdout


def test_a_file_is_replayed_as_before(week):
    _, events = week
    out = runner.invoke(app, ["explain", "person:P-0101", str(events)])
    assert out.exit_code == 0, out.output
    assert "重点人员 P-0101" in out.stdout
