"""Fixtures for the alert page tests: a migrated SQLite database with three alerts and the
evidence event behind one, the app with the pages mounted, a fake clock."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():  # starlette announces a future move of its TestClient to another HTTP client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.pipeline.web.pagekit import BASE, SECRET, kit


@pytest.fixture
def clock():
    return kit.FakeClock(kit.T0 + timedelta(minutes=20))


@pytest.fixture
def world(engine):
    """a1: location:HD-1-1203 (building 1, floor 12) assigned to L01 (chain L05, L10), with the
    smoke alarm behind it; a2: building 2's L02; a3: a critical alert of L01 in building 1."""
    from pipeline.storage.models import Event

    kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
    kit.raise_alert(engine, "a2", "location:HD-2-0301", "L02", kit.T0, building="2")
    kit.raise_alert(engine, "a3", "location:HD-1-0702", "L01", kit.T0 - timedelta(hours=2), level="critical",
                    points=95.0)
    doc = {"event_id": "ev-a1-raised", "kind": "monitoring", "type": "smoke_alarm",
           "occurred_at": "2024-11-05T09:30:00+08:00", "source": "sensor-gw",
           "location": {"id": "HD-1-1203", "building": "1", "floor": 12, "unit": "1203"},
           "text": "室内烟感报警，物业已到场核查。"}
    with engine.begin() as conn:
        conn.execute(sa.insert(Event.__table__).values(
            event_id=doc["event_id"], kind="monitoring", type="smoke_alarm", occurred_at=kit.T0,
            source="sensor-gw", building="1", location_id="HD-1-1203", doc=doc))
    return engine


@pytest.fixture
def site(world, config, clock):
    """(client, pages) over `world`: the API app with the pages mounted."""
    from pipeline.api.app import create_app
    from pipeline.web.links import Keys
    from pipeline.web.pages import mount

    app = create_app(world, config.assignments, clock)
    pages = mount(app, config, Keys.from_secret(SECRET), public_url=BASE)
    return TestClient(app), pages
