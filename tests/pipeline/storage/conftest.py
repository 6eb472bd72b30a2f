"""Fixtures for the storage unit tests (SQLite, fast)."""

from __future__ import annotations

import pytest

from tests.pipeline.storage.storage_testkit import write_events


@pytest.fixture(scope="session")
def events_file(tmp_path_factory):
    """Three simulated days (seed 3) with malformed lines and duplicates."""
    return write_events(tmp_path_factory.mktemp("events") / "events.jsonl", days=3, seed=3)


@pytest.fixture(scope="session")
def replayed(events_file, config):
    from pipeline.replay import read_lines, replay

    return replay(read_lines(events_file), config, keep_events=True)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'riskwatch.db'}"
