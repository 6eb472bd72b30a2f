"""A simulated month (seed 3) replayed into SQLite, with some alerts acknowledged and escalated the way
the alert workflow records it, for the weekly export tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa


def acknowledge_some(engine) -> None:
    """Acknowledge every other alert 90 minutes after it was raised; escalate the first one once."""
    from pipeline.storage.models import Alert, AlertHistory

    a, h = Alert.__table__, AlertHistory.__table__
    with engine.begin() as conn:
        alerts = conn.execute(sa.select(a.c.alert_id, a.c.level, a.c.raised_at).order_by(a.c.raised_at)).all()
        for i, row in enumerate(alerts):
            if i == 0:
                conn.execute(h.insert().values(alert_id=row.alert_id, action="escalated", level=row.level,
                                               actor="clock", at=row.raised_at + timedelta(hours=4)))
            if i % 2 == 0:
                conn.execute(h.insert().values(alert_id=row.alert_id, action="acknowledged", level=row.level,
                                               actor="leader-L01", at=row.raised_at + timedelta(minutes=90)))
                conn.execute(a.update().where(a.c.alert_id == row.alert_id).values(status="acknowledged"))


def build_month_db(tmp, url: str, days: int = 28) -> str:
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.storage.db import open_database

    events = tmp / "month.jsonl"
    runner = CliRunner()
    res = runner.invoke(app, ["simulate", "--days", str(days), "--seed", "3", "--to", str(events)])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    res = runner.invoke(app, ["replay", str(events), "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    engine = open_database(url)
    acknowledge_some(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def month_db(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("month")
    return build_month_db(tmp, f"sqlite:///{tmp / 'month.db'}")
