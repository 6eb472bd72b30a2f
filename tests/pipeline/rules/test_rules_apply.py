"""`riskwatch rules apply`: validation (guardrails), diff, what-if replay of stored events, audited change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import DEFAULT_CONFIG_DIR


@pytest.fixture(scope="module")
def week_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apply")
    events = tmp / "week.jsonl"
    runner = CliRunner()
    assert runner.invoke(app, ["simulate", "--days", "7", "--seed", "5", "--to", str(events)]).exit_code == 0
    url = f"sqlite:///{tmp / 'week.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["replay", str(events), "--db", url]).exit_code == 0
    return tmp / "week.db"


@pytest.fixture
def setup(week_db, tmp_path):
    shutil.copy(week_db, tmp_path / "db.sqlite")
    cfg = tmp_path / "config"
    cfg.mkdir()
    shutil.copy(DEFAULT_CONFIG_DIR / "rules.yaml", cfg / "rules.yaml")
    return f"sqlite:///{tmp_path / 'db.sqlite'}", cfg


def _rules(edit) -> dict:
    data = yaml.safe_load((DEFAULT_CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8"))
    edit(data)
    return data


def _write(tmp_path, data) -> str:
    path = tmp_path / "new_rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def _audit(url):
    from pipeline.audit import list_records
    from pipeline.storage.db import open_database

    engine = open_database(url)
    try:
        return list_records(engine, action="rules_apply")
    finally:
        engine.dispose()


def _rule(data, rid):
    return next(r for r in data["rules"] if r["id"] == rid)


def test_guardrail_violation_is_refused_and_changes_nothing(setup, tmp_path):
    url, cfg = setup
    before = (cfg / "rules.yaml").read_bytes()
    bad = _rules(lambda d: d["rules"].append({
        "id": "petitioner", "title": "上访人员", "category": "dispute", "target": "person", "type": "match",
        "when": {"kind": "petition"}, "score": 50}))
    res = CliRunner().invoke(app, ["rules", "apply", _write(tmp_path, bad), "--config", str(cfg), "--db", url, "--yes"])
    assert res.exit_code == 2 and "petitioner" in res.output
    assert (cfg / "rules.yaml").read_bytes() == before and _audit(url) == []


def test_dry_run_shows_diff_and_what_if(setup, tmp_path):
    url, cfg = setup
    before = (cfg / "rules.yaml").read_bytes()
    new = _rules(lambda d: _rule(d, "smoke-alarm").update(score=_rule(d, "smoke-alarm")["score"] * 3))
    res = CliRunner().invoke(app, ["rules", "apply", _write(tmp_path, new), "--config", str(cfg), "--db", url, "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "~ rule smoke-alarm.score: 30 -> 90" in res.output
    assert "what-if over the last 30 days" in res.output and "dry run" in res.output
    assert (cfg / "rules.yaml").read_bytes() == before and _audit(url) == []


def test_apply_replaces_the_rules_and_audits_the_what_if(setup, tmp_path):
    from pipeline.storage.db import open_database

    url, cfg = setup
    # A rule that still scores in the simulated week (its cleared smoke alarms no longer score, so tripling
    # smoke-alarm would move no one up).
    def edit(d):
        _rule(d, "fire-exit-blocked")["score"] *= 3
        d["rules"] = [r for r in d["rules"] if r["id"] != "water-leak"]
        d["defaults"]["levels"]["critical"] = 120
    new = _rules(edit)
    path = _write(tmp_path, new)
    res = CliRunner().invoke(app, ["rules", "apply", path, "--config", str(cfg), "--db", url, "--yes"])
    assert res.exit_code == 0, res.output
    assert (cfg / "rules.yaml").read_text(encoding="utf-8") == Path(path).read_text(encoding="utf-8")
    [rec] = _audit(url)
    assert rec.detail["diff"]["removed"] == ["water-leak"]
    assert rec.detail["diff"]["changed"]["fire-exit-blocked"] == {"score": [20, 60]}
    what_if = rec.detail["what_if"]
    assert what_if["events"] > 1000 and len(what_if["changes"]) == min(50, what_if["entities_changed"]) > 0
    engine = open_database(url)
    with engine.connect() as conn:
        rescored = set(conn.execute(sa.text(
            "SELECT DISTINCT entity FROM contributions WHERE rule IN ('fire-exit-blocked', 'water-leak')")).scalars())
        levels = dict(conn.execute(sa.text("SELECT name, threshold FROM levels")).all())
    engine.dispose()
    # only entities scored by the changed rules can change level, or those the raised critical threshold
    # (90 -> 120) moves down from critical to high
    assert all(entity in rescored or (old, new_level) == ("critical", "high")
               for entity, old, new_level in what_if["changes"])
    assert any(entity in rescored and new_level != "low" and old in ("low", "medium")
               for entity, old, new_level in what_if["changes"])
    assert levels["critical"] == 120


def test_without_yes_and_no_terminal_nothing_is_applied(setup, tmp_path):
    url, cfg = setup
    new = _rules(lambda d: _rule(d, "smoke-alarm").update(title="烟感报警（新）"))
    res = CliRunner().invoke(app, ["rules", "apply", _write(tmp_path, new), "--config", str(cfg), "--db", url])
    assert res.exit_code == 2 and "--yes" in res.output
    assert "~ rule smoke-alarm.title" in res.output and "0 entities change level" in res.output
    assert _audit(url) == []
