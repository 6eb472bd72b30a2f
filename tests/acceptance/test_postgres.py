"""The §6, §7, §8 and §10 acceptance scenarios on PostgreSQL (scratch databases): the same answers as on SQLite,
and replaying a file twice into one database leaves the same rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.acceptance import meeting_scenario as ms
from tests.acceptance.kit import cli, sqlite_db
from tests.acceptance.test_ledgers_annual import ANNUAL_KEYS, FIGURES_2024, LEDGERS, write
from tests.integration import pgkit

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[str]:
    with pgkit.scratch_database(pg_url, "acceptance") as url, pgkit.server_lock():
        yield url


def counts(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: sorted(tuple(map(str, r)) for r in conn.execute(sa.text(q))) for t, q in {
                "events": "SELECT event_id, occurred_at FROM events",
                "contributions": "SELECT entity, rule, fired_at, round(points::numeric, 6) FROM contributions",
                "alerts": "SELECT alert_id, entity, level, assignee, raised_at FROM alerts",
                "rejections": "SELECT reason FROM rejections",
            }.items()}
    finally:
        engine.dispose()


def test_meeting_brief_on_postgresql_equals_sqlite(pg_db: str, tmp_path: Path) -> None:
    events, rules = ms.write(tmp_path)
    (tmp_path / "bad.jsonl").write_text(events.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    briefs = []
    for db in (pg_db, sqlite_db(tmp_path)):
        for _ in range(2):  # the same file twice: the same rows
            run = cli("replay", tmp_path / "bad.jsonl", "--rules", rules, "--db", db, "--until", "2024-11-26T00:00:00+08:00")
            assert run.code == 0, run.stderr
        for case, owner, due, week in ms.DECISIONS:
            assert cli("decisions", "add", "--case", case, "--text", "x", "--owner", owner, "--due", due, "--week", week,
                       "--db", db).code == 0
        run = cli("meeting", "brief", "--week", "2024-W47", "--db", db, "--json")
        assert run.code == 0, run.stderr
        briefs.append(json.loads(run.stdout))
    assert briefs[0] == briefs[1]
    once = counts(pg_db)
    assert len(once["rejections"]) == 1 and len(once["events"]) == len(ms.EVENTS)
    assert cli("replay", tmp_path / "bad.jsonl", "--rules", rules, "--db", pg_db,
               "--until", "2024-11-26T00:00:00+08:00").code == 0
    assert counts(pg_db) == once


def test_a_year_of_ledgers_on_postgresql(pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_REGISTRY_KEYS", cli("persons", "keygen").stdout.strip().splitlines()[-1])
    for kind in LEDGERS:
        run = cli("import", "ledger", write(tmp_path, kind), "--kind", kind, "--db", pg_db, "--json")
        assert run.code == 0, run.stdout + run.stderr
    figures = json.loads(cli("export", "annual", "--year", "2024", "--db", pg_db, "--json").stdout)
    assert {k: figures[k] for k in ANNUAL_KEYS} == FIGURES_2024
