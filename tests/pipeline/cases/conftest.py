"""Fixtures for the case tests: the multi-week scenario of casekit.py stored in SQLite."""

from __future__ import annotations

import pytest

from tests.pipeline.cases.casekit import at, scenario_events, store


@pytest.fixture
def url(tmp_path, engine) -> str:
    return str(engine.url)


@pytest.fixture
def scenario(engine, url, config):
    """The scenario's events stored, the P-0301 alert closed by hand on Nov 15 and its person case on Nov 16."""
    from pipeline.alerting.access import Principal
    from pipeline.cases.actions import close_case
    from pipeline.cases.derive import derive_cases

    store(url, config, scenario_events(), until=at(25))
    admin = Principal("cli:test", "admin")
    with engine.connect() as conn:
        cases = derive_cases(conn, config.assignments)
    alert_301 = next(c.ref for c in cases.values() if c.kind == "alert" and c.entity == "person:P-0301")
    close_case(engine, config.assignments, alert_301, admin, "已稳控", now=at(15))
    close_case(engine, config.assignments, "person:P-0301", admin, "矛盾已化解，解除重点关注", now=at(16))
    return {c.entity: c.ref for c in cases.values() if c.kind == "alert"}
