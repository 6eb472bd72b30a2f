"""Fixtures for the case tests: the multi-week scenario of casekit.py stored in SQLite."""

from __future__ import annotations

import pytest

from tests.pipeline.cases.casekit import act, at, scenario_events, store


@pytest.fixture
def url(tmp_path, engine) -> str:
    return str(engine.url)


@pytest.fixture
def scenario(engine, url, config):
    """The scenario's events stored, the P-0301 alert closed by hand on Nov 15 and its person case on Nov 16."""
    store(url, config, scenario_events(), until=at(25))
    return act(engine, config)
